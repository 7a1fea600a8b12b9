// Lint rules that protect the product: promises are never dropped on the floor, and workflow
// code stays deterministic (no Node built-ins, no direct I/O) so Temporal replays stay valid.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.data/**', 'coverage/**', 'src/clients/learning360/*-api.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        projectService: { allowDefaultProject: ['*.mjs', '*.js', 'bin/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-deprecated': 'error',
      // Tests and benchmarks poke at JSON answers freely; product code and the emulators may not.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  {
    files: ['src/**/*.ts', 'packages/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'error',
      '@typescript-eslint/no-unsafe-member-access': 'error',
      '@typescript-eslint/no-unsafe-argument': 'error',
      '@typescript-eslint/no-unsafe-return': 'error',
      '@typescript-eslint/no-unsafe-call': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox.
    files: ['src/workflows/**/*.ts'],
    rules: {
      // An allow-list: values come from @temporalio/workflow and from files of src/workflows
      // (`./x`, never climbing out with `..`); everything else (activities, clients, reports, the
      // domain, npm packages, Node built-ins) only as `import type`. `npm run deps:check` holds the
      // same line on the resolved import graph.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!@temporalio/workflow$|\\./(?!(.*/)?\\.\\.(/|$)))',
              caseSensitive: true,
              allowTypeImports: true,
              message:
                "Workflow code runs in Temporal's deterministic sandbox: import values only from @temporalio/workflow " +
                'and files in src/workflows; anything else with `import type` (activities via proxyActivities). Do I/O in an activity.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() or condition() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use a workflow timer loop.' },
        { name: 'process', message: 'Workflow code cannot read the process environment.' },
        { name: 'fetch', message: 'Do HTTP in an activity.' },
      ],
    },
  },
);
