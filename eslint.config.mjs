// One linter config for the whole repo. The rule that matters most: the core never imports `vscode`,
// so the engine can run headless (CLI, CI, a bastion host) and be unit-tested without an editor.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const LEDGER_IMPLEMENTATIONS = {
  group: ['**/ledger/sqlJsLedger', '**/ledger/sqlJsFile'],
  message: 'Use the Ledger interface (core/ledger/ledger) and openLedger (core/ledger/openLedger).',
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'out/',
      '.vscode-test/',
      'test-output/',
      'bench/output/',
      'runbooks/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/core/**/*.ts', 'src/cli/**/*.ts', 'src/demo/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'vscode', message: 'Only src/extension/ may import vscode.' }] },
      ],
    },
  },
  // The ledger is used through its interface (src/core/ledger/ledger.ts) and opened by openLedger.ts, the
  // one place that decides which implementation a runbook has; only src/core/ledger knows the classes.
  // (Repeats the vscode rule above: a later block's options replace an earlier one's.)
  {
    files: ['src/core/**/*.ts', 'src/cli/**/*.ts', 'src/demo/**/*.ts'],
    ignores: ['src/core/ledger/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'Only src/extension/ may import vscode.' }],
          patterns: [LEDGER_IMPLEMENTATIONS],
        },
      ],
    },
  },
  {
    files: ['src/extension/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [LEDGER_IMPLEMENTATIONS] }] },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
