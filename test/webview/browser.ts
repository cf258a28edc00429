/**
 * Browser-test support: the webview bundle built into a temp dir (as scripts/build.mjs
 * builds dist/webview.js), a page served over http on 127.0.0.1 with a CSP like the real
 * panel's and a fake `acquireVsCodeApi` defined before the bundle loads, and Debian's
 * chromium driven by playwright-core.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { HostToWebview, WebviewToHost } from '../../daemon/src/protocol/webview.ts';
import { packMessage } from '../../daemon/src/protocol/series-pack.ts';
import { jsonForScript } from '../../extension/src/compare/html.ts';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const chromiumPath = '/usr/bin/chromium';
export const artifactsDir = path.join(repoRoot, '.test-artifacts', 'webview');

/** Builds `entry` (default: the webview) as a browser IIFE into a temp dir; returns the dir. */
export async function buildBundle(entry = path.join(repoRoot, 'webview', 'src', 'main.ts'), name = 'webview'): Promise<string> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'keel-webview-bundle-'));
  await esbuild.build({
    entryPoints: { [name]: entry }, bundle: true, outdir, platform: 'browser', format: 'iife', target: 'es2022',
    loader: { '.css': 'css' }, logLevel: 'warning', legalComments: 'none', absWorkingDir: repoRoot,
  });
  return outdir;
}

/** VS Code's Dark Modern and Light Modern values for the variables the panel uses. */
export const themes: Record<'dark' | 'light', Record<string, string>> = {
  dark: {
    foreground: '#cccccc', descriptionForeground: '#9d9d9d', 'editor-background': '#1f1f1f', 'editor-foreground': '#cccccc',
    focusBorder: '#0078d4', 'charts-red': '#f14c4c', 'charts-blue': '#3794ff', 'charts-green': '#89d185', 'charts-yellow': '#cca700',
    'charts-orange': '#d18616', 'charts-purple': '#b180d7', 'editorWidget-background': '#202020', 'editorWidget-border': '#454545',
    'panel-border': '#2b2b2b', 'list-hoverBackground': '#2a2d2e', 'list-inactiveSelectionBackground': '#37373d',
    'textLink-foreground': '#4daafc', 'textLink-activeForeground': '#4daafc', 'badge-background': '#616161', 'badge-foreground': '#f8f8f8',
    'button-background': '#0078d4', 'button-foreground': '#ffffff', 'button-secondaryBackground': '#313131', 'button-secondaryForeground': '#cccccc',
    'editorWarning-foreground': '#cca700', 'textBlockQuote-background': '#2b2b2b', 'inputValidation-errorBackground': '#5a1d1d',
    'inputValidation-errorBorder': '#be1100', errorForeground: '#f85149', 'gitDecoration-modifiedResourceForeground': '#e2c08d',
    'editor-selectionBackground': '#264f78', 'panelTitle-activeBorder': '#0078d4', 'panelTitle-activeForeground': '#cccccc',
    'panelTitle-inactiveForeground': '#9d9d9d', 'settings-checkboxBackground': '#313131', 'settings-checkboxBorder': '#3c3c3c',
    'settings-checkboxForeground': '#cccccc', 'settings-headerBorder': '#2b2b2b', 'panel-background': '#181818',
  },
  light: {
    foreground: '#3b3b3b', descriptionForeground: '#3b3b3b', 'editor-background': '#ffffff', 'editor-foreground': '#3b3b3b',
    focusBorder: '#005fb8', 'charts-red': '#e51400', 'charts-blue': '#1a85ff', 'charts-green': '#388a34', 'charts-yellow': '#bf8803',
    'charts-orange': '#d18616', 'charts-purple': '#652d90', 'editorWidget-background': '#f8f8f8', 'editorWidget-border': '#c8c8c8',
    'panel-border': '#e5e5e5', 'list-hoverBackground': '#f2f2f2', 'list-inactiveSelectionBackground': '#e4e6f1',
    'textLink-foreground': '#005fb8', 'textLink-activeForeground': '#005fb8', 'badge-background': '#cccccc', 'badge-foreground': '#3b3b3b',
    'button-background': '#005fb8', 'button-foreground': '#ffffff', 'button-secondaryBackground': '#e5e5e5', 'button-secondaryForeground': '#3b3b3b',
    'editorWarning-foreground': '#bf8803', 'textBlockQuote-background': '#f8f8f8', 'inputValidation-errorBackground': '#f2dede',
    'inputValidation-errorBorder': '#be1100', errorForeground: '#f85149', 'gitDecoration-modifiedResourceForeground': '#895503',
    'editor-selectionBackground': '#add6ff', 'panelTitle-activeBorder': '#005fb8', 'panelTitle-activeForeground': '#3b3b3b',
    'panelTitle-inactiveForeground': '#3b3b3b', 'settings-checkboxBackground': '#f8f8f8', 'settings-checkboxBorder': '#cecece',
    'settings-checkboxForeground': '#3b3b3b', 'settings-headerBorder': '#e5e5e5', 'panel-background': '#f8f8f8',
  },
};

function themeCss(name: 'dark' | 'light'): string {
  const vars = Object.entries(themes[name]).map(([k, v]) => `  --vscode-${k}: ${v};`);
  const fonts = ['  --vscode-font-family: "DejaVu Sans", sans-serif;', '  --vscode-font-size: 13px;', '  --vscode-font-weight: normal;', '  --vscode-editor-font-family: "DejaVu Sans Mono", monospace;'];
  return `body.vscode-${name} {\n${[...vars, ...fonts].join('\n')}\n}\n`;
}

