/**
 * The import-boundary lint rule (scripts/lint/boundaries.mjs) on crafted files: each hole the
 * old regex rules had (a deep `../../../daemon/src/store` from an extension feature folder, a
 * deny-list that let `ws` and `events` into the webview) is now an error, and the imports the
 * design allows still pass.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
// @ts-expect-error: a plain .mjs module without type declarations
import { boundariesPlugin } from '../scripts/lint/boundaries.mjs';

const root = resolve(import.meta.dirname, '..');

function lint(file: string, code: string): string[] {
  const linter = new Linter({ cwd: root });
  const messages = linter.verify(code, [{
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { keel: boundariesPlugin as never },
    rules: { 'keel/boundaries': 'error' },
  }], { filename: resolve(root, file) });
  return messages.map((m) => m.message);
}

describe('import boundaries', () => {
  it('refuse the store from an extension feature folder, however deep the path', () => {
    const errors = lint('extension/src/runs/view.ts', "import { Store } from '../../../daemon/src/store/index.ts';\nexport { Store };\n");
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /extension\/src\/runs\/view\.ts may not import daemon\/src\/store\/index\.ts/);
  });

  it('let the extension use the protocol, the client, vscode and Node', () => {
    const code = [
      "import type { Run } from '../../../daemon/src/protocol/index.ts';",
      "import { KeelClient } from '../../../daemon/src/client/client.ts';",
      "import * as vscode from 'vscode';",
      "import { join } from 'node:path';",
      'export type { Run }; export { KeelClient, vscode, join };',
    ].join('\n');
    assert.deepEqual(lint('extension/src/runs/view.ts', code), []);
  });

  it('keep chokidar, simple-git and native modules out of the extension', () => {
    for (const p of ['chokidar', 'simple-git', 'better-sqlite3', 'ws']) {
      assert.equal(lint('extension/src/x.ts', `import x from '${p}';\nexport { x };\n`).length, 1, p);
    }
  });

  it('allow the webview only the protocol and browser libraries, from any sub-folder', () => {
    assert.deepEqual(lint('webview/src/charts/a.ts', "import type { HostToWebview } from '../../../daemon/src/protocol/index.ts';\nimport uPlot from 'uplot';\nexport type { HostToWebview }; export { uPlot };\n"), []);
    for (const bad of ["'ws'", "'events'", "'node:fs'", "'../../../daemon/src/store/index.ts'", "'../../../extension/src/format.ts'", "'vscode'"]) {
      assert.equal(lint('webview/src/charts/a.ts', `import x from ${bad};\nexport { x };\n`).length, 1, bad);
    }
  });

  it('keep better-sqlite3 in the store and vscode out of the daemon', () => {
    assert.deepEqual(lint('daemon/src/store/x.ts', "import Database from 'better-sqlite3';\nexport { Database };\n"), []);
    assert.equal(lint('daemon/src/track/x.ts', "import Database from 'better-sqlite3';\nexport { Database };\n").length, 1);
    assert.equal(lint('daemon/src/track/x.ts', "import * as vscode from 'vscode';\nexport { vscode };\n").length, 1);
    assert.equal(lint('daemon/src/track/x.ts', "import * as v from '../../../extension/src/format.ts';\nexport { v };\n").length, 1);
  });

  it('let the protocol import only its own files, in every import form', () => {
    assert.deepEqual(lint('daemon/src/protocol/x.ts', "export * from './errors.ts';\n"), []);
    assert.equal(lint('daemon/src/protocol/x.ts', "export * from '../store/index.ts';\n").length, 1);
    assert.equal(lint('daemon/src/protocol/x.ts', "export { a } from 'node:fs';\n").length, 1);
    assert.equal(lint('daemon/src/protocol/x.ts', "export const m = import('../track/tracker.ts');\n").length, 1);
  });

  it('keep test support out of production code, and let tests import anything', () => {
    assert.equal(lint('daemon/src/track/x.ts', "import { realFixture } from '../../../test/support/fixtures.ts';\nexport { realFixture };\n").length, 1);
    assert.deepEqual(lint('daemon/src/track/x.test.ts', "import { realFixture } from '../../../test/support/fixtures.ts';\nexport { realFixture };\n"), []);
  });
});
