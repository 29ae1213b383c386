/**
 * No length limit (docs/conversations.md): a run continues as new before its history passes the bound
 * (`workflow.continue_as_new_after_events`), carrying every step so far; each turn of a conversation is a run of
 * the same workflow id too. With the bound forced low, a 30-turn conversation of 400+ steps with a message in the
 * middle: the offline model's request log shows no step sent twice, and every command takes the chain as one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readOfflineLlmLog, type OfflineLlmLogEntry } from '../../src/llm/offline-server';
import type { TurnSummary } from '../../src/conversation/turns';
import { cleanEnv, cli, pipeCli, writeConfig } from '../cli-helpers';
import { testAddress, uniqueId, until } from '../helpers';

const TASK = 'Compare quicksort and mergesort';
const TURNS = 30;
const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;

describe('a conversation of any length', () => {
  const queue = uniqueId('chain');
  // About every 10 steps a link continues as new; summaries off, so every turn has the same shape.
  const config = writeConfig(
    dir(),
    `temporal:\n  task_queue: ${queue}\nworkflow:\n  max_rounds: 20\n  continue_as_new_after_events: 60\n` +
      'session:\n  summarize_after_chars: 0\n',
  );
  const log = join(dir(), `${uniqueId('chain-llm')}.jsonl`);
  // Six members' answers a turn: 15 steps each, 0.1 s a model call (a turn lasts long enough for a message to
  // find it running, whatever the machine's speed).
  const env = cleanEnv({
    TEMPORAL_ADDRESS: testAddress(),
    OFFLINE_LLM_LOG: log,
    OFFLINE_LLM_TURNS: '6',
    OFFLINE_LLM_LATENCY_MS: '100',
  });
  const run = (args: string[]) => cli([...args, '--config', config], env);
  const sent = (workflowId: string): OfflineLlmLogEntry[] =>
    readOfflineLlmLog(log).filter((e) => e.workflowId === workflowId);
  const json = <T>(r: { code: number | null; stdout: string; stderr: string }): T => {
    if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  type Listed = {
    runId: string;
    runStatus: string;
    step: number;
    shortId: string;
    checkpointId: string;
    createdAt: string | null;
  };

  it(`${TURNS} turns, a message in the middle, links every ~10 steps: none sent twice; list, resume two links back, export and restore, replay`, async () => {
    const id = uniqueId('chain');
    const followUps = Array.from({ length: TURNS - 1 }, (_, i) => `Follow-up ${i + 2}: go further.`);
    const done = pipeCli(
      ['run', TASK, '--workflow-id', id, '--offline', '--follow-up', '--json', '--config', config],
      env,
      `${followUps.join('\n')}\n\n`,
    );

    // A message in the middle (between two turns the conversation has no run to take it: try again).
    await until(`${id} to reach step 150`, async () => sent(id).some((e) => (e.step ?? 0) >= 150), 300_000, 100);
    let told: { code: number | null; stdout: string; stderr: string } | null = null;
    for (let i = 0; i < 30; i++) {
      told = await run(['tell', id, 'Include radix sort.', '--json']);
      if (told.code === 0) break;
      expect(told.stderr).toMatch(
        /a closed run reads no messages|its run ended COMPLETED before the message was taken/,
      );
    }
    const receipt = json<{ step: number }>(told!);

    const result = await done;
    expect(result.code).toBe(0);
    const turns = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string; result: { turn?: number; steps: number } });
    expect(turns).toHaveLength(TURNS);
    expect(turns.every((t) => t.status === 'COMPLETED')).toBe(true);
    const total = turns.at(-1)!.result.steps;
    expect(turns.at(-1)!.result.turn).toBe(TURNS);
    expect(total).toBeGreaterThan(300);

    // The request log: every step answered once, in order, across every run; the message read once, after it came.
    const answered = sent(id).filter((e) => e.status === 200);
    expect(answered.map((e) => e.step)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    const carried = answered.filter((e) => e.told);
    expect(carried.map((e) => e.told)).toEqual([['Include radix sort.']]);
    expect(carried[0]!.step).toBeGreaterThan(receipt.step);

    // The links: every run of the chain, each under the bound (a step or so past it), each continuing the one before.
    const list = json<Listed[]>(await run(['checkpoints', 'list', '-w', id, '--json', '--limit', '1000']));
    const runs = [...new Set(list.map((c) => c.runId))];
    const continued = new Set(list.filter((c) => c.runStatus === 'CONTINUED_AS_NEW').map((c) => c.runId));
    expect(continued.size).toBeGreaterThanOrEqual(TURNS);
    const exported = join(dir(), `${id}.json`);
    expect((await run(['checkpoints', 'export', id, '--all-runs', '-o', exported])).code).toBe(0);
    const file = JSON.parse(readFileSync(exported, 'utf8')) as {
      manifest: { runs: { runId: string; events: number; steps: number; status: string }[] };
      runs: { runId: string; history: unknown }[];
    };
    expect(file.manifest.runs.map((r) => r.runId).sort()).toEqual([...runs].sort());
    const perLink = file.manifest.runs.map((r) => ({
      status: r.status,
      events: r.events,
      bytes: Buffer.byteLength(JSON.stringify(file.runs.find((x) => x.runId === r.runId)!.history)),
    }));
    expect(Math.max(...perLink.map((l) => l.events))).toBeLessThanOrEqual(80);
    process.stderr.write(
      `chain ${id}: ${total} steps, ${runs.length} runs (${continued.size} continued as new); events per run ` +
        `min ${Math.min(...perLink.map((l) => l.events))} max ${Math.max(...perLink.map((l) => l.events))}; ` +
        `bytes per run min ${Math.min(...perLink.map((l) => l.bytes))} max ${Math.max(...perLink.map((l) => l.bytes))}\n`,
    );

    // Every link replays against the current code.
    const replayed = json<{ compatible: boolean; runs: unknown[] }>(await run(['replay', id, '--all-runs', '--json']));
    expect(replayed).toMatchObject({ compatible: true });
    expect(replayed.runs).toHaveLength(runs.length);

    // The short id of a step in an early link finds it; the turns read as one conversation.
    const early = json<{ runId: string; step: number }>(await run(['checkpoints', 'show', `${id}@5`, '--json']));
    expect(early.step).toBe(5);
    expect(continued.has(early.runId)).toBe(true);
    // A fork of a checkpoint in the first link goes on with turn 1 from there: only the steps after it are sent.
    const forkId = uniqueId('chain-fork');
    const forked = json<{ status: string; result: { steps: number } }>(
      await run(['fork', `${id}@5`, '--workflow-id', forkId, '--offline', '--json']),
    );
    expect(forked).toMatchObject({ status: 'COMPLETED', result: { steps: turns[0]!.result.steps } });
    expect(sent(forkId)[0]!.step).toBe(6);
    // The audit trail, the timeline and prune see every run of the chain.
    const trail = json<{ runs: unknown[] }>(await run(['history', id, '--json']));
    expect(trail.runs).toHaveLength(runs.length);
    const timeline = await run(['timeline', id]);
    expect(timeline.code).toBe(0);
    expect(timeline.stdout).toMatch(/continued\s+as\s+new\s+from\s+run/);
    const prunable = json<{ runs: unknown[] }>(
      await run(['checkpoints', 'prune', '-w', id, '--older-than', '0', '--dry-run', '--json']),
    );
    expect(prunable.runs).toHaveLength(runs.length);
    const { turns: listed } = json<{ turns: TurnSummary[] }>(await run(['turns', id, '--json']));
    expect(listed).toHaveLength(TURNS);
    expect(listed.map((t) => [t.turn, t.status])).toEqual(listed.map((t) => [t.turn, 'answered']));

    // Export and restore the whole chain: a new workflow from the last link's entry, every step before it carried.
    const ordered = orderedRuns([...list].sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? '')));
    const inRun = (runId: string) => list.filter((c) => c.runId === runId).sort((a, b) => a.step - b.step);
    const entry = inRun(ordered.at(-1)!)[0]!;
    const restoredId = uniqueId('chain-restored');
    const restored = json<{ status: string; result: { steps: number; turn?: number } }>(
      await run([
        'checkpoints',
        'import',
        exported,
        '--restore',
        entry.checkpointId,
        '--workflow-id',
        restoredId,
        '--offline',
        '--json',
      ]),
    );
    expect(restored).toMatchObject({ status: 'COMPLETED', result: { steps: total, turn: TURNS } });
    expect(sent(restoredId).map((e) => e.step)).toEqual(
      Array.from({ length: total - entry.step }, (_, i) => entry.step + i + 1),
    );

    // Resume from a checkpoint two links back (in turn 29): the steps after it run again, once, none before it;
    // the conversation goes on from there (turn 30 stays in its runs).
    const twoBack = inRun(ordered.at(-3)!);
    const from = twoBack[Math.min(2, twoBack.length - 1)]!;
    const endOf29 = turns[TURNS - 2]!.result.steps;
    const before = sent(id).length;
    const resumed = json<{ status: string; result: { steps: number; turn?: number } }>(
      await run(['resume', from.shortId, '--offline', '--json']),
    );
    expect(resumed).toMatchObject({ status: 'COMPLETED', result: { steps: endOf29, turn: TURNS - 1 } });
    expect(
      sent(id)
        .slice(before)
        .map((e) => e.step),
    ).toEqual(Array.from({ length: endOf29 - from.step }, (_, i) => from.step + i + 1));
  }, 900_000);
});

/** The runs of a listing in the order they were created. */
function orderedRuns(list: { runId: string; createdAt: string | null }[]): string[] {
  const seen: string[] = [];
  for (const c of list) if (!seen.includes(c.runId)) seen.push(c.runId);
  return seen;
}
