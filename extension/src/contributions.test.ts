/**
 * A static check of package.json against the sources: every contributed command is
 * registered, every registered command is contributed or listed below as internal, no
 * command is registered twice, menus and welcome links name real commands and views, and
 * the settings the code reads are declared. Sources are scanned for
 * `registerCommand('keel.…'` and `registerKeelCommand('keel.…'`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RunStatuses, type Run, type RunStatus } from '../../daemon/src/protocol/index.ts';
import { runContextValue } from './runs/run-labels.ts';

/** Registered on purpose without a contribution (not for the palette or menus). Keep explicit. */
const INTERNAL_COMMANDS: readonly string[] = [];

const repoRoot = resolve(import.meta.dirname, '..', '..');
const srcRoot = join(repoRoot, 'extension', 'src');

interface Contributes {
  commands?: { command: string; title: string; category?: string }[];
  menus?: Record<string, { command: string; when?: string }[]>;
  views?: Record<string, { id: string }[]>;
  viewsContainers?: { activitybar?: { id: string; icon: string }[] };
  viewsWelcome?: { view: string; contents: string }[];
  walkthroughs?: { id: string; title: string; steps: { id: string; title: string; description: string; media: { markdown?: string }; completionEvents?: string[] }[] }[];
  configuration?: { properties: Record<string, { default?: unknown }> };
}

/** Evaluates the `viewItem == x` / `viewItem =~ /re/` clause of a menu's `when` for one context value. */
function whenViewItem(when: string, contextValue: string): boolean {
  const exact = /viewItem == ([\w.]+)/.exec(when);
  if (exact) return exact[1] === contextValue;
  const re = /viewItem =~ \/(.+?)\/(?=\s|\)|$)/.exec(when);
  return re ? new RegExp(re[1] ?? '$^').test(contextValue) : true;
}

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { contributes: Contributes; activationEvents?: string[]; main?: string };
const contributes = pkg.contributes;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts') ? [p] : [];
  });
}

const sources = sourceFiles(srcRoot).map((file) => ({ file, text: readFileSync(file, 'utf8') }));

