// Lint rules that catch the mistakes that hurt a Temporal app most: a forgotten await on an activity or
// workflow API, and I/O (Node builtins) sneaking into deterministic workflow code.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'coverage/**',
      'node_modules/**',
      '.temporal/**',
      '.cache/**',
      '.scratch/**',
      'checkpoints/**',
      'bin/**',
      '*.mjs',
      '*.js',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...builtinModules, ...builtinModules.map((m) => `node:${m}`)].map((name) => ({
            name,
            message: 'Workflow code must be deterministic: do I/O in an activity instead.',
          })),
          patterns: [
            {
              group: ['../src/*', '../activities/*', 'openai'],
              message: 'Workflows may only import deterministic code.',
            },
          ],
        },
      ],
    },
  },
);
