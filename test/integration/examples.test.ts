/** The examples in examples/ run as documented (so the README never points at a broken one). */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { cleanEnv, collect } from '../cli-helpers';

it('examples/checkpoints.ts fails a run, lists its checkpoints and resumes reusing every completed step', async () => {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', join(__dirname, '../../examples/checkpoints.ts')], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { code, stdout, stderr } = await collect(child);
  expect(stderr).toBe('');
  expect(stdout).toMatch(/^first run: FAILED — coder \(round 2\): the LLM endpoint answered HTTP 400/);
  expect(stdout.match(/^ {2}step \d /gm)).toHaveLength(5);
  expect(stdout).toContain('state at step 4: round 2, next speaker coder');
  expect(stdout).toContain('resumed: COMPLETED; reused 4 steps, executed 5, saved 1163 tokens in 4 LLM calls');
  expect(code).toBe(0);
});
