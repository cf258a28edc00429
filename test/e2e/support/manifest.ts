/**
 * The extension's contributions, read from package.json at test time, so the e2e suite
 * finds "Keel: Launch Fine-tune" by what the user sees rather than by a hard-coded id.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../support/keel-home.ts';

export interface ContributedCommand {
  command: string;
  title: string;
  category?: string;
  /** What the command palette shows: `Category: Title`. */
  label: string;
}

interface Manifest {
  name: string;
  publisher: string;
  version: string;
  commands: ContributedCommand[];
  /** View container titles in the activity bar, and views by container. */
  containers: { id: string; title: string }[];
  views: { id: string; name: string; container: string }[];
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Reads the manifest at the repo root (the same file the VSIX carries). */
export function readManifest(file = join(repoRoot, 'package.json')): Manifest {
  const pkg = asRecord(JSON.parse(readFileSync(file, 'utf8')));
  const contributes = asRecord(pkg.contributes);
  const commands = asArray(contributes.commands).map((c) => {
    const r = asRecord(c);
    const category = str(r.category) || undefined;
    const title = str(r.title);
    return { command: str(r.command), title, category, label: category ? `${category}: ${title}` : title };
  });
  const containers = asArray(asRecord(contributes.viewsContainers).activitybar).map((c) => ({ id: str(asRecord(c).id), title: str(asRecord(c).title) }));
  const views = Object.entries(asRecord(contributes.views)).flatMap(([container, list]) =>
    asArray(list).map((v) => ({ id: str(asRecord(v).id), name: str(asRecord(v).name), container })));
  return { name: str(pkg.name), publisher: str(pkg.publisher), version: str(pkg.version), commands, containers, views };
}

/** The contributed command whose title matches, e.g. /launch fine-?tune/i; throws naming what exists. */
export function commandTitled(m: Manifest, title: RegExp): ContributedCommand {
  const found = m.commands.find((c) => title.test(c.title) || title.test(c.label));
  if (!found) throw new Error(`package.json contributes no command titled ${String(title)}; it has: ${m.commands.map((c) => c.label).join(', ') || 'none'}`);
  return found;
}

/** The contributed view with this id (or, failing that, whose name matches). */
export function viewNamed(m: Manifest, id: string, name: RegExp): { id: string; name: string; container: string } {
  const found = m.views.find((v) => v.id === id) ?? m.views.find((v) => name.test(v.name));
  if (!found) throw new Error(`package.json contributes no view ${id}; it has: ${m.views.map((v) => v.id).join(', ') || 'none'}`);
  return found;
}
