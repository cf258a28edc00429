/**
 * Colours for canvases, read from VS Code's CSS variables at runtime (a canvas cannot use
 * `var(--…)`), and read again when VS Code switches theme (it swaps the body's class).
 */
import { ChartColors } from './format.ts';

export interface ChartTheme {
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  font: string;
  /** One per palette slot (see ChartColors). */
  series: string[];
  error: string;
}

/** Fallbacks only matter outside VS Code (it always defines these variables). */
const fallbacks: Record<(typeof ChartColors)[number], string> = {
  blue: '#3794ff', orange: '#d18616', green: '#89d185', purple: '#b180d7', red: '#f14c4c', yellow: '#cca700',
};

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v === '' ? fallback : v;
}

/** Reads the current theme's colours. */
export function readTheme(): ChartTheme {
  const s = getComputedStyle(document.body);
  const foreground = cssVar(s, '--vscode-foreground', '#cccccc');
  return {
    foreground,
    muted: cssVar(s, '--vscode-descriptionForeground', foreground),
    grid: cssVar(s, '--vscode-editorWidget-border', cssVar(s, '--vscode-panel-border', 'rgba(128,128,128,0.35)')),
    background: cssVar(s, '--vscode-editor-background', '#1e1e1e'),
    font: `${cssVar(s, '--vscode-font-size', '12px')} ${cssVar(s, '--vscode-font-family', 'sans-serif')}`,
    series: ChartColors.map((c) => cssVar(s, `--vscode-charts-${c}`, fallbacks[c])),
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
