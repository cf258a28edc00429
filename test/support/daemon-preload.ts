/**
 * Test-only preload for a daemon process (`node --import THIS bin/keel.js daemon`), so tests
 * can prove process-level behaviour without a test hook in production code:
 * - KEEL_TEST_ON_SIGUSR2=reject: on SIGUSR2, a promise rejection nobody handles;
 * - KEEL_TEST_ON_SIGUSR2=throw: on SIGUSR2, an exception thrown from the signal handler;
 * - KEEL_TEST_LEAK_HANDLE=1: a file watcher nobody closes, which keeps the event loop alive
 *   after the daemon's shutdown (as a leaked watcher in the daemon itself would).
 */
import { watch } from 'node:fs';
import { tmpdir } from 'node:os';

const mode = process.env.KEEL_TEST_ON_SIGUSR2;
if (mode === 'reject' || mode === 'throw') {
  process.on('SIGUSR2', () => {
    if (mode === 'reject') void Promise.reject(new Error('test preload: a rejection nobody handles'));
    else throw new Error('test preload: an exception nobody catches');
  });
}
if (process.env.KEEL_TEST_LEAK_HANDLE === '1') watch(tmpdir());
