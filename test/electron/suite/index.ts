/**
 * The test-electron entry point (`--extensionTestsPath`): VS Code calls `run()` in the
 * extension host. It sets up mocha's TDD UI and defines the suite from extension.test.ts.
 * runTest.ts bundles this file (vscode and mocha stay external).
 */
import Mocha from 'mocha';
import * as vscode from 'vscode';
import { defineExtensionSuite } from './extension.test.ts';

export async function run(): Promise<void> {
  const workspace = process.env.KEEL_TEST_WORKSPACE;
  const keelHome = process.env.KEEL_TEST_HOME;
  if (!workspace || !keelHome) throw new Error('KEEL_TEST_WORKSPACE and KEEL_TEST_HOME must be set (runTest.ts sets them)');
  const mocha = new Mocha({ ui: 'tdd', color: true, timeout: 180_000 });
  // What mocha does before requiring a spec file: point suite()/test() at this run.
  mocha.suite.emit('pre-require', globalThis, 'extension.test.ts', mocha);
  defineExtensionSuite(vscode, { workspace, keelHome });
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} test-electron test(s) failed`);
}
