/**
 * Test support: `daemon/status` round trips measured over a real socket while the daemon is
 * busy with something else, reported as percentiles (a single timing proves nothing on a
 * shared machine).
 */
import { KeelClient } from '../../daemon/src/client/client.ts';

/** The p-th percentile (0–100) of `xs`. */
export function percentile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** A connected client for `socket`. */
export function connectClient(socket: string): Promise<KeelClient> {
  return KeelClient.connect({ socketPath: socket, client: { name: 'latency-test', version: '0' }, requestTimeoutMs: 0 });
}

/**
 * Sends `daemon/status` every `gapMs` (default 10 ms) whether or not earlier calls have
 * answered — an open loop, so a daemon frozen for 10 s shows up as ~1,000 slow calls rather
 * than one — until `done()` says so (asked every `checkEvery` sends, once `minSamples` were
 * sent) or `timeoutMs` passes. Returns every round-trip time (ms) once all have answered.
 */
export async function statusLatencies(
  client: KeelClient, done: () => boolean | Promise<boolean>,
  opts: { timeoutMs: number; gapMs?: number; checkEvery?: number; minSamples?: number; what: string },
): Promise<number[]> {
  const latencies: number[] = [];
  const calls: Promise<void>[] = [];
  const deadline = Date.now() + opts.timeoutMs;
  const send = (): void => {
    const t0 = performance.now();
    calls.push(client.call('daemon/status', {}).then(() => void latencies.push(performance.now() - t0)));
  };
  for (let i = 0; ; i++) {
    send();
    if (i % (opts.checkEvery ?? 10) === 0 && calls.length >= (opts.minSamples ?? 0) && (await done())) break;
    if (Date.now() > deadline) {
      await Promise.all(calls);
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what} (${latencies.length} status calls, p99 ${percentile(latencies, 99).toFixed(1)} ms)`);
    }
    await new Promise((r) => setTimeout(r, opts.gapMs ?? 10));
  }
  await Promise.all(calls);
  return latencies;
}
