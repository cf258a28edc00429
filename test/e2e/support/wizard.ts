/**
 * Walks the launch wizard the way a user does, whatever order and wording its steps have:
 * each step is recognised by its title or placeholder (config, host, GPUs, overrides,
 * confirm) and answered with the given choice; a free-text step gets nothing (no overrides).
 */
import type { QuickInputState, Workbench } from './workbench.ts';

export interface WizardChoices {
  config: RegExp;
  host: RegExp;
  gpus: RegExp;
  /** The confirm step's accepting item. */
  confirm?: RegExp;
  /** Text for the overrides step (`learning_rate=0.1`); empty when not given. */
  overrides?: string;
}

const CONFIRM = /launch|start|confirm|yes|run it/i;

/** Which item to pick for this step, by what the step says it asks for. */
function choiceFor(q: QuickInputState, c: WizardChoices): RegExp | undefined {
  const asks = `${q.title} ${q.placeholder}`;
  const confirm = c.confirm ?? CONFIRM;
  const byTopic: [RegExp, RegExp][] = [[/confirm|summary|ready|launch \S+ on/i, confirm], [/gpu/i, c.gpus], [/host|where/i, c.host], [/config/i, c.config]];
  for (const [topic, choice] of byTopic) {
    if (topic.test(asks) && q.items.some((i) => choice.test(i))) return choice;
  }
  // Unrecognised wording: the first choice that matches an item.
  return [c.config, c.host, c.gpus, confirm].find((choice) => q.items.some((i) => choice.test(i)));
}

/** The quick input on show, 'dialog' when a modal dialog is, or null when neither shows within `timeoutMs`. */
async function nextStep(wb: Workbench, timeoutMs: number): Promise<QuickInputState | 'dialog' | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await wb.page.locator('.monaco-dialog-box').isVisible()) return 'dialog';
    const q = await wb.waitQuickInput(200);
    if (q) return q;
    if (Date.now() > deadline) return null;
  }
}

/** Runs the command and answers every step; returns a line per step for the test log. */
export async function launchWizard(wb: Workbench, label: string, choices: WizardChoices): Promise<string[]> {
  await wb.runCommand(label);
  const steps: string[] = [];
  let last = '';
  for (let same = 0; steps.length < 12; ) {
    const dialog = wb.page.locator('.monaco-dialog-box');
    if (await dialog.isVisible()) {
      steps.push(`dialog "${(await dialog.innerText()).replace(/\s+/g, ' ').slice(0, 80)}"`);
      await dialog.locator('.monaco-button', { hasText: choices.confirm ?? CONFIRM }).first().click();
      continue;
    }
    // A step may come after a daemon call (hosts, the pre-flight), and the step just answered may
    // still be closing: look until a step or a dialog shows, for a while on a busy machine.
    const q = await nextStep(wb, steps.length === 0 ? 15_000 : 10_000);
    if (q === 'dialog') continue;
    if (!q) break;
    const sig = JSON.stringify(q);
    // Still showing the step just answered, or a list still loading: look again shortly.
    if (sig === last || (q.list && q.items.length === 0)) {
      if (++same > 30) throw new Error(`the launch wizard is stuck at: ${sig}`);
      await wb.page.waitForTimeout(200);
      continue;
    }
    same = 0;
    last = sig;
    const asks = (q.title || q.placeholder).slice(0, 60);
    if (!q.list) {
      // The overrides step gets the given text; any other (a name pre-filled by Keel) is accepted as it is.
      const typed = /overrides/i.test(asks) ? choices.overrides ?? '' : null;
      if (typed) {
        await wb.page.locator('.quick-input-widget .quick-input-box input').first().fill(typed);
        // The step, as typed, may still show while it closes: that is not a new step.
        last = JSON.stringify(await wb.quickInput());
      }
      steps.push(`"${asks}" → ${typed ?? (q.value ? `"${q.value}"` : '(empty)')}`);
      await wb.accept();
      continue;
    }
    const choice = choiceFor(q, choices);
    if (!choice) throw new Error(`the launch wizard asks something this test does not know: ${sig}`);
    steps.push(`"${asks}" → ${q.items.find((it) => choice.test(it))}`);
    await wb.pick(choice);
    if (choice === (choices.confirm ?? CONFIRM)) break;
  }
  return steps;
}
