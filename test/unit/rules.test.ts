/**
 * Guards of the architecture: the workflow type has one name, and the lint rule keeps workflows/ deterministic
 * (no Node builtins, nothing from src/ or activities/ but types, barrels included).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { agentTeamWorkflow } from '../../workflows';
import { WORKFLOW_TYPE } from '../../workflows/types';

it('the workflow type name is the workflow function', () => {
  expect(agentTeamWorkflow.name).toBe(WORKFLOW_TYPE);
});

describe('the determinism lint rule on workflows/ (eslint.determinism.mjs, as eslint.config.mjs applies it)', () => {
  const root = join(__dirname, '../..');
  const lines = [
    "import { createActivities } from '../activities';",
    "import { createAgentStep } from '../activities/index';",
    "import { loadConfig } from '../src';",
    "import { parseConfig } from '../src/config';",
    "import { readFileSync } from 'node:fs';",
    "import { spawn } from 'child_process';",
    "import OpenAI from 'openai';",
    "import type { StepEvent } from '../activities';",
    "import { reduce } from './state';",
  ];
  let messages: Map<number, string>;

  beforeAll(() => {
    // The rule alone, without type information: one ESLint run over every case, in about a second.
    const url = (p: string): string => pathToFileURL(p).href;
    const config = join(mkdtempSync(join(tmpdir(), 'eslint-')), 'eslint.config.mjs');
    writeFileSync(
      config,
      `import tseslint from ${JSON.stringify(url(join(root, 'node_modules/typescript-eslint/dist/index.js')))};\n` +
        `import { workflowDeterminism } from ${JSON.stringify(url(join(root, 'eslint.determinism.mjs')))};\n` +
        'export default [{ files: ["**/*.ts"], languageOptions: { parser: tseslint.parser }, plugins: { "@typescript-eslint": tseslint.plugin } }, workflowDeterminism];\n',
    );
    const run = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules/eslint/bin/eslint.js'),
        '--config',
        config,
        '--stdin',
        '--stdin-filename',
        'workflows/probe.ts',
        '--format',
        'json',
      ],
      { cwd: root, input: lines.join('\n') + '\n', encoding: 'utf8' },
    );
    const [result] = JSON.parse(run.stdout) as { messages: { line: number; message: string }[] }[];
    messages = new Map(result!.messages.map((m) => [m.line, m.message]));
  });

  it.each(lines.slice(0, 7).map((line, i) => [line, i + 1] as const))('refuses %s', (_line, n) => {
    expect(messages.get(n)).toMatch(/Workflows may only import deterministic code|Workflow code must be deterministic/);
  });

  it('allows type-only imports of activities, and workflow modules', () => {
    expect(messages.get(8)).toBeUndefined();
    expect(messages.get(9)).toBeUndefined();
  });
});

describe('the import-circle lint rule (eslint.cycles.mjs, as eslint.config.mjs applies it)', () => {
  const root = join(__dirname, '../..');
  /** Lints `files` (name → text) in a folder of their own with the rule alone; returns the messages by file. */
  function lint(files: Record<string, string>): Record<string, string[]> {
    const dir = mkdtempSync(join(tmpdir(), 'cycles-'));
    mkdirSync(join(dir, 'src'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'src', name), text);
    const url = (p: string): string => pathToFileURL(p).href;
    writeFileSync(
      join(dir, 'eslint.config.mjs'),
      `import tseslint from ${JSON.stringify(url(join(root, 'node_modules/typescript-eslint/dist/index.js')))};\n` +
        `import { noImportCycles } from ${JSON.stringify(url(join(root, 'eslint.cycles.mjs')))};\n` +
        'export default [{ files: ["**/*.ts"], languageOptions: { parser: tseslint.parser } }, noImportCycles];\n',
    );
    const run = spawnSync(
      process.execPath,
      [join(root, 'node_modules/eslint/bin/eslint.js'), 'src', '--format', 'json'],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );
    const results = JSON.parse(run.stdout) as { filePath: string; messages: { message: string }[] }[];
    return Object.fromEntries(results.map((r) => [basename(r.filePath), r.messages.map((m) => m.message)]));
  }

  it('refuses a circle, even of types only (the gates ↔ state circle the model had), naming its path', () => {
    const found = lint({
      'state.ts':
        "import { budgetExceeded } from './gates';\nexport interface TeamState { n: number }\nexport const x = budgetExceeded;\n",
      'gates.ts':
        "import type { TeamState } from './state';\nexport const budgetExceeded = (s: TeamState): boolean => s.n > 0;\n",
    });
    expect(found['state.ts']).toEqual(['import circle: src/state.ts → src/gates.ts → src/state.ts']);
    expect(found['gates.ts']).toEqual(['import circle: src/gates.ts → src/state.ts → src/gates.ts']);
  });

  it('follows lazy require() and index files; a chain without a circle passes', () => {
    const found = lint({
      'a.ts': "export const load = () => require('./b');\n",
      'b.ts': "export * from './c';\n",
      'c.ts': "import type { X } from './d';\nexport type Y = X;\n",
      'd.ts': 'export type X = number;\n',
    });
    expect(Object.values(found).flat()).toEqual([]);
    const circle = lint({ 'a.ts': "export const load = () => require('./b');\n", 'b.ts': "export * from './a';\n" });
    expect(circle['a.ts']).toEqual(['import circle: src/a.ts → src/b.ts → src/a.ts']);
  });
});
