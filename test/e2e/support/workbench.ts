/**
 * Drives the VS Code workbench in chromium the way a user does: the command palette,
 * quick picks, the activity bar and its views, editors, hovers, the status bar and
 * webviews (whose content lives in nested iframes). Every wait names what it waited for.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Frame, type Locator, type Page } from 'playwright-core';
import { chromiumPath } from './code-server.ts';

/** The flags TESTING.md found to work with Debian's chromium here. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface QuickInputState {
  title: string;
  placeholder: string;
  message: string;
  /** Row texts (label, description, detail on one line) when it shows a list. */
  items: string[];
  /** A pick list is showing (an input box shows none). */
  list: boolean;
  value: string;
}

export class Workbench {
  readonly page: Page;
  readonly browser: Browser;
  private readonly artifacts: string;

  private constructor(browser: Browser, page: Page, artifacts: string) {
    this.browser = browser;
    this.page = page;
    this.artifacts = artifacts;
  }

  /** Opens `url` in a fresh chromium and waits for the workbench to render. */
  static async open(url: string, artifacts: string): Promise<{ wb: Workbench; loadMs: number }> {
    mkdirSync(artifacts, { recursive: true });
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const t0 = performance.now();
    await page.goto(url);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    // The explorer tree appears once the remote file system answers: the workbench is usable.
    await page.waitForSelector('.explorer-folders-view .monaco-list-row, .statusbar', { timeout: 60_000 });
    return { wb: new Workbench(browser, page, artifacts), loadMs: performance.now() - t0 };
  }

  async close(): Promise<void> {
    await this.browser.close();
  }

  /** Saves a screenshot into the artifacts folder; returns its path. */
  async shot(name: string, target?: Locator): Promise<string> {
    const file = join(this.artifacts, `${name}.png`);
    if (target) await target.screenshot({ path: file });
    else await this.page.screenshot({ path: file });
    return file;
  }

  // --- the command palette and quick inputs -------------------------------------------------

