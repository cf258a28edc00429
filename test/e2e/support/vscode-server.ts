/**
 * VS Code's own server (the `server-main.js` inside code-server's lib/vscode, VS Code 1.139)
 * started directly, as an extension-development host: with `--enable-smoke-test-driver` the
 * browser workbench honours the `extensionDevelopmentPath` / `extensionTestsPath` it is given in
 * its `payload`, and the remote extension host loads the extension from the repository and runs
 * the test entry point in it — what @vscode/test-electron does with a downloaded VS Code, with
 * no download. (code-server's own CLI refuses the smoke-test flag, hence the server itself.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { codeServerEntry, stopProcessGroup } from './code-server.ts';

/** The VS Code server inside the code-server install (throws with the setup hint when missing). */
export function vscodeServerMain(): string {
  const entry = codeServerEntry();
  const main = join(entry, '..', '..', '..', 'lib', 'vscode', 'out', 'server-main.js');
  if (!existsSync(main)) throw new Error(`no VS Code server at ${main}: run \`bash test/e2e/setup-code-server.sh\``);
  return main;
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

/** A running VS Code server in extension-development mode. */
export class VsCodeServer {
  readonly port: number;
  private readonly child: ChildProcess;
  private readonly logFile: string;

  private constructor(port: number, child: ChildProcess, logFile: string) {
    this.port = port;
    this.child = child;
    this.logFile = logFile;
  }

  /** Starts the server with its own user data, settings and environment; resolves once it answers. */
  static async start(opts: { root: string; settings: Record<string, unknown>; env: NodeJS.ProcessEnv; logFile: string }): Promise<VsCodeServer> {
    const userData = join(opts.root, 'user-data');
    mkdirSync(join(userData, 'User'), { recursive: true });
    writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify(opts.settings, null, 2));
    const port = await freePort();
    const args = [vscodeServerMain(), '--host', '127.0.0.1', '--port', String(port), '--without-connection-token', '--enable-smoke-test-driver', '--accept-server-license-terms',
      '--disable-workspace-trust', '--user-data-dir', userData, '--server-data-dir', join(opts.root, 'server-data'), '--extensions-dir', join(opts.root, 'extensions')];
    const log = createWriteStream(opts.logFile);
    // Its own process group, so stop() ends the server and its extension host.
    const child = spawn(process.execPath, args, { env: { ...process.env, ...opts.env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    const server = new VsCodeServer(port, child, opts.logFile);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the VS Code server exited with ${child.exitCode}: ${server.log().slice(-2000)}`);
      if (/Extension host agent listening on \d+/.test(server.log())) break;
      if (Date.now() > deadline) throw new Error(`the VS Code server did not start within 60 s: ${server.log().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return server;
  }

  /** `host:port`, the remote authority of `vscode-remote://` URIs. */
  get authority(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The workbench URL that opens `folder` with the extension at `extensionPath` under development, running `testsEntry`. */
  testUrl(folder: string, extensionPath: string, testsEntry: string): string {
    const remote = (path: string): string => `vscode-remote://${this.authority}${path}`;
    const payload = JSON.stringify([['extensionDevelopmentPath', remote(extensionPath)], ['extensionTestsPath', remote(testsEntry)]]);
    return `http://${this.authority}/?folder=${encodeURIComponent(remote(folder))}&payload=${encodeURIComponent(payload)}`;
  }

  /** What the server printed (its stdout and stderr). */
  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** The exit code of the extension host once it has exited (after the tests), else undefined. */
  extensionHostExit(): number | undefined {
    const m = /Extension Host Process exited with code: (\d+)/.exec(this.log());
    return m ? Number(m[1]) : undefined;
  }

  async stop(): Promise<void> {
    await stopProcessGroup(this.child);
  }
}
