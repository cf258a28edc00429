/** `keel init` and `keel projects`. */
import { existsSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { PROJECT_FILE } from '../../projects/record-project.ts';
import { projectFileTemplate } from '../../track/project/template.ts';
import { ago, print, printJson, table } from '../output.ts';
import { withDaemon } from '../session.ts';
import { stringOption, type CommandContext } from '../command.ts';

export async function initCommand(ctx: CommandContext): Promise<number> {
  const root = resolve(ctx.cwd, ctx.positionals[0] ?? '.');
  const file = join(root, PROJECT_FILE);
  const wrote = !existsSync(file);
  if (wrote) writeFileSync(file, projectFileTemplate(stringOption(ctx, 'name') ?? basename(root)), { flag: 'wx' });
  return withDaemon(async (client) => {
    const { project, created, warnings } = await client.call('projects/register', { root });
    if (ctx.json) {
      printJson({ project, created, wroteProjectFile: wrote, file, warnings });
      return 0;
    }
    print(`${wrote ? `Wrote ${file}\n` : `Kept the existing ${file}\n`}`);
    print(`${created ? 'Registered' : 'Updated'} project "${project.name}" (${project.id})\n`);
    for (const w of warnings) print(`warning: ${w}\n`);
    for (const e of project.configErrors) print(`error: ${e}\n`);
    return project.configErrors.length > 0 ? 1 : 0;
  });
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
