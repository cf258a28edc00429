/**
 * Colours for canvases, read from VS Code's CSS variables at runtime (a canvas cannot use
 * `var(--…)`), and read again when VS Code switches theme (it swaps the body's class).
 * Run colours are the palette (palette.ts) made for the theme's editor background.
 */
import { PALETTE_SIZE } from './palette.ts';
import { runPalette } from './run-palette.ts';

export interface ChartTheme {
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  font: string;
  /** One per palette slot: solid colours readable on `background` (palette.ts). */
  series: string[];
  error: string;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v === '' ? fallback : v;
}

/**
 * Reads the current theme's colours, with the first `colors` of the run palette (each
 * prefix of it is the same: a panel of 10 runs need not pick all 100 before its first chart).
 */
export function readTheme(colors = PALETTE_SIZE): ChartTheme {
  const s = getComputedStyle(document.body);
  const foreground = cssVar(s, '--vscode-foreground', '#cccccc');
  const background = cssVar(s, '--vscode-editor-background', '#1e1e1e');
  return {
    foreground,
    muted: cssVar(s, '--vscode-descriptionForeground', foreground),
    grid: cssVar(s, '--vscode-editorWidget-border', cssVar(s, '--vscode-panel-border', 'rgba(128,128,128,0.35)')),
    background,
    font: `${cssVar(s, '--vscode-font-size', '12px')} ${cssVar(s, '--vscode-font-family', 'sans-serif')}`,
    series: runPalette(background, Math.max(1, Math.min(colors, PALETTE_SIZE))),
    error: cssVar(s, '--vscode-errorForeground', '#f48771'),
  };
}

/** `color` at `alpha`, for faint raw curves behind smoothed ones. Handles #rgb, #rrggbb(aa) and rgb()/rgba(). */
export function withAlpha(color: string, alpha: number): string {
  const c = color.trim();
  const hex = /^#([0-9a-f]{3,8})$/i.exec(c)?.[1];
  if (hex && (hex.length === 3 || hex.length === 6 || hex.length === 8)) {
    const full = hex.length === 3 ? [...hex].map((ch) => ch + ch).join('') : hex.slice(0, 6);
    const n = parseInt(full, 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }
  const rgb = /^rgba?\(([^,]+),([^,]+),([^,)]+)/i.exec(c);
  if (rgb) return `rgba(${rgb[1]?.trim()}, ${rgb[2]?.trim()}, ${rgb[3]?.trim()}, ${alpha})`;
  return c;
}

/** Calls `onChange` when VS Code switches between light, dark and high-contrast themes. */
export function watchTheme(onChange: () => void): MutationObserver {
  let last = document.body.className;
  const obs = new MutationObserver(() => {
    if (document.body.className === last) return;
    last = document.body.className;
    onChange();
  });
  obs.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  return obs;
}

let runColorSheet: CSSStyleSheet | null = null;

/**
 * The palette as classes for the DOM (`.swatch.cN`, `.line-sample.cN`), in a constructed
 * stylesheet (the CSP allows no inline styles), replaced when the theme changes.
 */
export function applyRunColors(theme: ChartTheme): void {
  const rules = theme.series.map((c, i) => `.swatch.c${i}{background:${c}}.line-sample.c${i}{border-top-color:${c}}.legend-toggle.c${i}{--run-color:${c}}`).join('\n');
  if (!runColorSheet) {
    runColorSheet = new CSSStyleSheet();
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, runColorSheet];
  }
  runColorSheet.replaceSync(rules);
}
