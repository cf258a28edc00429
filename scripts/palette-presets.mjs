// Writes webview/src/palette-presets.ts: the run palettes of VS Code's default themes'
// editor backgrounds, picked ahead of time by webview/src/palette.ts's pickPalette (the
// panel then skips the pick on its first paint). test/webview/palette.test.ts checks the
// file against a fresh pick; run this after changing the pick:
//   node scripts/palette-presets.mjs
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PALETTE_SIZE, parseColor, pickPalette } from '../webview/src/palette.ts';

/**
 * Editor backgrounds (`#rrggbb`, lower case) of VS Code's default themes: Dark Modern, Dark+,
 * the dark high-contrast theme, and white (Light Modern, Light+ and the light high-contrast theme).
 */
const PRESET_BACKGROUNDS = ['#1f1f1f', '#1e1e1e', '#000000', '#ffffff'];

const entries = PRESET_BACKGROUNDS.map((bg) => {
  const colors = pickPalette(parseColor(bg), PALETTE_SIZE);
  const lines = [];
  for (let i = 0; i < colors.length; i += 10) lines.push(`    ${colors.slice(i, i + 10).map((c) => `'${c}'`).join(', ')},`);
  return `  '${bg}': [\n${lines.join('\n')}\n  ],`;
});
const file = fileURLToPath(new URL('../webview/src/palette-presets.ts', import.meta.url));
writeFileSync(file, `/**
 * Made by scripts/palette-presets.mjs from palette.ts's pickPalette — do not edit; run
 * \`node scripts/palette-presets.mjs\` after changing the pick (palette.test.ts checks this
 * file against a fresh pick). The ${PALETTE_SIZE}-colour run palette of the editor background
 * of each of VS Code's default themes, so a panel in a default theme skips the pick.
 */
export const PRESET_PALETTES: Readonly<Record<string, readonly string[]>> = {
${entries.join('\n')}
};
`);
console.log(`wrote ${file}: ${PRESET_BACKGROUNDS.length} backgrounds`);
