/** How long to wait before each reconnect attempt after the daemon connection drops. */

export interface BackoffOptions {
  firstMs: number;
  maxMs: number;
  /** 0..1: each delay is shortened by up to this fraction at random, so windows don't reconnect in lockstep. */
  jitter: number;
}

export const ReconnectBackoff: BackoffOptions = { firstMs: 250, maxMs: 10_000, jitter: 0.2 };

/** The delay before attempt `attempt` (0-based): doubling from `firstMs`, capped at `maxMs`. */
export function backoffDelay(attempt: number, opts: BackoffOptions = ReconnectBackoff, random: () => number = Math.random): number {
  const base = Math.min(opts.maxMs, opts.firstMs * 2 ** Math.min(Math.max(0, attempt), 30));
  return Math.round(base * (1 - opts.jitter * random()));
}

/** Attempts made with a plain connect before the extension starts a daemon itself (about 1.75 s of waiting). */
export const CONNECT_ONLY_ATTEMPTS = 3;
