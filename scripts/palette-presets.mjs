// Writes webview/src/palette-presets.ts: the run palettes of VS Code's default themes'
// editor backgrounds, picked ahead of time by webview/src/palette.ts's pickPalette (the
// panel then skips the pick on its first paint). test/webview/palette.test.ts checks the
// file against a fresh pick; run this after changing the pick:
//   node scripts/palette-presets.mjs
// (palette.ts does not import the file it makes, so a broken one never stops it.)
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PALETTE_SIZE, parseColor, pickPalette } from '../webview/src/palette.ts';

/**
 * Editor backgrounds (`#rrggbb`, lower case) of VS Code's default themes: Dark Modern, Dark+,
 * the dark high-contrast theme, and white (Light Modern, Light+ and the light high-contrast theme).
 */
const PRESET_BACKGROUNDS = ['#1f1f1f', '#1e1e1e', '#000000', '#ffffff'];

// Backgrounds whose palettes come out the same (every dark one here) share one list.
const lists = [];
const byBackground = PRESET_BACKGROUNDS.map((bg) => {
  const colors = pickPalette(parseColor(bg), PALETTE_SIZE);
  let i = lists.findIndex((l) => l.join() === colors.join());
  if (i < 0) i = lists.push(colors) - 1;
  return `  '${bg}': P${i},`;
});
const constants = lists.map((colors, i) => {
  const lines = [];
  for (let k = 0; k < colors.length; k += 10) lines.push(`  ${colors.slice(k, k + 10).map((c) => `'${c}'`).join(', ')},`);
  return `const P${i}: readonly string[] = [\n${lines.join('\n')}\n];`;
});
const file = fileURLToPath(new URL('../webview/src/palette-presets.ts', import.meta.url));
writeFileSync(file, `/**
 * Made by scripts/palette-presets.mjs from palette.ts's pickPalette — do not edit; run
 * \`node scripts/palette-presets.mjs\` after changing the pick (palette.test.ts checks this
 * file against a fresh pick). The ${PALETTE_SIZE}-colour run palette of the editor background
 * of each of VS Code's default themes, so a panel in a default theme skips the pick.
 */
${constants.join('\n')}

export const PRESET_PALETTES: Readonly<Record<string, readonly string[]>> = {
${byBackground.join('\n')}
};
`);
console.log(`wrote ${file}: ${PRESET_BACKGROUNDS.length} backgrounds, ${lists.length} distinct palettes`);
