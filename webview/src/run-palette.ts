/**
 * The run palette the panel draws with: palette.ts's pick for the theme's background, kept per
 * background and count. The backgrounds of VS Code's default themes skip the pick: their
 * palettes were picked ahead of time (palette-presets.ts) — on a cold page the pick is JIT
 * warm-up more than work (13–20 ms cold in Node, ~5 ms in the webview's trace), and most
 * people keep a default theme.
 */
import { PALETTE_SIZE, parseColor, pickPalette, toHex } from './palette.ts';
import { PRESET_PALETTES } from './palette-presets.ts';

const cache = new Map<string, string[]>();

/**
 * `n` colours (`#rrggbb`) for runs drawn on `background` (a CSS colour; unreadable → dark):
 * `pickPalette`'s, from `presets` when they hold the background (tests pass their own).
 */
export function runPalette(background: string, n = PALETTE_SIZE, presets: Readonly<Record<string, readonly string[]>> = PRESET_PALETTES): string[] {
  const bg = parseColor(background) ?? [30, 30, 30];
  const hex = toHex(bg);
  const id = `${hex}/${n}`;
  const hit = presets === PRESET_PALETTES ? cache.get(id) : undefined;
  if (hit) return hit;
  const preset = presets[hex];
  const out = preset && Number.isInteger(n) && n >= 0 && n <= preset.length ? preset.slice(0, n) : pickPalette(bg, n);
  if (presets === PRESET_PALETTES) cache.set(id, out);
  return out;
}
