/**
 * The compare panel's HTML shell: a nonce-based CSP, the bundled script and stylesheet, and
 * an empty `#app` the webview bundle fills. Pure so the CSP is unit-tested.
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
}

/** A fresh nonce: 128 random bits, base64 without padding (CSP accepts base64). */
export function makeNonce(): string {
  return randomBytes(16).toString('base64').replace(/=+$/, '');
}

/**
 * The CSP: nothing by default; images, fonts and styles only from the extension's own
 * files (plus data: images for chart exports); scripts only with this page's nonce. No
 * 'unsafe-inline' for styles: the bundle styles itself through its stylesheet and
 * constructable stylesheets, which CSP does not treat as inline.
 */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

/** The whole page. */
export function buildPanelHtml(input: PanelHtmlInput): string {
  const csp = contentSecurityPolicy(input.cspSource, input.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(input.styleUri)}">
<title>${escapeText(input.title)}</title>
</head>
<body>
<div id="app"></div>
${input.init === undefined ? '' : `<script type="application/json" id="keel-init" nonce="${escapeAttr(input.nonce)}">${jsonForScript(input.init)}</script>\n`}<script nonce="${escapeAttr(input.nonce)}" src="${escapeAttr(input.scriptUri)}"></script>
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
