/** `keel init` and `keel projects`. */
import { existsSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { ProjectDiagnostic } from '../../protocol/index.ts';
import { isGlobItemError, PROJECT_FILE } from '../../projects/record-project.ts';
import { projectFileTemplate } from '../../track/project/template.ts';
import { ago, print, printError, printJson, table } from '../output.ts';
import { withDaemon } from '../session.ts';
import { stringOption, type CommandContext } from '../command.ts';

export async function initCommand(ctx: CommandContext): Promise<number> {
  const root = resolve(ctx.cwd, ctx.positionals[0] ?? '.');
  const file = join(root, PROJECT_FILE);
  const wrote = !existsSync(file);
  if (wrote) writeFileSync(file, projectFileTemplate(stringOption(ctx, 'name') ?? basename(root)), { flag: 'wx' });
  return withDaemon(async (client) => {
    const { project, created, warnings, diagnostics } = await client.call('projects/register', { root });
    if (ctx.json) {
      printJson({ project, created, wroteProjectFile: wrote, file, warnings, diagnostics });
      return project.configErrors.length > 0 ? 1 : 0;
    }
    print(`${wrote ? `Wrote ${file}\n` : `Kept the existing ${file}\n`}`);
    print(`${created ? 'Registered' : 'Updated'} project "${project.name}" (${project.id})\n`);
    for (const w of warnings) print(`warning: ${w}\n`);
    return reportErrors(project.configErrors, diagnostics);
  });
}

/**
 * Prints keel.yaml's errors and what Keel tracks meanwhile. The exit code is 1 whenever there
 * is an error, even though the project is registered (and watched, so a fix is picked up
 * without running this again): a script running `keel init && keel launch` must not go on
 * as if everything in keel.yaml were tracked.
 */
function reportErrors(configErrors: readonly string[], diagnostics: readonly ProjectDiagnostic[]): number {
  if (configErrors.length === 0) return 0;
  // stderr: `keel init` output parsed by scripts stays on stdout; problems go where errors go.
  for (const e of configErrors) printError(`error: ${e}\n`);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const onlyGlobs = errors.length > 0 && errors.every((d) => isGlobItemError(d.path));
  printError(onlyGlobs
    ? `Keel tracks everything else in ${PROJECT_FILE}, without the ${countUnlessOne(errors.length, 'glob')} above; fix ${errors.length === 1 ? 'it' : 'them'} and Keel picks up the change.\n`
    : `Keel does not track this project until ${PROJECT_FILE} is fixed; it watches the file and picks up the fix.\n`);
  return 1;
}

/** `word` for one ("the glob above"), "3 globs" for more: unlike protocol/format.ts plural, one is not counted. */
function countUnlessOne(n: number, word: string): string {
  return n === 1 ? word : `${n} ${word}s`;
}

export async function projectsCommand(ctx: CommandContext): Promise<number> {
  return withDaemon(async (client) => {
    const { projects } = await client.call('projects/list', {});
    if (ctx.json) {
      printJson({ projects });
      return 0;
    }
    if (projects.length === 0) {
      print('No projects yet. Run `keel init` in a project folder.\n');
      return 0;
    }
    print(table(projects, [
      { header: 'NAME', value: (p) => p.name },
      { header: 'ID', value: (p) => p.id },
      { header: 'ROOT', value: (p) => p.root },
      { header: 'UPDATED', value: (p) => ago(p.updatedAt) },
      { header: 'PROBLEMS', value: (p) => p.configErrors.length, align: 'right' },
    ]) + '\n');
    return 0;
  });
}
