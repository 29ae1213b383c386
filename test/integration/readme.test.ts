/**
 * The README's fail-and-resume story reproduces as printed: each `$ ` command of its block is run as written
 * (environment assignments included, `npx agent-team` being this checkout's CLI), and every output line the block
 * shows comes out, in order. Only what differs from run to run is read loosely: the workflow id (the README's
 * sample is replaced by the run's own), run ids, and the model's latency.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, cli } from '../cli-helpers';
import { testAddress } from '../helpers';

const README = readFileSync(join(__dirname, '../../README.md'), 'utf8');
const SAMPLE_ID = /team-\d{6}-\d{6}-[0-9a-f]{6}/g;

interface Step {
  env: Record<string, string>;
  args: string[];
  expected: string[];
}

/** The words of a command line: double quotes group, `#` starts a comment. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const [, quoted, plain] of line.replace(/\s+#.*$/, '').matchAll(/"([^"]*)"|(\S+)/g)) out.push(quoted ?? plain!);
  return out;
}

/** The story's commands and the output lines shown after each. */
function story(): Step[] {
  const block = /```sh\n(\$ OFFLINE_LLM_FAULTS[\s\S]*?)```/.exec(README)?.[1];
  if (!block) throw new Error('the README has no fail-and-resume story starting with `$ OFFLINE_LLM_FAULTS`');
  const steps: Step[] = [];
  const lines = block.replace(/\\\n\s*/g, '').split('\n');
  for (const line of lines) {
    if (line.startsWith('$ ')) {
      const all = words(line.slice(2));
      const env = Object.fromEntries(
        all.filter((w) => /^[A-Z_]+=/.test(w)).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]),
      );
      const command = all.filter((w) => !/^[A-Z_]+=/.test(w));
      expect(command.slice(0, 2)).toEqual(['npx', 'agent-team']);
      steps.push({ env, args: command.slice(2), expected: [] });
    } else if (line.trim() && line !== '…') steps.at(-1)!.expected.push(line);
  }
  return steps;
}

/** What differs from run to run, made alike. */
const normal = (line: string, workflowId: string): string =>
  line
    .replace(SAMPLE_ID, workflowId)
    .replace(/run [0-9a-f]{8}-[0-9a-f]{4}…/g, 'run <run>…')
    .replace(/model [\d,]+ ms/g, 'model <n> ms')
    .trimEnd();

it("the README's fail-and-resume story reproduces as printed", async () => {
  const steps = story();
  expect(steps.map((s) => s.args[0])).toEqual(['run', 'checkpoints', 'resume']);
  let workflowId = '';
  for (const step of steps) {
    // `npx agent-team`: npm exec says so to the CLI, which words its hints the same way.
    const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), npm_command: 'exec', ...step.env });
    const res = await cli(
      step.args.map((a) => (workflowId ? a.replace(SAMPLE_ID, workflowId) : a)),
      env,
    );
    workflowId ||= /▶ agentTeamWorkflow (\S+)/.exec(res.stderr)?.[1] ?? '';
    expect(workflowId).not.toBe('');
    const actual = `${res.stderr}\n${res.stdout}`.split('\n').map((l) => normal(l, workflowId));
    let at = 0;
    for (const line of step.expected.map((l) => normal(l, workflowId))) {
      const found = actual.indexOf(line, at);
      if (found < 0)
        throw new Error(
          `\`${step.args.join(' ')}\` did not print, in order:\n${line}\n\nIt printed:\n${actual.join('\n')}`,
        );
      at = found + 1;
    }
  }
}, 120_000);
