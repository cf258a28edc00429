/**
 * The compare panel's HTML shell: a nonce-based CSP, the bundled script and stylesheet, and
 * an empty `#app` the webview bundle fills. Pure so the CSP is unit-tested.
 *
 * The bundle and stylesheet go in the page itself when the host could read them
 * (`inline`): VS Code carries the page to the webview while it is still making the webview,
 * but fetches a page's files only after the page started, each through the webview's
 * service worker, the workbench and the remote file system — 100–700 ms before the first
 * chart could draw on a busy machine.
 */
import { randomBytes } from 'node:crypto';

/** What the shell needs from the webview: its CSP source and the two bundled asset URIs. */
export interface PanelHtmlInput {
  /** `webview.cspSource`: the only origin allowed to serve images, fonts, styles and scripts. */
  cspSource: string;
  /** `webview.asWebviewUri(dist/webview.js)`. */
  scriptUri: string;
  /** `webview.asWebviewUri(dist/webview.css)`. */
  styleUri: string;
  nonce: string;
  title: string;
  /**
   * The first `init` (as posted: packMessage), when the host had it before the page was
   * made: the webview paints from it without asking. Left out, the page says `ready` and
   * waits for the message.
   */
  init?: unknown;
  /** The bundle's and the stylesheet's text, to put in the page (checked by `inlineAssets`); left out, the page loads the URIs. */
  inline?: InlineAssets;
}

/** The bundle and its stylesheet as text that may stand inside `<script>` and `<style>` blocks. */
export interface InlineAssets {
  script: string;
  style: string;
}

/**
 * The bundle and stylesheet as page text, or null when either could end or bend its block
 * (`</script`, `</style`, `<!--`: esbuild escapes these in what it emits, but a page that
 * breaks is worse than one that fetches). Source-map comments point at the files' URIs,
 * which a page's relative URL would not reach.
 */
export function inlineAssets(script: string, style: string, uris: { scriptUri: string; styleUri: string }): InlineAssets | null {
  if (/<\/script|<!--/i.test(script) || /<\/style|<!--/i.test(style)) return null;
  return {
    script: script.replace(/^\/\/# sourceMappingURL=(\S+)[ \t]*$/m, (_m, map: string) => `//# sourceMappingURL=${siblingUri(uris.scriptUri, map)}`),
    style: style.replace(/\/\*# sourceMappingURL=(\S+) \*\//, (_m, map: string) => `/*# sourceMappingURL=${siblingUri(uris.styleUri, map)} */`),
  };
}

/** `name` beside the file at `uri` (the same folder), or `name` alone when it is not a plain file name. */
function siblingUri(uri: string, name: string): string {
  return /^[\w.-]+$/.test(name) ? uri.replace(/[^/]*$/, name) : name;
}

/** A fresh nonce: 128 random bits, base64 without padding (CSP accepts base64). */
export function makeNonce(): string {
  return randomBytes(16).toString('base64').replace(/=+$/, '');
}

/**
 * The CSP: nothing by default; images and fonts only from the extension's own files (plus
 * data: images for chart exports); styles from those files or the page's own nonce'd block;
 * scripts only with this page's nonce. No 'unsafe-inline' for styles: the bundle styles
 * itself through its stylesheet and constructable stylesheets, which CSP does not treat as
 * inline.
 */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

/** The whole page. */
export function buildPanelHtml(input: PanelHtmlInput): string {
  const csp = contentSecurityPolicy(input.cspSource, input.nonce);
  const nonce = escapeAttr(input.nonce);
  const style = input.inline ? `<style nonce="${nonce}">${input.inline.style}</style>` : `<link rel="stylesheet" href="${escapeAttr(input.styleUri)}">`;
  const script = input.inline ? `<script nonce="${nonce}">${input.inline.script}</script>` : `<script nonce="${nonce}" src="${escapeAttr(input.scriptUri)}"></script>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${style}
<title>${escapeText(input.title)}</title>
</head>
<body>
<div id="app"></div>
${input.init === undefined ? '' : `<script type="application/json" id="keel-init" nonce="${nonce}">${jsonForScript(input.init)}</script>\n`}${script}
</body>
</html>`;
}

/**
 * JSON that stays inside its `<script>` block: `<` (so no `</script>` or `<!--` ends or bends
 * it), `>` and `&` as \u escapes, and U+2028/U+2029 too (line terminators to older JS
 * parsers). JSON.parse reads the escapes back as the same characters.
 */
export function jsonForScript(value: unknown): string {
  const json = JSON.stringify(value) ?? 'null';
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
