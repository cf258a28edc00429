/**
 * Run colours for up to 100 runs: solid sRGB colours picked for the theme's background,
 * never VS Code's `charts.*` colours (some themes define those with alpha — Modern's
 * `charts.orange` is 33 % opaque — and there are only six). Candidates are an OKLCH grid;
 * those with a contrast of at least 3:1 against the background (WCAG's bar for graphics)
 * are kept, and colours are chosen one by one, each the candidate farthest (in OKLab,
 * where distance follows what people see) from every colour chosen so far. So the first
 * runs get the most distinct colours, and the 100th is still apart from the 99 before it.
 * Pure: unit-tested in palette.test.ts. The panel asks run-palette.ts, which keeps the picks
 * of VS Code's default themes made ahead of time (palette-presets.ts, made from this module).
 */

/** How many runs get a colour of their own (the panel compares at most this many). */
export const PALETTE_SIZE = 100;

/** WCAG's minimum contrast for graphics against their background. */
export const MIN_CONTRAST = 3;

export type Rgb = readonly [number, number, number];

/** `#rgb`, `#rrggbb`, `#rrggbbaa` (alpha ignored) or `rgb()/rgba()` as 0…255 channels; null when unreadable. */
export function parseColor(css: string): Rgb | null {
  const c = css.trim();
  const hex = /^#([0-9a-f]{3,8})$/i.exec(c)?.[1];
  if (hex && [3, 4, 6, 8].includes(hex.length)) {
    const full = hex.length <= 4 ? [...hex.slice(0, 3)].map((ch) => ch + ch).join('') : hex.slice(0, 6);
    const n = parseInt(full, 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  const rgb = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i.exec(c);
  if (rgb) return [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])];
  return null;
}

const linear = (v: number): number => {
  const s = v / 255;
  return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
};
/** {@link linear} of each whole channel value 0…255: the palette asks thousands of times (a pow each). */
const LINEAR = Float64Array.from({ length: 256 }, (_, v) => linear(v));
const toLinear = (v: number): number => (Number.isInteger(v) && v >= 0 && v <= 255 ? (LINEAR[v] as number) : linear(v));
const fromLinear = (v: number): number => (v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055) * 255;

/** WCAG relative luminance. */
export function luminance(c: Rgb): number {
  return 0.2126 * toLinear(c[0]) + 0.7152 * toLinear(c[1]) + 0.0722 * toLinear(c[2]);
}

/** WCAG contrast ratio, 1…21, of two relative luminances. */
function luminanceContrast(a: number, b: number): number {
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

/** WCAG contrast ratio, 1…21. */
export function contrast(a: Rgb, b: Rgb): number {
  return luminanceContrast(luminance(a), luminance(b));
}

/** sRGB → OKLab (Björn Ottosson's matrices). */
export function toOklab(c: Rgb): [number, number, number] {
  const r = toLinear(c[0]), g = toLinear(c[1]), b = toLinear(c[2]);
  const l = Math.cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b);
  const m = Math.cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
  const s = Math.cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
  return [
    0.2104542553 * l + 0.7936177850 * m - 0.0040720468 * s,
    1.9779984951 * l - 2.4285922050 * m + 0.4505937099 * s,
    0.0259040371 * l + 0.7827717662 * m - 0.8086757660 * s,
  ];
}

/** OKLCH → sRGB 0…255, or null when outside the sRGB gamut. */
function fromOklch(L: number, C: number, hDeg: number): Rgb | null {
  const h = (hDeg * Math.PI) / 180;
  const a = C * Math.cos(h), b = C * Math.sin(h);
  const l = (L + 0.3963377774 * a + 0.2158037573 * b) ** 3;
  const m = (L - 0.1055613458 * a - 0.0638541728 * b) ** 3;
  const s = (L - 0.0894841775 * a - 1.2914855480 * b) ** 3;
  const lin = [
    4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
    -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
    -0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s,
  ];
  if (lin.some((v) => v < -1e-4 || v > 1 + 1e-4)) return null;
  return lin.map((v) => Math.round(Math.min(255, Math.max(0, fromLinear(Math.min(1, Math.max(0, v))))))) as unknown as Rgb;
}

/** Distance in OKLab (about 0.02 is a just-noticeable difference side by side). */
export function oklabDistance(a: Rgb, b: Rgb): number {
  const [l1, a1, b1] = toOklab(a);
  const [l2, a2, b2] = toOklab(b);
  return Math.hypot(l1 - l2, a1 - a2, b1 - b2);
}

export const toHex = (c: Rgb): string => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/**
 * `n` colours (`#rrggbb`) for runs drawn on `bg`: the first a blue, as VS Code's first chart
 * colour; the rest as far apart as they go. run-palette.ts's runPalette is this with presets
 * and a cache.
 */
export function pickPalette(bg: Rgb, n = PALETTE_SIZE): string[] {
  const bgLum = luminance(bg);
  const dark = bgLum < 0.18;
  /** contrast(rgb, bg), with the background's luminance computed once. */
  const contrastToBg = (rgb: Rgb): number => luminanceContrast(luminance(rgb), bgLum);
  // Lightness band: the half away from the background (dark themes get light colours).
  const ls = dark ? [0.62, 0.68, 0.74, 0.8, 0.86, 0.92] : [0.36, 0.42, 0.48, 0.54, 0.6];
  const cands: { rgb: Rgb; lab: [number, number, number] }[] = [];
  for (const L of ls) {
    for (const C of [0.07, 0.11, 0.15, 0.19, 0.23]) {
      for (let hue = 0; hue < 360; hue += 5) {
        const rgb = fromOklch(L, C, hue);
        if (rgb && contrastToBg(rgb) >= MIN_CONTRAST) cands.push({ rgb, lab: toOklab(rgb) });
      }
    }
  }
  // A theme so unusual that nothing passes (a mid-grey background): take what stands out most.
  // (Against the full size, not `n`: the first k colours are the same whatever `n` asks for.)
  if (cands.length < PALETTE_SIZE) {
    for (const L of [0.05, 0.15, 0.25, 0.95, 0.99]) for (let hue = 0; hue < 360; hue += 5) for (const C of [0.02, 0.06, 0.1]) {
      const rgb = fromOklch(L, C, hue);
      if (rgb) cands.push({ rgb, lab: toOklab(rgb) });
    }
    cands.sort((a, b) => contrastToBg(b.rgb) - contrastToBg(a.rgb));
  }
  // Seed: the candidate nearest a mid blue (oklch 0.65 0.15 255).
  const seedLab = toOklab(fromOklch(dark ? 0.72 : 0.5, 0.15, 255) ?? [55, 148, 255]);
  const dist = (p: readonly number[], q: readonly number[]): number => Math.hypot((p[0] ?? 0) - (q[0] ?? 0), (p[1] ?? 0) - (q[1] ?? 0), (p[2] ?? 0) - (q[2] ?? 0));
  let pick = 0;
  cands.forEach((c, i) => { if (dist(c.lab, seedLab) < dist((cands[pick] as typeof c).lab, seedLab)) pick = i; });
  const nearest = cands.map(() => Infinity);
  const out: string[] = [];
  while (out.length < n && cands.length > 0) {
    const chosen = cands[pick];
    if (!chosen) break;
    out.push(toHex(chosen.rgb));
    let best = -1;
    cands.forEach((c, i) => {
      nearest[i] = Math.min(nearest[i] as number, dist(c.lab, chosen.lab));
      if (best < 0 || (nearest[i]) > (nearest[best] as number)) best = i;
    });
    pick = best;
  }
  return out;
}
