// The rule that keeps workflows/ deterministic: workflow code runs in Temporal's sandbox, so no Node builtins,
// nothing from src/ or activities/ (their barrels included) and no I/O clients. Types are fine: `import type`
// leaves no code behind. Its own file, so a unit test can run it alone (test/unit/rules.test.ts).
import { builtinModules } from 'node:module';

export const workflowDeterminism = {
  files: ['workflows/**/*.ts'],
  rules: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        paths: [...builtinModules, ...builtinModules.map((m) => `node:${m}`)].map((name) => ({
          name,
          message: 'Workflow code must be deterministic: do I/O in an activity instead.',
        })),
        patterns: [
          {
            regex: '^(\\.\\./)+(src|activities)(/.*)?$',
            message: 'Workflows may only import deterministic code (types are fine: `import type`).',
            allowTypeImports: true,
          },
          { regex: '^(openai|zod|yaml)(/.*)?$', message: 'Workflows may only import deterministic code.' },
        ],
      },
    ],
  },
};
