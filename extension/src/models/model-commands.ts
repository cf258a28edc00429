/**
 * Actions on the Models view's rows: promote an alias's checkpoint to another alias
 * (`candidate` → `prod`), roll an alias back to its previous checkpoint (or to the history
 * entry clicked), show the checkpoint's lineage, copy its path. Each re-tags through
 * `models/tag`, which keeps the history.
 */
import * as vscode from 'vscode';
import type { ModelAliasInfo } from '../../../daemon/src/protocol/index.ts';
import { registerKeelCommand } from '../show-error.ts';
import type { KeelServices } from '../services.ts';
import type { ModelNode, ModelsView } from './models-view.ts';
import { previousTarget } from './model-labels.ts';

const ALIAS = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function isNode(x: unknown): x is ModelNode {
  return typeof x === 'object' && x !== null && ((x as { type?: unknown }).type === 'alias' || (x as { type?: unknown }).type === 'history');
}

/** The alias a command was called on: a row of the view, else picked. */
async function aliasOf(services: KeelServices, arg: unknown, title: string): Promise<ModelAliasInfo | undefined> {
  if (isNode(arg)) return arg.model;
  const client = await services.client();
  const { models } = await client.call('models/list', {});
  if (models.length === 0) {
    void vscode.window.showInformationMessage('Keel: no model aliases yet; Tag Checkpoint makes one.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(models.map((m) => ({ label: m.alias, description: m.checkpoint?.location ?? '(checkpoint gone)', m })), { title: `Keel: ${title}`, placeHolder: 'Which alias?' });
  return picked?.m;
}

async function promote(services: KeelServices, view: ModelsView, arg: unknown): Promise<void> {
  const m = await aliasOf(services, arg, 'Promote Model');
  if (!m?.checkpoint) return;
  const client = await services.client();
  const others = (await client.call('models/list', {})).models.map((x) => x.alias).filter((a) => a !== m.alias);
  const NEW = '$(add) Another alias…';
  const choice = await vscode.window.showQuickPick([...others.map((a) => ({ label: a, description: 'point it at this checkpoint' })), { label: NEW, description: '' }],
    { title: `Keel: Promote ${m.alias}`, placeHolder: `Point which alias at ${m.alias}'s checkpoint?` });
  if (!choice) return;
  const target = choice.label === NEW
    ? await vscode.window.showInputBox({ title: `Keel: Promote ${m.alias}`, prompt: 'Alias to point at this checkpoint', placeHolder: 'prod', validateInput: (v) => (ALIAS.test(v.trim()) ? undefined : 'Letters, digits, ".", "_" and "-", starting with a letter or digit') })
    : choice.label;
  if (!target) return;
  const r = await client.call('models/tag', { checkpoint: m.checkpoint.id, alias: target.trim(), note: `promoted from ${m.alias}` });
  void vscode.window.showInformationMessage(`Keel: ${r.alias} now points at ${m.alias}'s checkpoint${r.changed ? '' : ' (it already did)'}.`);
  await view.refresh();
}

async function rollBack(services: KeelServices, view: ModelsView, arg: unknown): Promise<void> {
  const m = await aliasOf(services, arg, 'Roll Back Model');
  if (!m) return;
  const target = isNode(arg) && arg.type === 'history' ? arg.entry.checkpointId : previousTarget(m);
  if (!target) {
    void vscode.window.showInformationMessage(`Keel: ${m.alias} has no earlier checkpoint to roll back to.`);
    return;
  }
  const client = await services.client();
  // Name the checkpoint by its folder, as the rows do, not by its id.
  const known = isNode(arg) && arg.type === 'history' ? arg.facts?.location : undefined;
  const where = known ?? (await client.call('lineage/resolve', { ref: target }).then((r) => r.node?.label, () => undefined)) ?? target;
  const ok = await vscode.window.showWarningMessage(`Roll ${m.alias} back to ${where}?`, { modal: true, detail: 'The alias points at that checkpoint again; its history keeps every move.' }, { title: 'Roll Back' }, { title: 'Keep', isCloseAffordance: true });
  if (ok?.title !== 'Roll Back') return;
  await client.call('models/tag', { checkpoint: target, alias: m.alias, note: 'rolled back' });
  void vscode.window.showInformationMessage(`Keel: rolled ${m.alias} back.`);
  await view.refresh();
}

function checkpointIdOf(arg: unknown): string | undefined {
  if (!isNode(arg)) return undefined;
  return arg.type === 'history' ? arg.entry.checkpointId : arg.model.checkpoint?.id;
}

/** Registers the Models view's row actions. */
export function registerModelCommands(services: KeelServices, view: ModelsView): vscode.Disposable[] {
  const log = services.log;
  return [
    registerKeelCommand('keel.promoteModel', (arg) => promote(services, view, arg), log, 'Promote failed'),
    registerKeelCommand('keel.rollbackModel', (arg) => rollBack(services, view, arg), log, 'Roll back failed'),
    registerKeelCommand('keel.showModelLineage', async (arg) => {
      const id = checkpointIdOf(arg) ?? (await aliasOf(services, arg, 'Show Lineage'))?.checkpoint?.id;
      if (id) await vscode.commands.executeCommand('keel.showLineage', id);
    }, log, 'Show Lineage failed'),
    registerKeelCommand('keel.copyModelPath', async (arg) => {
      const m = isNode(arg) ? arg.model : await aliasOf(services, arg, 'Copy Path');
      const location = isNode(arg) && arg.type === 'history' ? arg.facts?.location : m?.checkpoint?.location;
      if (!location) return;
      await vscode.env.clipboard.writeText(location);
      vscode.window.setStatusBarMessage(`Keel: copied ${location}`, 3_000);
    }, log, 'Copy failed'),
  ];
}
