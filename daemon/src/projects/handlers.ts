/** Protocol methods for projects: register, init, list, get, remove. */
import { existsSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import { ErrorCode, RpcError, type Project, type ResultOf } from '../protocol/index.ts';
import type { DaemonContext } from '../server/daemon.ts';
import type { FeatureContext } from '../server/features.ts';
import type { Handlers } from '../server/handlers.ts';
import { PROJECT_FILE, storeProjectFile } from './record-project.ts';
import { refusedFolderReason } from './refused-folders.ts';
import { projectFileTemplate } from '../track/project/template.ts';

function resolveRoot(ctx: DaemonContext, root: string): string {
  if (!isAbsolute(root)) throw new RpcError(ErrorCode.InvalidParams, `project root must be an absolute path, got "${root}"`);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new RpcError(ErrorCode.NotFound, `no such folder: ${root}`);
  }
  const dir = realpathSync(root);
  const refused = refusedFolderReason(dir, ctx.paths.home, 'a project root');
  if (refused) throw new RpcError(ErrorCode.InvalidParams, `${refused}. Run \`keel init\` in the folder that holds your training code.`, { path: dir });
  return dir;
}

/** A project by id, root path or unique name; E_NOT_FOUND with a next step otherwise. */
export function findProject(ctx: DaemonContext, ref: string): Project {
  const found = ctx.store.projects.find(ref) ?? (isAbsolute(ref) && existsSync(ref) ? ctx.store.projects.byRoot(realpathSync(ref)) : undefined);
  if (!found) throw new RpcError(ErrorCode.NotFound, `no project "${ref}"; \`keel projects\` lists them, \`keel init\` registers one`);
  return found;
}

/**
 * Reads `dir`'s keel.yaml into the store and starts watching the project. A keel.yaml with
 * errors still registers (so the editor can show them and the watcher sees the fix); the
 * errors come back as diagnostics with line and column.
 */
async function register(ctx: FeatureContext, dir: string): Promise<ResultOf['projects/register']> {
  const { project, created, read } = await storeProjectFile(ctx.store, dir);
  ctx.log.info(created ? 'project registered' : 'project updated', { id: project.id, root: dir, errors: read.errors.length });
  ctx.server.publish('projects', { projectId: project.id, change: created ? 'registered' : 'updated' });
  void ctx.tracker.watchProject(project).catch((err: Error) => ctx.log.error('cannot watch project', { project: project.id, error: err.message }));
  const diagnostics = read.diagnostics.map(({ message, path, line, column, severity }) => ({ message, path, line, column, severity }));
  return { project, created, warnings: read.warnings, diagnostics };
}

export function projectHandlers(ctx: FeatureContext): Partial<Handlers> {
  return {
    'projects/register': ({ root }) => {
      const dir = resolveRoot(ctx, root);
      if (!existsSync(join(dir, PROJECT_FILE))) {
        throw new RpcError(ErrorCode.NotFound, `no ${PROJECT_FILE} in ${dir}; run \`keel init\` there to create one`);
      }
      return register(ctx, dir);
    },
    'projects/init': async ({ root, name }) => {
      const dir = resolveRoot(ctx, root);
      const file = join(dir, PROJECT_FILE);
      const wroteProjectFile = !existsSync(file);
      // 'wx': never overwrite a keel.yaml that appeared since the check.
      if (wroteProjectFile) {
        try {
          writeFileSync(file, projectFileTemplate(name ?? basename(dir)), { flag: 'wx' });
        } catch (err) {
          throw new RpcError(ErrorCode.Io, `cannot write ${file}: ${(err as Error).message}`, { path: file });
        }
      }
      return { ...(await register(ctx, dir)), file, wroteProjectFile };
    },
    'projects/list': () => ({ projects: ctx.store.projects.list() }),
    'projects/get': ({ project }) => ({ project: findProject(ctx, project) }),
    'projects/remove': async ({ project }) => {
      const p = findProject(ctx, project);
      await ctx.tracker.unwatchProject(p.id);
      ctx.store.projects.remove(p.id);
      ctx.server.publish('projects', { projectId: p.id, change: 'removed' });
      return { ok: true };
    },
  };
}
