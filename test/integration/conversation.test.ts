/**
 * Conversations with a run (docs/conversations.md): `tell` sends a running run a message its orchestrator reads at
 * the next plan or progress ledger; `--interrupt` stops the model step in flight (its request aborted: the offline
 * model logs 499 and answers nothing) and has the orchestrator replan with it. The request log shows which request
 * carried each message, and that no step was answered twice.
 */
import { join } from 'node:path';
import type { AuditTrail } from '../../src/history/audit';
import { readOfflineLlmLog, type OfflineLlmLogEntry } from '../../src/llm/offline-server';
import { cleanEnv, cli, writeConfig } from '../cli-helpers';
import { testAddress, uniqueId, until } from '../helpers';

const TASK = 'Compare quicksort and mergesort';
const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;

describe('tell', () => {
  const queue = uniqueId('tell');
  const config = writeConfig(dir(), `temporal:\n  task_queue: ${queue}\n`);
  const gated = writeConfig(dir(), `temporal:\n  task_queue: ${queue}\ngates:\n  plan_review: true\n`);
  const log = join(dir(), `${uniqueId('tell-llm')}.jsonl`);
  // Each model call takes 1.5 s: time to speak while a step is in flight.
  const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OFFLINE_LLM_LOG: log, OFFLINE_LLM_LATENCY_MS: '1500' });
  const run = (args: string[], file = config) => cli([...args, '--config', file], env);
  const sent = (workflowId: string): OfflineLlmLogEntry[] =>
    readOfflineLlmLog(log).filter((e) => e.workflowId === workflowId);
  /** Steps answered (HTTP 200): each once, whatever was interrupted. */
  const answered = (workflowId: string): (number | null)[] =>
    sent(workflowId)
      .filter((e) => e.status === 200)
      .map((e) => e.step);
  const started = (workflowId: string, steps: number) =>
    until(
      `${workflowId} to send step ${steps}`,
      async () => sent(workflowId).some((e) => e.step === steps),
      60_000,
      50,
    );

  it('the orchestrator reads a message at its next ledger; history records who sent it and when', async () => {
    const id = uniqueId('told');
    const running = run(['run', TASK, '--workflow-id', id, '--offline', '--json']);
    await started(id, 3); // the researcher's step is in flight
    const told = await run(['tell', id, 'Also consider timsort.', '--by', 'alice', '--json']);
    if (told.code !== 0) throw new Error(told.stderr);
    const receipt = JSON.parse(told.stdout) as { id: string; step: number; interrupted: number | null };
    expect(receipt).toMatchObject({ id: 'msg-1', interrupted: null });
    const done = await running;
    expect(JSON.parse(done.stdout)).toMatchObject({ status: 'COMPLETED' });
    expect(done.stderr).toContain('✉ msg-1 from alice (for the next plan or ledger): Also consider timsort.');
    // One request carried it: the first ledger after it was taken; nothing was sent twice.
    const carried = sent(id).filter((e) => e.told);
    expect(carried.map((e) => [e.kind, e.told])).toEqual([['ledger', ['Also consider timsort.']]]);
    expect(carried[0]!.step).toBeGreaterThan(receipt.step);
    expect(answered(id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const trail = JSON.parse((await run(['history', id, '--json'])).stdout) as AuditTrail;
    expect(trail.runs[0]!.messages).toMatchObject([
      { id: 'msg-1', by: 'alice', text: 'Also consider timsort.', afterStep: receipt.step },
    ]);
    expect(Date.parse(trail.runs[0]!.messages[0]!.at)).toBeGreaterThan(Date.now() - 120_000);
    // The checkpoints fold it as the run took it: in the audit list, out of the inbox once read.
    const last = JSON.parse((await run(['checkpoints', 'show', `${id}@9`, '--json'])).stdout) as {
      state: { told?: unknown[]; inbox?: unknown[] };
    };
    expect(last.state.told).toHaveLength(1);
    expect(last.state.inbox).toBeUndefined();
  }, 90_000);

  it('--interrupt stops the step in flight (its request aborted) and the orchestrator replans with the message', async () => {
    const id = uniqueId('interrupted');
    // The coder's first call never answers: the step is in flight until something stops it (its 60 s timeout).
    const hanging = cleanEnv({
      TEMPORAL_ADDRESS: testAddress(),
      OFFLINE_LLM_LOG: log,
      OFFLINE_LLM_FAULTS: 'coder:1:hang',
    });
    const running = cli(['run', TASK, '--workflow-id', id, '--offline', '--json', '--config', config], hanging);
    await until(`${id}'s coder step to hang`, async () => sent(id).some((e) => e.agent === 'coder'), 60_000, 50);
    const told = await run(['tell', id, 'Only stable sorts, please.', '--interrupt', '--json']);
    if (told.code !== 0) throw new Error(told.stderr);
    const receipt = JSON.parse(told.stdout) as { step: number; interrupted: number | null };
    const coder = sent(id).find((e) => e.agent === 'coder')!;
    expect(receipt).toMatchObject({ step: coder.step! - 1, interrupted: coder.step });
    const done = await running;
    expect(JSON.parse(done.stdout)).toMatchObject({ status: 'COMPLETED' });
    expect(done.stderr).toMatch(/#\d+ +orchestrator +replan/);
    // The stopped step was never answered; its number went to the replan, which carried the message; the coder
    // spoke again later, once. No step was answered twice.
    const at = sent(id).filter((e) => e.step === coder.step);
    expect(at.map((e) => [e.agent, e.kind, e.status, e.told ?? null])).toEqual([
      ['coder', 'agent', 0, null],
      ['orchestrator', 'plan', 200, ['Only stable sorts, please.']],
    ]);
    const steps = answered(id);
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1));
    expect(sent(id).filter((e) => e.agent === 'coder' && e.status === 200)).toHaveLength(1);
  }, 90_000);

  it('a run waiting on a person takes a message and reads it after the answer', async () => {
    const id = uniqueId('waiting');
    expect((await run(['run', TASK, '--workflow-id', id, '--offline', '--detach'], gated)).code).toBe(0);
    const told = await run(['tell', id, 'Keep it short.'], gated);
    expect(told.code).toBe(0);
    expect(told.stdout).toContain(`✉ msg-1 taken by ${id} after step 1`);
    const approved = await run(['approve', id], gated);
    expect(approved.code).toBe(0);
    const followed = await run(['follow', id, '--offline', '--json'], gated);
    expect(JSON.parse(followed.stdout)).toMatchObject({ status: 'COMPLETED' });
    expect(
      sent(id)
        .filter((e) => e.told)
        .map((e) => [e.step, e.kind, e.told]),
    ).toEqual([[2, 'ledger', ['Keep it short.']]]);
  }, 90_000);

  it('a closed run, an unknown one, an empty message: refused with exit 2, saying why and what to do', async () => {
    const id = uniqueId('closed');
    expect((await run(['run', TASK, '--workflow-id', id, '--offline'])).code).toBe(0);
    const closed = await run(['tell', id, 'too late']);
    expect(closed.code).toBe(2);
    expect(closed.stderr).toContain(`message to "${id}" refused`);
    expect(closed.stderr).toContain('a closed run reads no messages');
    expect(closed.stderr).toContain(`checkpoints list -w ${id}`);
    const unknown = await run(['tell', uniqueId('never-was'), 'hello']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no workflow');
    const empty = await run(['tell', id, '   ']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('must not be empty');
  }, 60_000);
});
