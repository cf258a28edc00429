/**
 * The parts of the workbench the run-UX suite reads beyond workbench.ts: notification
 * toasts and their buttons, modal dialogs, CodeLenses, a window reload, and the run page
 * inside its webview frame. Every wait names what it waited for.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame, Locator } from 'playwright-core';
import { waitFor } from '../../support/keel-home.ts';
import type { Workbench } from './workbench.ts';

/** A notification toast: its message and its buttons. */
export interface Toast {
  message: string;
  buttons: string[];
}

const norm = (t: string): string => t.replace(/\s+/g, ' ').trim();

/** The toasts on screen now. */
export async function toasts(wb: Workbench): Promise<Toast[]> {
  const items = wb.page.locator('.notification-toast');
  const out: Toast[] = [];
  for (let i = 0; i < await items.count(); i++) {
    const t = items.nth(i);
    if (!(await t.isVisible())) continue;
    const message = norm(await t.locator('.notification-list-item-message').first().innerText().catch(() => ''));
    const buttons = (await t.locator('.notification-list-item-buttons-container .monaco-button').allInnerTexts()).map(norm);
    out.push({ message, buttons });
  }
  return out;
}

/** Waits for a toast whose message matches; returns it. */
export async function waitToast(wb: Workbench, match: RegExp, timeoutMs = 60_000): Promise<Toast> {
  let found: Toast | undefined;
  try {
    await waitFor(async () => {
      found = (await toasts(wb)).find((t) => match.test(t.message));
      return found !== undefined;
    }, timeoutMs, `a notification matching ${String(match)}`);
  } catch (err) {
    // Say whether it came and went (it is in the notification center) or never came.
    const shown = (await toasts(wb)).map((t) => t.message);
    await wb.runCommand('Notifications: Show Notifications').catch(() => undefined);
    const center = (await wb.page.locator('.notifications-center .notification-list-item-message').allInnerTexts().catch(() => [])).map(norm);
    throw new Error(`${(err as Error).message}; toasts now: ${shown.join(' | ') || 'none'}; notification center: ${center.join(' | ') || 'empty'}`);
  }
  if (!found) throw new Error('unreachable');
  return found;
}

/** Clicks a button of the toast whose message matches. */
export async function clickToastButton(wb: Workbench, match: RegExp, button: string): Promise<void> {
  const toast = wb.page.locator('.notification-toast', { has: wb.page.locator('.notification-list-item-message', { hasText: match }) }).first();
  await toast.locator('.monaco-button', { hasText: new RegExp(`^\\s*${button}\\s*$`) }).first().click();
}

/** Clears every notification (the palette's "Notifications: Clear All Notifications"). */
export async function clearToasts(wb: Workbench): Promise<void> {
  await wb.runCommand('Notifications: Clear All Notifications');
  await waitFor(async () => (await toasts(wb)).length === 0, 5_000, 'the toasts to go');
}

/** The modal dialog on screen: its message, detail and buttons. */
export async function waitDialog(wb: Workbench, timeoutMs = 30_000): Promise<{ box: Locator; message: string; detail: string; buttons: string[] }> {
  const box = wb.page.locator('.monaco-dialog-box').first();
  await box.waitFor({ state: 'visible', timeout: timeoutMs });
  const text = async (sel: string): Promise<string> => norm(await box.locator(sel).first().innerText().catch(() => ''));
  return { box, message: await text('.dialog-message-text'), detail: await text('.dialog-message-detail'), buttons: (await box.locator('.dialog-buttons .monaco-button').allInnerTexts()).map(norm) };
}

/** The CodeLenses of the active editor, as their link texts. */
export async function codeLenses(wb: Workbench): Promise<string[]> {
  return (await wb.page.locator('.editor-instance .codelens-decoration a').allInnerTexts()).map(norm).filter((t) => t !== '');
}

/** Clicks the CodeLens whose text matches. */
export async function clickCodeLens(wb: Workbench, match: RegExp): Promise<void> {
  await wb.page.locator('.editor-instance .codelens-decoration a', { hasText: match }).first().click();
}

/** The run page's frame once it shows the run named `name`. */
export async function runPageShowing(wb: Workbench, name: string, timeoutMs = 30_000): Promise<Frame> {
  let frame: Frame | undefined;
  await waitFor(async () => {
    for (const f of wb.page.frames()) {
      const h1 = f.locator('main.run-page h1');
      if ((await h1.count().catch(() => 0)) > 0 && (await h1.first().innerText().catch(() => '')) === name) {
        frame = f;
        return true;
      }
    }
    return false;
  }, timeoutMs, `the run page showing "${name}"`);
  if (!frame) throw new Error('unreachable');
  return frame;
}

/** "Developer: Reload Window" (VS Code saves its state first, as a user's reload does) and waits for the workbench. */
export async function reloadWindow(wb: Workbench): Promise<void> {
  await wb.runCommand('Developer: Reload Window');
  await wb.page.waitForEvent('load', { timeout: 60_000 });
  await wb.page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
}

/** Saves a screenshot under `dir` (made again if a parallel suite cleared the artifacts). */
export async function shot(wb: Workbench, dir: string, name: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.png`);
  await wb.page.screenshot({ path: file });
  return file;
}
