/**
 * Test support: a real Store on a keel.db in a fresh temp dir for one suite, closed and its
 * dir removed in an `after` hook (the block the store, lineage, tracking and ingest suites each
 * wrote by hand).
 *
 * Call it at the top of a `describe`: the store opens there and then, so the suite's `before`
 * hooks and tests can use it. node:test runs `after` hooks in the order they are registered,
 * so this one runs before any the suite registers later: what must stop while the store is
 * still open (a tracker, a hash pool) goes in `closeFirst`.
 */
import { after } from 'node:test';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../daemon/src/store/index.ts';

export interface TempStore {
  /** The temp dir, as a real path (so the paths a test builds in it are the ones the store records). */
  readonly dir: string;
  /** `<dir>/keel.db`. */
  readonly file: string;
  /** The open store (after `reopen`, the new one: a suite that reopens keeps `let { store } = …` and assigns). */
  readonly store: Store;
  /** Closes the store and opens its file again, as a daemon restart does; `whileClosed` runs in between. */
  reopen(whileClosed?: () => void): Store;
}

export interface TempStoreOptions {
  /** Runs in the `after` hook before the store closes: what still uses the store stops here. */
  closeFirst?: () => unknown;
}

/** A Store on `<mkdtemp(prefix)>/keel.db` for the calling suite's hooks and tests. */
export function useTempStore(prefix: string, opts: TempStoreOptions = {}): TempStore {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  const file = join(dir, 'keel.db');
  let store = new Store(file);
  after(async () => {
    try {
      await opts.closeFirst?.();
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return {
    dir,
    file,
    get store() { return store; },
    reopen(whileClosed) {
      store.close();
      whileClosed?.();
      store = new Store(file);
      return store;
    },
  };
}
