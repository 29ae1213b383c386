// Lint rules that catch the mistakes that hurt a Temporal app most: a forgotten await on an activity or
// workflow API, and I/O (Node builtins) sneaking into deterministic workflow code.
import tseslint from 'typescript-eslint';
import { noImportCycles } from './eslint.cycles.mjs';
import { workflowDeterminism } from './eslint.determinism.mjs';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'coverage/**',
      'node_modules/**',
      '.temporal/**',
      '.cache/**',
      'test-artifacts/**',
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
  noImportCycles,
  workflowDeterminism,
);
