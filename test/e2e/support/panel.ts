/**
 * What the compare-panel e2e suite needs beyond the workbench driver: switching VS Code's
 * colour theme as a user does (Preferences: Color Theme), finding the
 * Keel webview among the editor's frames, and reading colours and contrast as a user's
 * eye would meet them.
 */
import type { Frame, Locator } from 'playwright-core';
import { waitFor } from '../../support/keel-home.ts';
import type { Workbench } from './workbench.ts';

/** VS Code's default Modern themes, by the body class the workbench gets. */
export const Themes = {
  dark: { name: 'Default Dark Modern', workbenchClass: 'vs-dark', webviewClass: 'vscode-dark' },
  light: { name: 'Default Light Modern', workbenchClass: 'vs', webviewClass: 'vscode-light' },
} as const;
export type ThemeName = keyof typeof Themes;

/** Picks a theme the way a user does (Preferences: Color Theme) and waits until the workbench wears it. */
export async function setTheme(wb: Workbench, theme: ThemeName): Promise<void> {
  const cls = Themes[theme].workbenchClass;
  const wearing = (): Promise<boolean> => wb.page.evaluate((c) => document.querySelector('.monaco-workbench')?.classList.contains(c) === true, cls);
  if (await wearing()) return;
  await wb.runCommand('Preferences: Color Theme');
  await wb.waitQuickInput();
  // The picker lists "Dark Modern" and "Light Modern" (their settings ids carry "Default ").
  await wb.page.keyboard.type(Themes[theme].name.replace(/^Default /, ''));
  await wb.page.waitForTimeout(300);
  await wb.page.keyboard.press('Enter');
  await waitFor(wearing, 20_000, `the ${Themes[theme].name} theme`);
}

/** The Keel panel's frame: the webview frame whose document has the panel's tabs (waits for it). */
export function keelFrame(wb: Workbench, timeoutMs = 30_000): Promise<Frame> {
  return wb.webviewFrame('vscode-tabs.sections', timeoutMs);
}

/** The iframe element (in the workbench page) that hosts the active webview: its box is what the user sees. */
export async function webviewBox(wb: Workbench): Promise<{ x: number; y: number; width: number; height: number }> {
  const frames = wb.page.locator('iframe.webview.ready');
  const boxes = (await frames.evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => ({ x: r.x, y: r.y, width: r.width, height: r.height }))));
  const visible = boxes.filter((b) => b.width > 0 && b.height > 0);
  const widest = visible.sort((a, b) => b.width - a.width)[0];
  if (!widest) throw new Error('no visible webview');
  return widest;
}

/** WCAG contrast of an element's text colour against the first opaque background behind it. */
export async function contrastOf(target: Locator): Promise<{ ratio: number; color: string; background: string }> {
  return target.evaluate((el) => {
    const rgb = (s: string): number[] => (s.match(/[\d.]+/g) ?? []).map(Number);
    const lum = (c: number[]): number => {
      const [r, g, b] = c.slice(0, 3).map((v) => {
        const x = v / 255;
        return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
    };
    const color = getComputedStyle(el).color;
    let bgEl: Element | null = el;
    let background = 'rgb(0, 0, 0)';
    while (bgEl) {
      const bg = getComputedStyle(bgEl).backgroundColor;
      const parts = rgb(bg);
      if (parts.length >= 3 && (parts.length < 4 || (parts[3] ?? 0) > 0.5)) {
        background = bg;
        break;
      }
      bgEl = bgEl.parentElement;
    }
    const [l1, l2] = [lum(rgb(color)), lum(rgb(background))].sort((a, b) => b - a);
    return { ratio: ((l1 ?? 0) + 0.05) / ((l2 ?? 0) + 0.05), color, background };
  });
}

/** The webview's own marks (ms since its page started): script start, ready, init, first chart. */
export async function pageMarks(frame: Frame): Promise<Record<string, number>> {
  return frame.evaluate(() => {
    const out: Record<string, number> = {};
    for (const m of performance.getEntriesByType('mark')) if (m.name.startsWith('keel-')) out[m.name] = Math.round(m.startTime);
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    if (nav) out['dom-content-loaded'] = Math.round(nav.domContentLoadedEventEnd);
    for (const r of performance.getEntriesByType('resource') as PerformanceResourceTiming[]) {
      if (/webview\.(js|css)/.test(r.name)) out[`fetch ${r.name.split('/').pop()?.split('?')[0] ?? ''}`] = Math.round(r.responseEnd);
    }
    return out;
  });
}
