// Lint rules, including the import boundaries from the design (scripts/lint/boundaries.mjs):
// protocol imports nothing; the client only the protocol and ws; better-sqlite3 only in the
// store; the daemon never vscode; the extension only the protocol and the client; the webview
// only the protocol and browser libraries. Checked on resolved paths, with allow-lists.
import tseslint from 'typescript-eslint';
import { boundariesPlugin } from './scripts/lint/boundaries.mjs';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '**/*.js', '**/*.mjs', '.test-artifacts/**', 'examples/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }],
      }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  {
    // Boundaries by resolved path with allow-lists (scripts/lint/boundaries.mjs).
    files: ['daemon/**/*.ts', 'extension/**/*.ts', 'webview/**/*.ts'],
    plugins: { keel: boundariesPlugin },
    rules: { 'keel/boundaries': 'error' },
  },
);
