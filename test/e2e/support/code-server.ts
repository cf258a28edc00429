/**
 * code-server (VS Code 1.139 served to a browser) as a test fixture: found in the cache
 * folder that test/e2e/setup-code-server.sh fills, given its own user-data, extensions
 * and config folders, the packaged VSIX installed into it, and started on a free port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const DEFAULT_DIR = '/opt/keel-ci/code-server';
const SETUP_HINT = 'run `bash test/e2e/setup-code-server.sh` (see test/e2e/README.md)';

/** Where code-server's entry script is; throws with the fix when it is not installed. */
export function codeServerEntry(): string {
  const dir = process.env.KEEL_CODE_SERVER_DIR ?? DEFAULT_DIR;
  const entry = join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  if (!existsSync(entry)) throw new Error(`code-server is not installed in ${dir}: ${SETUP_HINT}`);
  const major = process.versions.node.split('.')[0];
  if (major !== '24') throw new Error(`code-server 4.139 runs on Node 24, this is Node ${process.versions.node}`);
  return entry;
}

/** The chromium that playwright drives; throws with the fix when it is missing. */
export function chromiumPath(): string {
  const path = process.env.KEEL_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(path)) throw new Error(`chromium is not installed at ${path}: apt-get install -y chromium (or set KEEL_CHROMIUM)`);
  return path;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** User settings that keep the workbench quiet and the timings about Keel, not VS Code. */
const SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'extensions.ignoreRecommendations': true,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'telemetry.telemetryLevel': 'off',
  'security.workspace.trust.enabled': false,
  'update.mode': 'none',
  'chat.disableAIFeatures': true,
  'editor.hover.delay': 300,
  'editor.minimap.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'remote.autoForwardPorts': false,
};

export interface CodeServerOptions {
  /** A temp folder this instance owns (user data, extensions, logs go inside). */
  root: string;
  vsix: string;
  /** Extra environment for code-server, its extension host and what that starts. */
  env: NodeJS.ProcessEnv;
  /** Where code-server's stdout/stderr go. */
  logFile: string;
  /** User settings on top of the quiet defaults (a colour theme, say). */
  settings?: Record<string, unknown>;
}

/** A running code-server. */
export class CodeServer {
  readonly port: number;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  private readonly child: ChildProcess;

  private constructor(port: number, userDataDir: string, extensionsDir: string, child: ChildProcess) {
    this.port = port;
    this.userDataDir = userDataDir;
    this.extensionsDir = extensionsDir;
    this.child = child;
  }

  /** Installs the VSIX into a clean profile and starts the server; resolves once it answers. */
  static async start(opts: CodeServerOptions): Promise<{ server: CodeServer; installMs: number; startMs: number }> {
    const entry = codeServerEntry();
    const userDataDir = join(opts.root, 'user-data');
    const extensionsDir = join(opts.root, 'extensions');
    mkdirSync(join(userDataDir, 'User'), { recursive: true });
    mkdirSync(extensionsDir, { recursive: true });
    writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...SETTINGS, ...opts.settings }, null, 2));
    // --config: code-server otherwise writes ~/.config/code-server/config.yaml.
    const common = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--config', join(opts.root, 'config.yaml')];
    const env = { ...process.env, ...opts.env };

    const t0 = performance.now();
    const install = spawnSync(process.execPath, [entry, ...common, '--install-extension', opts.vsix], { env, encoding: 'utf8', timeout: 120_000 });
    const installMs = performance.now() - t0;
    if (install.status !== 0) throw new Error(`code-server --install-extension failed (${install.status}):\n${install.stdout}\n${install.stderr}`);

    const port = await freePort();
    const args = [entry, ...common, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry',
      '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override'];
    const log = createWriteStream(opts.logFile);
    // Its own process group, so stop() ends the server and everything it spawned.
    const child = spawn(process.execPath, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    const server = new CodeServer(port, userDataDir, extensionsDir, child);
    const t1 = performance.now();
    await server.waitHealthy(60_000);
    return { server, installMs, startMs: performance.now() - t1 };
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The URL that opens `folder` in the workbench. */
  folderUrl(folder: string): string {
    return `${this.url}/?folder=${encodeURIComponent(folder)}`;
  }

  private async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`code-server exited with ${this.child.exitCode} before answering`);
      try {
        const r = await fetch(`${this.url}/healthz`);
        if (r.ok) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) throw new Error(`code-server did not answer on ${this.url} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The folders the installed extension landed in (`<publisher>.<name>-<version>`). */
  installedExtensions(): string[] {
    return readdirSync(this.extensionsDir).filter((n) => statSync(join(this.extensionsDir, n)).isDirectory());
  }

  /** Text of every log file under the user-data logs whose name matches. */
  logs(name: RegExp): { file: string; text: string }[] {
    const out: { file: string; text: string }[] = [];
    const walk = (dir: string): void => {
      if (!existsSync(dir)) return;
      for (const n of readdirSync(dir)) {
        const p = join(dir, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (name.test(n)) out.push({ file: p, text: readFileSync(p, 'utf8') });
      }
    };
    walk(join(this.userDataDir, 'logs'));
    return out;
  }

  /** Ends code-server and its children (its process group); waits for the exit. */
  async stop(): Promise<void> {
    await stopProcessGroup(this.child);
  }
}

/** Ends a server started in its own process group (TERM, then KILL after 5 s) and waits for it to exit. */
export async function stopProcessGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }, 5000);
  await exited;
  clearTimeout(timer);
}
