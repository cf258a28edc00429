/**
 * `runs/preflight`: everything a launch can be checked for before it is made, so a typo costs
 * a second in the editor instead of a failed run on a GPU host — the config is inside a
 * project whose keel.yaml has a train command; it parses (in the parse worker); the models
 * and datasets it names exist or are hub ids; the overrides name keys it has, with values of
 * its types; the host exists, answers and has the GPUs. Nothing is recorded.
 */
import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { PreflightProblem, PreflightResult } from '../protocol/index.ts';
import { projectSpec } from '../dispatch/launch-request.ts';
import type { HostRegistry } from '../dispatch/hosts.ts';
import type { Store } from '../store/index.ts';
import type { TrainingConfig } from '../track/config/types.ts';
import { defaultParsePool, type ParsePool } from '../work/index.ts';
import { checkOverrides, checkPaths, type CheckOutcome } from './preflight-config.ts';
import { checkTarget, type HostCheckDeps, type HostWish } from './preflight-host.ts';
import { defaultRunName } from './run-name.ts';

/** What a pre-flight checks: the fields of a `runs/launch` request that matter before it. */
export interface PreflightInput extends HostWish {
  config: string;
  cwd?: string | undefined;
  set?: string[] | undefined;
}

/** What pre-flight needs from the daemon. */
export interface PreflightDeps extends Omit<HostCheckDeps, 'checkMaxAgeMs' | 'checkTimeoutMs'> {
  store: Store;
  hosts: HostRegistry;
  parser?: ParsePool;
  checkMaxAgeMs?: number;
  checkTimeoutMs?: number;
}

/** Issues of a config worth a warning (unresolved `${…}`, duplicate keys), at most this many. */
const MAX_CONFIG_WARNINGS = 5;

function error(check: PreflightProblem['check'], message: string, subject?: string): PreflightProblem {
  return { check, severity: 'error', message, ...(subject ? { subject } : {}) };
}

function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\.\s*$/, '');
}

/** The project holding the config, and that its keel.yaml can launch; a problem otherwise. */
async function findProject(store: Store, configPath: string): Promise<{ id: string; root: string } | PreflightProblem> {
  const project = store.projects.containing(configPath);
  if (!project) return error('project', `${configPath} is not inside a Keel project. Run Keel: Initialize Project (\`keel init\`) in the project folder first.`);
  try {
    const spec = await projectSpec(project.root);
    if (!spec.train?.command) return error('project', `keel.yaml in ${project.root} has no train.command, so Keel cannot start a run. Add one, e.g. train: {command: "python3 train.py --config {config} --output-dir {output_dir}"}.`);
  } catch (err) {
    return error('project', `${messageOf(err)}. Fix keel.yaml first.`);
  }
  return { id: project.id, root: project.root };
}

/** The config parsed in the parse worker, or the problem (with file, line and column when it is a syntax error). */
async function parseConfig(parser: ParsePool, configPath: string, root: string): Promise<TrainingConfig | PreflightProblem> {
  try {
    return (await parser.parseConfigFile(configPath)).parsed;
  } catch (err) {
    return error('config', `${relative(root, configPath)} cannot be read as a training config: ${messageOf(err)}. Fix the file and launch again.`, configPath);
  }
}

function configWarnings(parsed: TrainingConfig, configPath: string, root: string): PreflightProblem[] {
  const name = relative(root, configPath);
  return parsed.issues.slice(0, MAX_CONFIG_WARNINGS).map((issue) => ({
    check: 'config', severity: 'warning', subject: issue.path ?? configPath,
    message: `${name}${issue.line ? `:${issue.line}` : ''}: ${issue.message}`,
  }));
}

/** Runs every check; never throws for a problem of the launch (only for a failure of the daemon). */
export async function preflightLaunch(deps: PreflightDeps, input: PreflightInput): Promise<PreflightResult> {
  const outcomes: CheckOutcome[] = [];
  const abs = isAbsolute(input.config) ? input.config : resolve(input.cwd ?? process.cwd(), input.config);
  const hostDeps: HostCheckDeps = { ...deps, checkMaxAgeMs: deps.checkMaxAgeMs ?? 60_000, checkTimeoutMs: deps.checkTimeoutMs ?? 20_000 };
  // The host is checked alongside the config: an SSH round trip should not wait for a parse.
  // Caught at once: it settles while the config is checked, and an unhandled rejection would end the daemon.
  const target = checkTarget(hostDeps, input).catch((err: unknown): CheckOutcome => ({ problems: [error('host', `Keel could not check the host: ${messageOf(err)}.`)], passed: [] }));
  let defaultName: string | null = null;
  if (!existsSync(abs)) {
    outcomes.push({ problems: [error('config', `There is no config file at ${abs}.`, abs)], passed: [] });
  } else {
    const real = realpathSync(abs);
    const project = await findProject(deps.store, real);
    if ('check' in project) outcomes.push({ problems: [project], passed: [] });
    else {
      defaultName = defaultRunName(deps.store, real, input.set ?? []);
      outcomes.push({ problems: [], passed: ['keel.yaml has a train command'] });
      outcomes.push(await configOutcome(deps.parser ?? defaultParsePool(), real, project.root, input, remoteHost(deps, input)));
    }
  }
  outcomes.push(await target);
  const problems = outcomes.flatMap((o) => o.problems);
  return { ok: !problems.some((p) => p.severity === 'error'), problems, passed: outcomes.flatMap((o) => o.passed), defaultName };
}

async function configOutcome(parser: ParsePool, configPath: string, root: string, input: PreflightInput, remote: string | null): Promise<CheckOutcome> {
  const parsed = await parseConfig(parser, configPath, root);
  if ('check' in parsed) return { problems: [parsed], passed: [] };
  const overrides = checkOverrides(parsed, input.set ?? []);
  const paths = await checkPaths(parsed.refs, configPath, root, remote);
  return {
    problems: [...configWarnings(parsed, configPath, root), ...overrides.problems, ...paths.problems],
    passed: [`${relative(root, configPath)} parses (${parsed.flavor === 'unknown' ? 'plain' : parsed.flavor} config)`, ...overrides.passed, ...paths.passed],
  };
}

/** The SSH host the run goes to, when one is named (absolute paths may live there). */
function remoteHost(deps: PreflightDeps, input: PreflightInput): string | null {
  if (input.local || !input.host) return null;
  try {
    return deps.hosts.get(input.host).backend === 'ssh' ? input.host : null;
  } catch {
    return null;
  }
}
