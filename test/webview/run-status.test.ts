/** The compare panel's status badges: every status has its class; an incomplete run is a warning, not a success. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RunStatuses } from '../../daemon/src/protocol/domain.ts';
import { runStatusClass } from '../../webview/src/format.ts';

describe('run status badges', () => {
  it('gives every status a class, and incomplete the warning one', () => {
    assert.deepEqual(Object.fromEntries(RunStatuses.map((s) => [s, runStatusClass(s)])), {
      queued: 'status-idle', syncing: 'status-live', starting: 'status-live', running: 'status-live', incomplete: 'status-warn',
      succeeded: 'status-ok', failed: 'status-bad', cancelled: 'status-idle', lost: 'status-bad',
    });
  });
});
