/** Runs a child process with a kill timer and collects its output (bounded). */
import { spawn, type SpawnOptions } from 'node:child_process';
import type { ExecResult } from './connection.ts';

const MAX_CAPTURE = 16 * 1024 * 1024;

export function runProcess(cmd: string, args: string[], opts: { input?: Buffer | string; timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ExecResult & { timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const spawnOpts: SpawnOptions = { stdio: ['pipe', 'pipe', 'pipe'], ...(opts.cwd ? { cwd: opts.cwd } : {}), ...(opts.env ? { env: opts.env } : {}) };
    const child = spawn(cmd, args, spawnOpts);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, opts.timeoutMs)
      : undefined;
    child.stdout?.on('data', (d: Buffer) => { if (outLen < MAX_CAPTURE) { out.push(d); outLen += d.length; } });
    child.stderr?.on('data', (d: Buffer) => { if (errLen < MAX_CAPTURE) { err.push(d); errLen += d.length; } });
    child.once('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
    child.stdin?.on('error', () => { /* the command may not read its input */ });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}
