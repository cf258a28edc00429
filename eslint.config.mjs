// Lint rules, including the import boundaries from the design card:
// daemon/ never imports vscode; daemon/src/protocol/ imports nothing;
// webview/ imports only protocol types and browser libraries; extension/ loads no native module.
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['node:*', 'fs', 'path', 'child_process', 'net', 'os', 'http', 'crypto', 'worker_threads'];

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
    files: ['daemon/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'daemon/ never imports vscode' }] }],
    },
  },
  {
    files: ['daemon/src/protocol/**/*.ts'],
    ignores: ['daemon/src/protocol/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!\\./).*', message: 'daemon/src/protocol imports nothing but its own files' }] }],
    },
  },
  {
    files: ['webview/**/*.ts'],
    ignores: ['webview/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'webview/ runs in a browser' }],
        patterns: [
          { group: nodeBuiltins, message: 'webview/ runs in a browser: no Node modules' },
          { regex: '^\\.\\./\\.\\./(daemon|extension)/(?!src/protocol/)', message: 'webview/ imports only the protocol from daemon/' },
        ],
      }],
    },
  },
  {
    files: ['extension/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'better-sqlite3', message: 'the extension never loads a native module; ask the daemon' }],
        patterns: [{ regex: '^\\.\\./\\.\\./daemon/src/(?!protocol/|client/)', message: 'extension/ uses only the daemon protocol and client' }],
      }],
    },
  },
);
