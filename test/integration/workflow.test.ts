/**
 * agentTeamWorkflow on the real Temporal dev server, with the offline model over HTTP through the real
 * `openai` client. Faults are injected by the model server; the request log shows what was sent.
 */
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { LlmFailureType } from '../../activities/errors';
import { stateQuery, transcriptQuery } from '../../workflows';
import { transcriptPageQuery } from '../../workflows/agent-team';
import { fetchTranscript } from '../../src/worker';
import type { TeamState } from '../../workflows/model';
import { FAST_LLM, startTestTeam, uniqueId, type TestTeam } from '../helpers';
import type { AutoResumeRecord } from '../../workflows/agent-team';
import { MAX_ANSWER_CHARS } from '../../workflows/types';
import { readRun } from '../../src/history/reader';

const TASK = 'Compare quicksort and mergesort';

/** Runs `fn` with a fresh team (its own task queue, model server and request log). */
async function withTeam<T>(faults: string, fn: (team: TestTeam) => Promise<T>, answerChars?: number): Promise<T> {
  const { parseFaults } = await import('../../src/llm/offline-server');
  const team = await startTestTeam({ llm: { faults: parseFaults(faults), ...(answerChars ? { answerChars } : {}) } });
  try {
    return await fn(team);
  } finally {
    await team.close();
  }
}