/**
 * The fake VS Code API: posted messages are recorded on `window.__posted`; state lives in
 * sessionStorage so it survives a reload, as VS Code's webview state does.
 */
const fakeApi = `
window.__posted = [];
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
let acquired = false;
window.acquireVsCodeApi = () => {
  if (acquired) throw new Error('acquireVsCodeApi called twice');
  acquired = true;
  return {
    postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))),
    getState: () => JSON.parse(sessionStorage.getItem('keel-state') ?? 'null'),
    setState: (s) => sessionStorage.setItem('keel-state', JSON.stringify(s)),
  };
};`;

export interface PanelServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the panel page and the bundle in `bundleDir` on a free port of 127.0.0.1.
 * `extraFiles` are scripts (path → source) a page can load before the bundle with
 * `?preload=/path` — big payloads get into the page without crossing the DevTools protocol.
 */
export async function servePanel(bundleDir: string, extraFiles: Record<string, string> = {}, inits: Record<string, HostToWebview> = {}): Promise<PanelServer> {
  const nonce = 'dGVzdC1ub25jZS0xMjM0NQ';
  let origin = '';
  // `?init=<name>`: that init in the page, as the host embeds a prefetched one (html.ts).
  const initBlock = (name: string | null): string => {
    const init = name === null ? undefined : inits[name];
    return init ? `<script type="application/json" id="keel-init" nonce="${nonce}">${jsonForScript(packMessage(init))}</script>\n` : '';
  };
  const page = (script: string, preload: string | null, init: string | null): string => `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${origin} data:; style-src ${origin}; font-src ${origin}; script-src 'nonce-${nonce}'">
<link rel="stylesheet" href="/theme-dark.css"><link rel="stylesheet" href="/theme-light.css"><link rel="stylesheet" href="/${script}.css">
<title>Compare runs</title></head>
<body class="vscode-dark"><div id="app"></div>
<script nonce="${nonce}">${fakeApi}</script>
${preload ? `<script nonce="${nonce}" src="${preload}"></script>` : ''}
${initBlock(init)}<script nonce="${nonce}" src="/${script}.js"></script>
</body></html>`;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (type: string, body: string | Buffer): void => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
    if (url.pathname === '/') return send('text/html', page(url.searchParams.get('bundle') ?? 'webview', url.searchParams.get('preload'), url.searchParams.get('init')));
    if (url.pathname === '/theme-dark.css') return send('text/css', themeCss('dark'));
    if (url.pathname === '/theme-light.css') return send('text/css', themeCss('light'));
    const extra = extraFiles[url.pathname];
    if (extra !== undefined) return send('text/javascript', extra);
    const file = path.join(bundleDir, path.basename(url.pathname));
    if (/\.(js|css)$/.test(file) && existsSync(file)) return send(file.endsWith('.js') ? 'text/javascript' : 'text/css', readFileSync(file));
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: origin, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Debian's chromium, headless, quiet. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Removes a bundle dir. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** What the panel posted so far (the fake API records it on the page). */
export function posted(page: Page): Promise<WebviewToHost[]> {
  return page.evaluate(() => (window as unknown as { __posted: WebviewToHost[] }).__posted);
}

/** Waits until the panel has posted a message matching `match` (a partial shape); returns it. */
export async function waitPosted(page: Page, match: Record<string, unknown>, timeout = 10_000): Promise<WebviewToHost> {
  const handle = await page.waitForFunction((m) => {
    const all = (window as unknown as { __posted: Record<string, unknown>[] }).__posted;
    return all.find((msg) => Object.entries(m).every(([k, v]) => JSON.stringify(msg[k]) === JSON.stringify(v))) ?? false;
  }, match, { timeout });
  return (await handle.jsonValue()) as WebviewToHost;
}

/** Sends a message as the host does (window.postMessage into the page). */
export async function sendToPanel(page: Page, msg: HostToWebview): Promise<void> {
  await page.evaluate((m) => window.postMessage(m, '*'), JSON.parse(JSON.stringify(msg)) as HostToWebview);
}

export interface ChartDebug {
  key: string;
  drawn: boolean;
  length: number;
  pointsPerRun: number[];
}

/** The charts as the test hook (`?test`) reports them. */
export function charts(page: Page): Promise<ChartDebug[]> {
  return page.evaluate(() => (window as unknown as { __keelDebug: { charts(): ChartDebug[] } }).__keelDebug.charts());
}

/** Pixels of a chart's canvas: how many are drawn at all, and how many are each of `colors` (#rrggbb). */
export function canvasPixels(page: Page, key: string, colors: string[]): Promise<{ drawn: number; byColor: number[] }> {
  return page.evaluate(({ key, colors }) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`figure[data-key="${key}"] canvas`);
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return { drawn: 0, byColor: colors.map(() => 0) };
    const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const rgb = colors.map((c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)));
    let drawn = 0;
    const byColor = colors.map(() => 0);
    for (let i = 0; i < d.length; i += 4) {
      if ((d[i + 3] ?? 0) === 0) continue;
      drawn++;
      if ((d[i + 3] ?? 0) < 200) continue;
      rgb.forEach((c, k) => {
        if (Math.abs((d[i] ?? 0) - (c[0] ?? 0)) + Math.abs((d[i + 1] ?? 0) - (c[1] ?? 0)) + Math.abs((d[i + 2] ?? 0) - (c[2] ?? 0)) <= 12) byColor[k] = (byColor[k] ?? 0) + 1;
      });
    }
    return { drawn, byColor };
  }, { key, colors });
}
