/**
 * The activity's transcript cache: a worker that ran step k of a run knows the conversation before step k+1,
 * so it skips the `transcript` query; anything else (another run, a retry, a gap) queries, except a run's first
 * step, which has no conversation before it. The prompts must be exactly those the query would have given.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import OpenAI from 'openai';
import { createActivities } from '../../activities';
import { defaultTeam } from '../../src/config';
import { startOfflineLlm, type OfflineLlmServer } from '../../src/llm/offline-server';
import { type TeamState } from '../../workflows/model';
import { requestFor, transcriptOf } from '../../workflows/requests';
import { initialState, nextAction, reduce } from '../../workflows/state';

let llm: OfflineLlmServer;
beforeAll(async () => {
  llm = await startOfflineLlm();
});
afterAll(async () => llm.close());

/** An activity set whose model requests are recorded, and whose transcript "query" reads `truth()`. */
function activities(truth: () => TeamState) {
  const bodies: string[] = [];
  const queries: number[] = [];
  const openai = new OpenAI({
    baseURL: llm.baseURL,
    apiKey: 'offline',
    maxRetries: 0,
    fetch: async (url, init) => {
      bodies.push(String(init?.body));
      return fetch(url, init);
    },
  });
  const { callAgent } = createActivities({
    openai,
    agents: defaultTeam(),
    loadTranscript: async () => {
      queries.push(truth().steps);
      return transcriptOf(truth());
    },
  });
  return { callAgent, bodies, queries };
}

const env = (runId: string) =>
  new MockActivityEnvironment({
    workflowExecution: { workflowId: 'w', runId },
    attempt: 1,
    startToCloseTimeoutMs: 10_000,
    heartbeatTimeoutMs: 20_000,
  });

/** Runs a whole team run through `callAgent`, as the workflow would. */
async function drive(callAgent: ReturnType<typeof activities>['callAgent'], get: { state: TeamState }, runId: string) {
  for (let action = nextAction(get.state); action; action = nextAction(get.state)) {
    get.state = reduce(get.state, await env(runId).run(callAgent, requestFor(get.state, action)));
  }
}

describe('the transcript cache', () => {
  it('never queries within a run on one worker, and sends exactly the prompts the query would give', async () => {
    const cached = { state: initialState({ task: 'Compare quicksort and mergesort' }) };
    const a = activities(() => cached.state);
    await drive(a.callAgent, cached, 'r1');
    expect(cached.state.phase).toBe('done');
    expect(a.queries).toEqual([]);

    // Without the cache (a fresh worker for every step): a query per step after the first, and the same requests.
    const fresh = { state: initialState({ task: 'Compare quicksort and mergesort' }) };
    const bodies: string[] = [];
    const queries: number[] = [];
    for (let action = nextAction(fresh.state); action; action = nextAction(fresh.state)) {
      const b = activities(() => fresh.state);
      fresh.state = reduce(fresh.state, await env('r2').run(b.callAgent, requestFor(fresh.state, action)));
      bodies.push(...b.bodies);
      queries.push(...b.queries);
    }
    expect(queries).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(a.bodies).toEqual(bodies);
    expect(cached.state.finalAnswer).toBe(fresh.state.finalAnswer);
  });

  it('another run, and a retry of a step already done, query', async () => {
    const s = { state: initialState({ task: 'Compare quicksort and mergesort' }) };
    const a = activities(() => s.state);
    s.state = reduce(s.state, await env('r1').run(a.callAgent, requestFor(s.state, nextAction(s.state)!))); // step 0
    const ledger = requestFor(s.state, nextAction(s.state)!);
    await env('r-other').run(a.callAgent, ledger); // miss: another run at step 1
    s.state = reduce(s.state, await env('r1').run(a.callAgent, ledger)); // hit: r1's step 1 follows its step 0
    await env('r1').run(a.callAgent, ledger); // miss: a retry of step 1 after step 1 completed
    expect(a.queries).toEqual([1, 2]);
  });
});