/** Expects the run to fail and returns the failure chain's parts. */
async function failureOf(promise: Promise<unknown>): Promise<{ activity: ActivityFailure; app: ApplicationFailure }> {
  const err = await promise.then(
    () => {
      throw new Error('expected the run to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const activity = (err as WorkflowFailedError).cause;
  expect(activity).toBeInstanceOf(ActivityFailure);
  const app = (activity as ActivityFailure).cause;
  expect(app).toBeInstanceOf(ApplicationFailure);
  return { activity: activity as ActivityFailure, app: app as ApplicationFailure };
}

describe('agentTeamWorkflow', () => {
  it('runs the full loop with all four agents and reports token usage', () =>
    withTeam('', async (team) => {
      const { workflowId, result } = await team.run({ task: TASK, llm: FAST_LLM });
      expect(result.cutShort).toBe(false);
      expect(result.answer).toContain(TASK);
      const requests = team.requests();
      expect(requests.map((r) => `${r.agent}:${r.kind}`)).toEqual([
        'orchestrator:plan',
        'orchestrator:ledger',
        'researcher:agent',
        'orchestrator:ledger',
        'coder:agent',
        'orchestrator:ledger',
        'analyst:agent',
        'orchestrator:ledger',
        'orchestrator:final',
      ]);
      expect(requests.every((r) => r.workflowId === workflowId && r.status === 200 && r.attempt === 1)).toBe(true);
      expect(requests.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(result.steps).toBe(9);
      expect(result.usage.llmCalls).toBe(9);
      expect(result.usage.promptTokens).toBe(requests.reduce((n, r) => n + r.promptTokens, 0));
      expect(result.usage.completionTokens).toBe(requests.reduce((n, r) => n + r.completionTokens, 0));
      expect(result.usage.promptTokens).toBeGreaterThan(0);

      // The live state is queryable and is the same state the reducer produced.
      const state = await team.client.workflow.getHandle(workflowId).query(stateQuery);
      expect((state as TeamState).phase).toBe('done');
      expect((state as TeamState).messages).toHaveLength(9);
    }));

  it('stops at max_rounds and still ends with a final answer marked cut short', () =>
    withTeam('', async (team) => {
      const { result } = await team.run({ task: TASK, maxRounds: 2, llm: FAST_LLM });
      expect(result).toMatchObject({ cutShort: true, rounds: 2 });
      expect(result.answer).toContain('round limit');
      expect(team.requests().map((r) => `${r.agent}:${r.kind}`)).toEqual([
        'orchestrator:plan',
        'orchestrator:ledger',
        'researcher:agent',
        'orchestrator:ledger',
        'coder:agent',
        'orchestrator:final',
      ]);
    }));

  it('replans when stalls exceed max_stalls, then finishes', () =>
    // Orchestrator calls: 1 plan, 2 ledger r1, 3 ledger r2 (stall), 4 ledger r3 (stall) → replan.
    withTeam('orchestrator:3:stall,orchestrator:4:stall', async (team) => {
      const { result } = await team.run({ task: TASK, maxStalls: 1, llm: FAST_LLM });
      expect(result.replans).toBe(1);
      expect(result.cutShort).toBe(false);
      const kinds = team.requests().map((r) => `${r.agent}:${r.kind}`);
      expect(kinds.slice(0, 7)).toEqual([
        'orchestrator:plan',
        'orchestrator:ledger',
        'researcher:agent',
        'orchestrator:ledger', // stall 1: researcher again
        'researcher:agent',
        'orchestrator:ledger', // stall 2 > max_stalls 1
        'orchestrator:plan', // the replan
      ]);
      expect(kinds[kinds.length - 1]).toBe('orchestrator:final');
    }));

  it('retries an invalid progress ledger and continues when the next answer is valid', () =>
    withTeam('orchestrator:2:malformed', async (team) => {
      const { result } = await team.run({ task: TASK, llm: FAST_LLM });
      expect(result.steps).toBe(9);
      const ledgers = team.requests().filter((r) => r.kind === 'ledger' && r.round === 1);
      expect(ledgers.map((r) => r.attempt)).toEqual([1, 2]);
    }));

  it('fails clearly when the ledger stays invalid after every attempt', () =>
    withTeam('orchestrator:2:malformed,orchestrator:3:malformed', async (team) => {
      const { app, activity } = await failureOf(
        team.run({ task: TASK, llm: { ...FAST_LLM, maxAttempts: 2 }, autoResume: { enabled: false } }),
      );
      expect(app.type).toBe(LlmFailureType.InvalidOutput);
      expect(app.message).toMatch(
        /^orchestrator \(round 1\) returned an invalid progress ledger \(attempt 2\): not JSON/,
      );
      expect(activity.activityType).toBe('callAgent');
      expect(team.requests().filter((r) => r.kind === 'ledger')).toHaveLength(2);
    }));

  it('retries a transient 500 on that step only', () =>
    withTeam('researcher:1:transient', async (team) => {
      const { result } = await team.run({ task: TASK, llm: FAST_LLM });
      expect(result.steps).toBe(9);
      const requests = team.requests();
      expect(requests.filter((r) => r.agent === 'researcher').map((r) => [r.status, r.attempt])).toEqual([
        [500, 1],
        [200, 2],
      ]);
      expect(requests.filter((r) => r.agent !== 'researcher').every((r) => r.attempt === 1)).toBe(true);
    }));

  it('waits at least Retry-After on a 429 even when the retry policy would retry sooner', () =>
    withTeam('coder:1:ratelimit', async (team) => {
      await team.run({ task: TASK, llm: { ...FAST_LLM, initialRetryMs: 10, maxRetryMs: 10 } });
      const coder = team.requests().filter((r) => r.agent === 'coder');
      expect(coder.map((r) => r.status)).toEqual([429, 200]);
      const waited = Date.parse(coder[1]!.time) - Date.parse(coder[0]!.time);
      expect(waited).toBeGreaterThanOrEqual(1000);
    }));

  it('fails at once on a non-retryable 400, naming the agent, round and status', () =>
    withTeam('coder:1:fatal', async (team) => {
      const { app } = await failureOf(team.run({ task: TASK, llm: FAST_LLM }));
      expect(app.type).toBe(LlmFailureType.Rejected);
      expect(app.nonRetryable).toBe(true);
      expect(app.message).toMatch(
        /^coder \(round 2\): the LLM endpoint answered HTTP 400: .*then resume from the last checkpoint$/,
      );
      expect(app.details).toEqual([{ agent: 'coder', round: 2, status: 400 }]);
      expect(team.requests().filter((r) => r.agent === 'coder')).toHaveLength(1);
    }));

  it('retries a call that hangs past the timeout', () =>
    withTeam('analyst:1:hang', async (team) => {
      const { result } = await team.run({ task: TASK, llm: { ...FAST_LLM, timeoutMs: 1_000 } });
      expect(result.steps).toBe(9);
      expect(
        team
          .requests()
          .filter((r) => r.agent === 'analyst')
          .map((r) => [r.status, r.attempt]),
      ).toEqual([
        [0, 1],
        [200, 2],
      ]);
    }));

  it('rejects an empty task as a non-retryable workflow failure', () =>
    withTeam('', async (team) => {
      const err = await team.run({ task: '  ' }, uniqueId('empty')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause.type).toBe('InvalidTeamInput');
      expect(cause.message).toBe('task must be a non-empty string');
      expect(team.requests()).toHaveLength(0);
    }));

  describe('auto_resume_on_failure', () => {
    const TWO_TRIES = { ...FAST_LLM, maxAttempts: 2 };
    const memoOf = async (team: TestTeam, workflowId: string) =>
      ((await team.client.workflow.getHandle(workflowId).describe()).memo?.autoResumes ?? []) as AutoResumeRecord[];

    it('a step whose retries ran out on a cause that can clear is resumed after a wait, and the run completes', () =>
      withTeam('researcher:1:transient,researcher:2:transient', async (team) => {
        const { workflowId, result } = await team.run({
          task: TASK,
          llm: TWO_TRIES,
          autoResume: { maxAttempts: 2, initialDelayMs: 300 },
        });
        expect(result.steps).toBe(9);
        const researcher = team.requests().filter((r) => r.agent === 'researcher');
        expect(researcher.map((r) => [r.status, r.attempt])).toEqual([
          [500, 1],
          [500, 2],
          [200, 1], // a new activity, scheduled by the resume
        ]);
        expect(Date.parse(researcher[2]!.time) - Date.parse(researcher[1]!.time)).toBeGreaterThanOrEqual(300);
        const memo = await memoOf(team, workflowId);
        expect(memo).toEqual([
          expect.objectContaining({ step: 3, agent: 'researcher', round: 1, attempt: 1, delayMs: 300 }),
        ]);
        expect(memo[0]!.cause).toContain('HTTP 500');
        const history = await team.client.workflow.getHandle(workflowId).fetchHistory();
        expect(history.events?.filter((e) => e.timerStartedEventAttributes)).toHaveLength(1);
        expect(history.events?.filter((e) => e.markerRecordedEventAttributes)).toHaveLength(1); // the patch marker
      }));

    it('is bounded: after max attempts the run fails with the last cause', () =>
      withTeam(
        'researcher:1:transient,researcher:2:transient,researcher:3:transient,researcher:4:transient,researcher:5:transient,researcher:6:transient',
        async (team) => {
          const workflowId = uniqueId('bounded');
          const { app } = await failureOf(
            team.run({ task: TASK, llm: TWO_TRIES, autoResume: { maxAttempts: 2, initialDelayMs: 50 } }, workflowId),
          );
          expect(app.type).toBe(LlmFailureType.Unavailable);
          expect(team.requests().filter((r) => r.agent === 'researcher')).toHaveLength(6); // (1 + 2 resumes) × 2 tries
          expect((await memoOf(team, workflowId)).map((r) => [r.attempt, r.delayMs])).toEqual([
            [1, 50],
            [2, 100],
          ]);
        },
      ));

    it('when disabled, the run fails at once and waits for `resume`', () =>
      withTeam('researcher:1:transient,researcher:2:transient', async (team) => {
        const workflowId = uniqueId('no-auto');
        const { app } = await failureOf(
          team.run({ task: TASK, llm: TWO_TRIES, autoResume: { enabled: false } }, workflowId),
        );
        expect(app.type).toBe(LlmFailureType.Unavailable);
        expect(team.requests().filter((r) => r.agent === 'researcher')).toHaveLength(2);
        expect(await memoOf(team, workflowId)).toEqual([]);
      }));

    it('never resumes a non-retryable failure automatically', () =>
      withTeam('coder:1:fatal', async (team) => {
        const workflowId = uniqueId('fatal');
        const { app } = await failureOf(
          team.run({ task: TASK, llm: FAST_LLM, autoResume: { maxAttempts: 3, initialDelayMs: 50 } }, workflowId),
        );
        expect(app.nonRetryable).toBe(true);
        expect(team.requests().filter((r) => r.agent === 'coder')).toHaveLength(1);
        expect(await memoOf(team, workflowId)).toEqual([]);
      }));
  });

  describe('long runs stay within Temporal limits', () => {
    it('150 rounds with 4 KB answers: step inputs stay small and flat, history well under the limits', async () => {
      const team = await startTestTeam({ llm: { answerChars: 4096, turns: 149 } });
      try {
        const { workflowId, result } = await team.run({ task: TASK, maxRounds: 150, llm: FAST_LLM });
        // plan + 149 × (ledger + answer) + the closing ledger + the final answer
        expect(result).toMatchObject({ rounds: 150, cutShort: false, steps: 301 });
        const handle = team.client.workflow.getHandle(workflowId);
        const events = (await handle.fetchHistory()).events ?? [];
        const inputBytes = events
          .filter((e) => e.activityTaskScheduledEventAttributes)
          .map((e) => e.activityTaskScheduledEventAttributes!.input!.payloads![0]!.data!.length);
        expect(inputBytes).toHaveLength(301);
        // The conversation is not resent with each step: the last input is no bigger than the early ones.
        expect(Math.max(...inputBytes)).toBeLessThan(2_000);
        expect(inputBytes[300]!).toBeLessThanOrEqual(Math.max(...inputBytes.slice(0, 10)) + 50);
        const { historySize, historyLength } = await handle.describe();
        expect(historyLength).toBe(events.length);
        expect(historySize).toBeLessThan(2_000_000); // Temporal warns at 10 MB and stops a run at 50 MB
        // The agents still saw the whole conversation: the last answer's prompt carried all 149 answers.
        const last = team
          .requests()
          .filter((r) => r.kind === 'agent')
          .pop()!;
        expect(last.promptTokens).toBeGreaterThan((148 * 4096) / 4);
      } finally {
        await team.close();
      }
    }, 180_000);

    it('a conversation over 2 MB is fetched in pages: Temporal refuses it as one query result, the steps never see that', async () => {
      // Twelve answers of 190,000 characters: the conversation before the final answer is 2.28 MB.
      const team = await startTestTeam({ llm: { answerChars: 190_000, turns: 12 } });
      try {
        const { workflowId, result } = await team.run({ task: TASK, maxRounds: 15, llm: FAST_LLM });
        expect(result.steps).toBe(27);
        const handle = team.client.workflow.getHandle(workflowId);
        // As one query result it is over the limit…
        await expect(handle.query(transcriptQuery)).rejects.toThrow(/size exceeds limit/i);
        // …in pages of at most 1 MB (and here of 100 KB) it comes whole, in order.
        const paged = await fetchTranscript(handle);
        expect(paged.map((m) => m.step)).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25]);
        expect(paged.reduce((n, m) => n + m.content.length, 0)).toBeGreaterThan(2_280_000);
        expect((await fetchTranscript(handle, 100_000)).map((m) => m.content)).toEqual(paged.map((m) => m.content));
        const page = await handle.query(transcriptPageQuery, { from: 2, maxBytes: 400_000 });
        expect(page).toMatchObject({ total: 13, steps: 27 });
        expect(page.messages.map((m) => m.step)).toEqual([5, 7]);
        // A message larger than a page is a page of its own.
        expect((await handle.query(transcriptPageQuery, { from: 1, maxBytes: 10 })).messages).toHaveLength(1);
        // Every step was sent once: none failed on fetching its conversation.
        expect(team.requests().map((r) => r.step)).toEqual(Array.from({ length: 27 }, (_, i) => i + 1));
      } finally {
        await team.close();
      }
    }, 180_000);

    it('an answer larger than the payload limit is cut and marked, and the run completes', () =>
      withTeam(
        '',
        async (team) => {
          const { workflowId, result } = await team.run({ task: TASK, llm: FAST_LLM });
          expect(result.steps).toBe(9);
          const { run } = await readRun(team.client, workflowId);
          const researcher = run.steps.find((s) => s.result.agent === 'researcher')!.result;
          expect(researcher.truncatedFrom).toBe(2_500_000);
          expect(researcher.content).toHaveLength(
            MAX_ANSWER_CHARS + '\n[answer cut at 200000 of 2500000 characters]'.length,
          );
          expect(researcher.content.endsWith('[answer cut at 200000 of 2500000 characters]')).toBe(true);
        },
        2_500_000,
      ));
  });
});