/** Every `registerCommand('keel.x'` / `registerKeelCommand('keel.x'` with its file. */
const registrations = sources.flatMap(({ file, text }) =>
  [...text.matchAll(/register(?:Keel)?Command\(\s*['"`](keel\.[\w.]+)['"`]/g)].map((m) => ({ id: m[1] ?? '', file: file.slice(srcRoot.length + 1) })));
const registered = new Set(registrations.map((r) => r.id));
const contributed = new Set((contributes.commands ?? []).map((c) => c.command));
const views = new Set(Object.values(contributes.views ?? {}).flat().map((v) => v.id));
/** Commands VS Code creates for each view (`<view>.focus`, …): fine to execute, never registered by us. */
const viewCommand = (id: string): boolean => [...views].some((v) => id.startsWith(`${v}.`));

describe('package.json contributions', () => {
  it('registers every contributed command', () => {
    const missing = [...contributed].filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `contributed but never registered: ${missing.join(', ')}`);
  });

  it('contributes every registered command, or lists it as internal', () => {
    const hidden = [...registered].filter((id) => !contributed.has(id) && !INTERNAL_COMMANDS.includes(id));
    assert.deepEqual(hidden, [], `registered but neither contributed nor internal: ${hidden.join(', ')}`);
    const staleInternal = INTERNAL_COMMANDS.filter((id) => !registered.has(id) || contributed.has(id));
    assert.deepEqual(staleInternal, []);
  });

  it('registers each command once', () => {
    const seen = new Map<string, string[]>();
    for (const r of registrations) seen.set(r.id, [...(seen.get(r.id) ?? []), r.file]);
    const twice = [...seen].filter(([, files]) => files.length > 1).map(([id, files]) => `${id} (${files.join(', ')})`);
    assert.deepEqual(twice, []);
  });

  it('gives every command the Keel category and a keel. id', () => {
    const odd = (contributes.commands ?? []).filter((c) => c.category !== 'Keel' || !c.command.startsWith('keel.') || !c.title).map((c) => c.command);
    assert.deepEqual(odd, []);
  });

  it('has the core commands, views and activation', () => {
    for (const id of ['keel.launchRun', 'keel.launchSweep', 'keel.cancelRun', 'keel.cancelSweep', 'keel.rerun', 'keel.deleteRun', 'keel.showLogs', 'keel.addHost', 'keel.checkHost',
      'keel.pullCheckpoint', 'keel.tagCheckpoint', 'keel.refresh', 'keel.initProject', 'keel.restartDaemon', 'keel.showOutput', 'keel.compareRuns']) {
      assert.ok(contributed.has(id), `${id} is contributed`);
    }
    assert.deepEqual([...views].filter((v) => ['keel.runs', 'keel.hosts', 'keel.datasets', 'keel.models'].includes(v)).sort(), ['keel.datasets', 'keel.hosts', 'keel.models', 'keel.runs']);
    assert.equal(contributes.viewsContainers?.activitybar?.find((c) => c.id === 'keel')?.icon, 'media/keel.svg');
    statSync(join(repoRoot, 'media', 'keel.svg'));
    assert.ok(pkg.activationEvents?.includes('workspaceContains:keel.yaml'));
    assert.ok(!pkg.activationEvents?.includes('*'), 'no * activation');
    assert.equal(pkg.main, './dist/extension.js');
  });

  it('names only real commands and views in menus and welcome links', () => {
    const problems: string[] = [];
    for (const [menu, items] of Object.entries(contributes.menus ?? {})) {
      for (const item of items) {
        if (!contributed.has(item.command)) problems.push(`${menu}: ${item.command} is not a contributed command`);
        for (const m of (item.when ?? '').matchAll(/view == ([\w.]+)/g)) if (!views.has(m[1] ?? '')) problems.push(`${menu}: no view ${m[1]}`);
      }
    }
    for (const w of contributes.viewsWelcome ?? []) {
      if (!views.has(w.view)) problems.push(`viewsWelcome: no view ${w.view}`);
      for (const m of w.contents.matchAll(/command:([\w.]+)/g)) if (!contributed.has(m[1] ?? '')) problems.push(`viewsWelcome: ${m[1]} is not contributed`);
    }
    assert.deepEqual(problems, []);
  });

  it('has a walkthrough whose steps (init, host, launch, compare) link real commands and shipped media, and complete on them', () => {
    const walk = contributes.walkthroughs?.find((w) => w.id === 'keel.gettingStarted');
    assert.ok(walk, 'the keel.gettingStarted walkthrough');
    assert.deepEqual(walk.steps.map((s) => s.id), ['keel.init', 'keel.host', 'keel.launch', 'keel.compare']);
    for (const step of walk.steps) {
      const links = [...step.description.matchAll(/command:([\w.]+)/g)].map((m) => m[1] ?? '');
      assert.ok(links.length > 0 && links.every((id) => contributed.has(id)), `${step.id} links contributed commands: ${links.join(', ')}`);
      assert.ok(step.media.markdown?.startsWith('media/'), `${step.id} media ships (the VSIX keeps media/**)`);
      statSync(join(repoRoot, step.media.markdown ?? ''));
      for (const e of step.completionEvents ?? []) {
        const id = /^onCommand:(.+)$/.exec(e)?.[1];
        if (id) assert.ok(contributed.has(id), `${step.id} completes on ${id}, a contributed command`);
      }
    }
  });

  it('offers Delete Run in the Runs view context menu (not inline) exactly for ended and incomplete runs', () => {
    const items = (contributes.menus?.['view/item/context'] ?? []).filter((m) => m.command === 'keel.deleteRun');
    assert.equal(items.length, 1);
    const item = items[0] as { when?: string; group?: string };
    assert.ok(!(item.group ?? '').startsWith('inline'), 'not an inline button: deleting is one click too easy there');
    const offered = (status: RunStatus): boolean => whenViewItem(item.when ?? '', runContextValue({ status } as Run));
    assert.deepEqual(RunStatuses.filter(offered), ['incomplete', 'succeeded', 'failed', 'cancelled', 'lost']);
  });

  it('executes only commands that exist (ours, view commands, or VS Code built-ins)', () => {
    const executed = sources.flatMap(({ file, text }) => [...text.matchAll(/executeCommand\(\s*['"`](keel\.[\w.]+)['"`]/g)].map((m) => ({ id: m[1] ?? '', file })));
    const unknown = executed.filter((e) => !registered.has(e.id) && !viewCommand(e.id)).map((e) => `${e.id} in ${e.file.slice(srcRoot.length + 1)}`);
    assert.deepEqual(unknown, []);
  });

  it('declares the settings the core reads, with their defaults', () => {
    const props = contributes.configuration?.properties ?? {};
    const expected: Record<string, unknown> = {
      'keel.daemon.home': '', 'keel.daemon.nodePath': '', 'keel.notifications.onSuccess': false,
      'keel.notifications.onFailure': true, 'keel.notifications.onAlert': true, 'keel.compare.maxPoints': 2000,
    };
    for (const [key, value] of Object.entries(expected)) assert.equal(props[key]?.default, value, key);
  });
});

describe('the extension bundle', () => {
  it('loads no native module (only ws probes its optional helpers, inside try/catch)', (t) => {
    let bundle: string;
    try {
      bundle = readFileSync(join(repoRoot, 'dist', 'extension.js'), 'utf8');
    } catch {
      t.skip('dist/extension.js is not built (npm run build)');
      return;
    }
    const required = new Set([...bundle.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1] ?? ''));
    assert.ok(!required.has('better-sqlite3'));
    assert.ok(![...required].some((r) => r.endsWith('.node')));
    const optionalNative = [...required].filter((r) => ['bufferutil', 'utf-8-validate'].includes(r));
    for (const name of optionalNative) {
      const at = bundle.indexOf(`require("${name}")`);
      assert.match(bundle.slice(Math.max(0, at - 400), at), /try\s*\{/, `${name} is only probed`);
    }
  });
});