  private get quick(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /**
   * F1, type the command's palette label, pick the row with exactly that label. Retries for
   * a while: right after the workbench opens, the remote extensions' contributions may not
   * have reached the palette yet.
   */
  async runCommand(label: string, timeoutMs = 30_000, onRun?: () => void): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.closeQuickInput();
      await this.page.locator('.monaco-workbench').press('F1');
      await this.quick.waitFor({ state: 'visible', timeout: 10_000 });
      await this.page.keyboard.type(label);
      const row = this.rows().filter({ has: this.page.locator('.label-name', { hasText: label }) }).first();
      try {
        await row.waitFor({ state: 'visible', timeout: 3_000 });
        // The moment the command is chosen (a bench starts its clock here, as it does before pressing Enter in a pick).
        onRun?.();
        await row.click();
        return;
      } catch {
        if (Date.now() > deadline) {
          const state = await this.quickInput();
          throw new Error(`the command palette shows no "${label}"; it shows: ${state?.items.join(' | ') ?? 'nothing'}`);
        }
      }
    }
  }

  private rows(): Locator {
    return this.quick.locator('.quick-input-list .monaco-list-row');
  }

  /** What the open quick input shows, or null when none is open. */
  async quickInput(): Promise<QuickInputState | null> {
    if (!(await this.quick.isVisible())) return null;
    const text = async (sel: string): Promise<string> => {
      const l = this.quick.locator(sel).first();
      return (await l.count()) ? (await l.innerText()).trim() : '';
    };
    const items = (await this.rows().allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    return {
      title: await text('.quick-input-title'),
      placeholder: (await this.quick.locator('.quick-input-box input').first().getAttribute('placeholder')) ?? '',
      message: await text('.quick-input-message'),
      items,
      list: await this.quick.locator('.quick-input-list').first().isVisible(),
      value: await this.quick.locator('.quick-input-box input').first().inputValue(),
    };
  }

  /** Waits until a quick input is open (or `timeoutMs` passes); returns what it shows. */
  async waitQuickInput(timeoutMs = 10_000): Promise<QuickInputState | null> {
    try {
      await this.quick.waitFor({ state: 'visible', timeout: timeoutMs });
    } catch {
      return null;
    }
    // Items of an async pick arrive after the widget shows.
    await this.page.waitForTimeout(150);
    return this.quickInput();
  }

  /** Clicks the first row whose text matches. */
  async pick(match: RegExp): Promise<void> {
    const row = this.rows().filter({ hasText: match }).first();
    await row.waitFor({ state: 'visible', timeout: 10_000 });
    await row.click();
  }

  /** Ticks the row labelled exactly `label` in a multi-select pick. */
  async tick(label: string): Promise<void> {
    const exact = new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
    const row = this.rows().filter({ has: this.page.locator('.label-name', { hasText: exact }) }).first();
    try {
      await row.waitFor({ state: 'visible', timeout: 10_000 });
    } catch {
      throw new Error(`no row is labelled "${label}"; the pick shows: ${(await this.quickInput())?.items.join(' | ') ?? 'nothing'}`);
    }
    const box = row.locator('.quick-input-list-checkbox, input[type=checkbox], .monaco-checkbox').first();
    await ((await box.count()) ? box : row).click();
  }

  /** Ticks every row the filter shows ("Toggle all checkboxes" in the header). */
  async tickAll(): Promise<void> {
    const all = this.quick.locator('.quick-input-header [role=checkbox]').first();
    await all.waitFor({ state: 'visible', timeout: 10_000 });
    if ((await all.getAttribute('aria-checked')) !== 'true') await all.click();
  }

  /** Presses Enter in the quick input (accepts the input box or the ticked items). */
  async accept(): Promise<void> {
    await this.quick.locator('.quick-input-box input').first().press('Enter');
  }

  async closeQuickInput(): Promise<void> {
    if (await this.quick.isVisible()) await this.page.keyboard.press('Escape');
  }

  // --- views ----------------------------------------------------------------------------------

  /** Opens the activity-bar container whose title starts with `title` (clicking an open one would close it). */
  async openContainer(title: string): Promise<void> {
    const sideTitle = this.page.locator('.sidebar .composite.title', { hasText: new RegExp(`^\\s*${title}`, 'i') }).first();
    if (await sideTitle.isVisible()) return;
    const item = this.page.locator(`.activitybar .action-item[aria-label^="${title}"], .activitybar .action-item:has([aria-label^="${title}"])`).first();
    await item.waitFor({ state: 'visible', timeout: 15_000 });
    await item.click();
    await sideTitle.waitFor({ timeout: 10_000 });
  }

  /** The view pane titled `name` in the side bar (expanded). */
  async view(name: string): Promise<Locator> {
    const pane = this.page.locator('.sidebar .pane', { has: this.page.locator('.pane-header', { hasText: new RegExp(`^\\s*${name}`, 'i') }) }).first();
    await pane.waitFor({ state: 'visible', timeout: 15_000 });
    const header = pane.locator('.pane-header').first();
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    return pane;
  }

  /** The visible rows of a view (tree items), as text. */
  async viewRows(name: string): Promise<string[]> {
    const pane = await this.view(name);
    return (await pane.locator('.pane-body .monaco-list-row').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  }

  /** Expands the view's collapsed top-level rows (e.g. the "Recent" group of runs). */
  async expandGroups(name: string): Promise<void> {
    const pane = await this.view(name);
    const collapsed = pane.locator('.pane-body .monaco-list-row[aria-level="1"][aria-expanded="false"]');
    for (let i = await collapsed.count(); i > 0; i--) {
      await collapsed.first().click();
      await this.page.waitForTimeout(100);
    }
  }

  // --- status bar, notifications --------------------------------------------------------------

  /** The text of the status bar item whose id contains `id` (VS Code ids it `<ext>.<item>`). */
  async statusItem(id: string): Promise<{ text: string; label: string }> {
    const item = this.page.locator(`.statusbar-item[id*="${id}"]`).first();
    if (!(await item.count())) return { text: '', label: '' };
    return { text: (await item.innerText()).trim(), label: (await item.getAttribute('aria-label')) ?? '' };
  }

  async notifications(): Promise<string[]> {
    return (await this.page.locator('.notification-toast').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  }

  // --- editors and hovers ---------------------------------------------------------------------

  /** Moves the mouse off the editor (onto the status bar) and waits for any hover to go. */
  async mouseAway(): Promise<void> {
    await this.page.mouse.move(5, 995);
    // A hover asked for with the keyboard stays until Escape (or the cursor moves).
    if (await this.hover.isVisible()) {
      await this.hover.waitFor({ state: 'hidden', timeout: 1_000 }).catch(() => this.page.keyboard.press('Escape'));
    }
    await this.hover.waitFor({ state: 'hidden', timeout: 5_000 });
  }

  /** Opens a workspace file by Quick Open and waits for its editor. */
  async openFile(relPath: string): Promise<void> {
    await this.closeQuickInput();
    await this.page.locator('.monaco-workbench').press('Control+P');
    await this.quick.waitFor({ state: 'visible', timeout: 10_000 });
    await this.page.keyboard.type(relPath);
    const name = relPath.split('/').pop() ?? relPath;
    // Click the row itself: Enter takes whichever row is selected, and while results are still
    // coming in that can be another file.
    const row = this.rows().filter({ has: this.page.locator('.label-name', { hasText: name }) }).first();
    await row.waitFor({ timeout: 15_000 });
    await row.click();
    await this.page.locator('.tab.active', { hasText: name }).waitFor({ timeout: 15_000 });
    await this.page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor({ timeout: 15_000 });
  }

  /** The last rendered token of the active editor's line that contains `text` (a path ends there). */
  lineEnd(text: string): Locator {
    return this.page.locator('.editor-instance .monaco-editor .view-line', { hasText: text }).first().locator('span > span').last();
  }

  /** The editor hover widget. */
  get hover(): Locator {
    return this.page.locator('.monaco-editor .monaco-hover:not(.hidden)').first();
  }

  /**
   * Moves the mouse onto `target` (near its right end, where a path's file name is) and
   * waits until the hover shows `expect`; resolves with the hover text, the time from the
   * mouse arriving to the text showing, how many hovers it took and how the last was asked for.
   *
   * A hover gives up after its lookup time box (300 ms) and VS Code does not ask again while
   * the mouse stays put; the answer is cached when it arrives. So, as a user would, this
   * moves away and back when a hover shows nothing for `retryMs`; `ms` is the time of the hover
   * that showed the card, `tries` says how many it took. On a loaded machine the workbench
   * sometimes shows no mouse hover at all for many seconds (seen in CI, never with the provider
   * failing); after half the time box has passed, every other try asks for the hover with the
   * keyboard (cursor on the target, Ctrl+K Ctrl+I: Show or Focus Hover) instead, which runs the same providers — `via`
   * says which way it came, and the caller's message names both when neither worked.
   */
  async hoverUntil(target: Locator, expect: RegExp, timeoutMs = 15_000, retryMs = 2_000): Promise<{ text: string; ms: number; tries: number; via: 'mouse' | 'keyboard' }> {
    const started = Date.now();
    const deadline = started + timeoutMs;
    let text = '';
    const tried = { mouse: 0, keyboard: 0 };
    for (let tries = 1; ; tries++) {
      await this.mouseAway();
      const box = await target.boundingBox();
      if (!box) throw new Error('the hover target is not on screen');
      const via = Date.now() - started > timeoutMs / 2 && tries % 2 === 0 ? 'keyboard' : 'mouse';
      tried[via]++;
      const x = box.x + box.width - 6;
      const y = box.y + box.height / 2;
      // From the asking: a keyboard hover's clock starts after the click that puts the cursor there.
      let t0 = performance.now();
      if (via === 'keyboard') {
        await this.page.mouse.click(x, y);
        await this.mouseAway();
        t0 = performance.now();
        // Show or Focus Hover (editor.action.showHover), with the focus in the editor.
        await this.page.keyboard.press('Control+K');
        await this.page.keyboard.press('Control+I');
      } else {
        await this.page.mouse.move(x, y);
      }
      const retryAt = Date.now() + retryMs;
      while (Date.now() < retryAt) {
        text = (await this.hover.isVisible()) ? await this.hover.innerText() : '';
        if (expect.test(text)) return { text, ms: performance.now() - t0, tries, via };
        if (Date.now() > deadline) throw new Error(`the hover did not show ${String(expect)} within ${timeoutMs} ms (${tried.mouse} mouse hovers, ${tried.keyboard} asked with the keyboard); it showed: ${text || 'nothing'}`);
        await this.page.waitForTimeout(10);
      }
    }
  }

  // --- webviews -------------------------------------------------------------------------------

  /** The webview frame (any nesting depth) whose document has `selector`, waiting up to `timeoutMs`. */
  async webviewFrame(selector: string, timeoutMs = 30_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const f of this.page.frames()) {
        if (f === this.page.mainFrame()) continue;
        const n = await f.locator(selector).count().catch(() => 0);
        if (n > 0) return f;
      }
      if (Date.now() > deadline) throw new Error(`no webview frame has ${selector} after ${timeoutMs} ms (frames: ${this.page.frames().map((f) => f.url().slice(0, 80)).join(', ')})`);
      await this.page.waitForTimeout(50);
    }
  }
}

/** How many pixels of a canvas are painted (alpha > 0): a drawn chart has thousands. */
export async function paintedPixels(frame: Frame, canvasIndex: number): Promise<{ width: number; height: number; painted: number }> {
  return frame.locator('canvas').nth(canvasIndex).evaluate((el) => {
    const c = el as HTMLCanvasElement;
    const ctx = c.getContext('2d');
    if (!ctx || c.width === 0 || c.height === 0) return { width: c.width, height: c.height, painted: 0 };
    const data = ctx.getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) painted++;
    return { width: c.width, height: c.height, painted };
  });
}
