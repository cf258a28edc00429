/**
 * The run page's webview: says `ready`, renders each `show` (the whole page: one run), and
 * posts the buttons' actions. The run it shows is kept in VS Code's webview state so the page
 * comes back on the same run after a reload; the scroll position survives re-renders.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import './styles.css';
import type { RunPageData, RunPageHostToWebview } from '../../../daemon/src/protocol/run-page.ts';
import { clear, h } from '../dom.ts';
import { renderActions, renderHeader, type Act } from './header.ts';
import { parseRunPageMessage } from './messages.ts';
import { renderCheckpoints, renderEvals, renderLaunch, renderLineage, renderLog, renderMetrics, renderWhy } from './sections.ts';
import { vscode } from './vscode-api.ts';

const api = vscode();
const app = document.getElementById('app') ?? document.body;
const errorBar = h('div', { class: 'error-bar', attrs: { role: 'alert' } });
errorBar.hidden = true;
const content = h('main', { class: 'run-page' }, h('p', { class: 'empty', text: 'Loading the run…' }));
app.append(errorBar, content);

function render(page: RunPageData, now: number): void {
  const runId = page.detail.run.id;
  api.setState({ runId });
  const act: Act = (a) => api.postMessage({ type: 'action', runId, ...a });
  const scroll = window.scrollY;
  clear(content);
  content.append(...[
    renderHeader(page, now, act),
    renderActions(page, act),
    renderWhy(page, act),
    renderLaunch(page),
    renderMetrics(page),
    renderCheckpoints(page, now, act),
    renderEvals(page, act),
    renderLineage(page.lineage, act),
    renderLog(page, act),
  ].filter((x): x is HTMLElement => x !== null));
  content.setAttribute('data-run', runId);
  window.scrollTo(0, scroll);
}

function onMessage(m: RunPageHostToWebview): void {
  if (m.type === 'error') {
    errorBar.textContent = m.message;
    errorBar.hidden = false;
    return;
  }
  errorBar.hidden = true;
  render(m.page, m.now);
}

window.addEventListener('message', (e: MessageEvent) => {
  const parsed = parseRunPageMessage(e.data);
  if ('message' in parsed) onMessage(parsed.message);
  else console.warn(`run page: dropped a message: ${parsed.error}`);
});
api.postMessage({ type: 'ready' });
