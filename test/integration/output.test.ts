/**
 * Output where scripts look for it: each command's result goes to stdout (tables, reports, confirmations and
 * `--json` alike), progress, notes and hints to stderr. `agent-team checkpoints list > runs.txt` must write the
 * table, and `… | grep FAILED` must find it. One row per command: if a result moves to stderr, its row fails.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, cli, writeConfig, type Result } from '../cli-helpers';
import { testAddress, uniqueId } from '../helpers';
import { freePort } from '../../src/temporal/dev-server';

const TASK = 'Compare quicksort and mergesort';
const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;

describe("each command's result is on stdout, and only there", () => {
  const config = writeConfig(dir(), `temporal:\n  task_queue: ${uniqueId('out')}\n`);
  const gated = writeConfig(dir(), `temporal:\n  task_queue: ${uniqueId('out-gated')}\ngates:\n  plan_review: true\n`);
  const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress() });
  // Its port is chosen free before the tests run (beforeAll).
  const idle = writeConfig(dir(), 'temporal:\n  port: 1\n');
  /** Runs a command with `--config cfg` (none when `cfg` is empty: keygen reads no configuration). */
  const run = (args: string[], cfg = config): Promise<Result> => cli([...args, ...(cfg ? ['--config', cfg] : [])], env);
  const wf = uniqueId('out');
  const waiting = [uniqueId('out-wait'), uniqueId('out-wait'), uniqueId('out-wait')] as const;
  const exported = join(dir(), `${uniqueId('out')}.json`);
  const keys = join(dir(), uniqueId('keys'));

  beforeAll(async () => {
    writeFileSync(idle, `temporal:\n  port: ${await freePort()}\n`);
    const first = await run(['run', TASK, '--workflow-id', wf, '--offline', '--json']);
    if (first.code !== 0) throw new Error(first.stderr);
    for (const id of waiting) {
      const w = await run(['run', TASK, '--workflow-id', id, '--offline', '--detach'], gated);
      if (w.code !== 0) throw new Error(w.stderr);
    }
    const e = await run(['checkpoints', 'export', wf, '-o', exported]);
    if (e.code !== 0) throw new Error(e.stderr);
  }, 60_000);

  // [command, its arguments, what its result says, exit code, config]
  const rows: [string, () => string[], RegExp, number?, string?][] = [
    ['run', () => ['run', TASK, '--offline'], /^Final answer on "Compare quicksort/m],
    ['resume', () => ['resume', `${wf}@8`, '--offline'], /^Final answer on "Compare quicksort/m],
    ['follow', () => ['follow', wf], /^Final answer on "Compare quicksort/m],
    ['checkpoints list -w', () => ['checkpoints', 'list', '-w', wf], /· COMPLETED\n {2}task: Compare/],
    ['checkpoints list', () => ['checkpoints', 'list', '--limit', '3'], /step {2}after +round +tokens +checkpoint/],
    ['checkpoints show', () => ['checkpoints', 'show', `${wf}@3`], /^Checkpoint .*@3: after step 3/m],
    ['checkpoints diff', () => ['checkpoints', 'diff', `${wf}@2`, `${wf}@4`], /^From .*@2 to .*@4/m],
    [
      'checkpoints prune --dry-run',
      () => ['checkpoints', 'prune', '-w', wf, '--older-than', '0', '--dry-run'],
      /^Dry run: would delete \d+ closed run/m,
    ],
    ['checkpoints export', () => ['checkpoints', 'export', wf], /"manifest": \{/],
    ['checkpoints import', () => ['checkpoints', 'import', exported], /checksum ok, unsigned, 1 run\(s\)/],
    ['checkpoints keygen', () => ['checkpoints', 'keygen', '--out', keys], /private key → .*\.key/, 0, ''],
    ['history', () => ['history', wf], /^Audit trail of /m],
    ['timeline', () => ['timeline', wf], /^run 1 \(/m],
    ['replay', () => ['replay', wf], /events replay against the current workflow code/],
    ['pending', () => ['pending'], new RegExp(`^${waiting[0]} · since`, 'm')],
    ['approve', () => ['approve', waiting[0]], /✔ plan_review@1#0 of .*: approve taken/, 0, gated],
    ['cancel', () => ['cancel', waiting[1], '--no-wait'], /^✔ Cancel requested for /m, 0, gated],
    ['terminate', () => ['terminate', waiting[2]], /^✔ Terminated run /m, 0, gated],
    // No embedded server in this config's folder (the tests use TEMPORAL_ADDRESS), on a port of its own (another
    // test may run one on the default port): its status is the result.
    ['server status', () => ['server', 'status'], /○ not answering at /, 1, idle],
  ];

  it.each(rows)('%s', async (_name, args, result, code = 0, cfg = config) => {
    const res = await run(args(), cfg);
    if (res.code !== code) throw new Error(`exit ${res.code}:\n${res.stderr}`);
    expect(res.stdout).toMatch(result);
    expect(res.stderr).not.toMatch(result);
  });

  it('--json amounts in USD are rounded (no float noise such as 0.00020759999999999998)', async () => {
    const res = await run(['checkpoints', 'list', '-w', wf, '--json']);
    const amounts = [...res.stdout.matchAll(/"\w*Usd": ([\d.e-]+)/g)].map((m) => m[1]!);
    expect(amounts.some((a) => Number(a) > 0)).toBe(true);
    expect(amounts.filter((a) => /\.\d{10,}/.test(a))).toEqual([]);
  });

  it.each([
    ['checkpoints list -w', () => ['checkpoints', 'list', '-w', wf]],
    ['checkpoints show', () => ['checkpoints', 'show', `${wf}@3`]],
    ['history', () => ['history', wf]],
    ['replay', () => ['replay', wf]],
    ['pending', () => ['pending']],
  ])('%s --json: stdout is one JSON value', async (_name, args) => {
    const res = await run([...args(), '--json']);
    expect(res.code).toBe(0);
    expect(() => JSON.parse(res.stdout) as unknown).not.toThrow();
  });
});
