/** Runs a child process with a kill timer and collects its output (bounded). */
import { spawn, type SpawnOptions } from 'node:child_process';
import type { ExecResult } from './connection.ts';

const MAX_CAPTURE = 16 * 1024 * 1024;

/**
 * Runs `cmd args` and collects its output. With `group`, the child leads a process group of
 * its own and the kill timer KILLs the whole group, so nothing it started outlives the
 * time-out (a local command's children; ssh's are on the far side).
 */
export function runProcess(cmd: string, args: string[], opts: { input?: Buffer | string; timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv; group?: boolean } = {}): Promise<ExecResult & { timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const spawnOpts: SpawnOptions = {
      stdio: ['pipe', 'pipe', 'pipe'], ...(opts.cwd ? { cwd: opts.cwd } : {}), ...(opts.env ? { env: opts.env } : {}), ...(opts.group ? { detached: true } : {}),
    };
    const child = spawn(cmd, args, spawnOpts);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
        timedOut = true;
        if (opts.group && child.pid !== undefined) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        } else child.kill('SIGKILL');
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

/** One side of a pipeline. */
export interface PipelineStep {
  cmd: string;
  args: string[];
  /** Bytes for the step's stdin (the first step only; the second reads the first's stdout). */
  input?: Buffer | string;
}

/** How both sides of a pipeline ended, and how many bytes went through the pipe. */
export interface PipelineResult {
  codes: [number, number];
  stderr: [string, string];
  bytes: number;
  timedOut: boolean;
}

/**
 * `first | second` without a shell (each an argument array), under one kill timer. Rejects
 * only when a program cannot be started; exit codes are for the caller to judge.
 */
export function runPipeline(first: PipelineStep, second: PipelineStep, opts: { timeoutMs: number }): Promise<PipelineResult> {
  return new Promise((resolve, reject) => {
    const a = spawn(first.cmd, first.args, { stdio: [first.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const b = spawn(second.cmd, second.args, { stdio: ['pipe', 'ignore', 'pipe'] });
    const codes: [number, number] = [-1, -1];
    const stderr: [string, string] = ['', ''];
    let bytes = 0;
    let open = 2;
    let timedOut = false;
    let settled = false;
    const timer = setTimeout(() => {
      timedOut = true;
      a.kill('SIGKILL');
      b.kill('SIGKILL');
    }, opts.timeoutMs);
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      a.kill('SIGKILL');
      b.kill('SIGKILL');
      reject(err);
    };
    a.stdout?.on('data', (d: Buffer) => { bytes += d.length; });
    if (a.stdout && b.stdin) a.stdout.pipe(b.stdin);
    b.stdin?.on('error', () => { /* the reader ended early: its exit code says why */ });
    a.stdin?.on('error', () => { /* the writer may stop reading its list */ });
    if (first.input !== undefined) a.stdin?.end(first.input);
    [a, b].forEach((child, i) => {
      child.stderr?.on('data', (d: Buffer) => { if (stderr[i as 0 | 1].length < 64 * 1024) stderr[i as 0 | 1] += d.toString('utf8'); });
      child.once('error', fail);
      child.once('close', (code, signal) => {
        codes[i as 0 | 1] = code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : 1);
        if (--open > 0 || settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ codes, stderr, bytes, timedOut });
      });
    });
  });
}
