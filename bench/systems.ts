/**
 * The systems the benchmark compares, each running the same agent team on the same offline model:
 * - baseline: the agents' step function (createAgentStep) and the team's state machine in a plain loop;
 * - temporal: this project, a run of agentTeamWorkflow on the embedded dev server (file storage);
 * - langgraph-sqlite / langgraph-memory: the same loop as a LangGraph StateGraph (a node per agent),
 *   checkpointing every step with SqliteSaver or MemorySaver.
 * All of them call the very same `runStep`, fold with the very same `reduce`, and talk to the model over HTTP
 * through the real `openai` client.
 */
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { Annotation, END, MemorySaver, START, StateGraph, type BaseCheckpointSaver } from '@langchain/langgraph';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import { createAgentStep } from '../activities';
import { defaultTeam } from '../src/config';
import type { AgentTeamClient } from '../src/client';
import { type TeamState } from '../workflows/model';
import { requestFor, transcriptOf } from '../workflows/requests';
import { initialState, nextAction, reduce } from '../workflows/state';
import { agentTeamWorkflow } from '../workflows';
import type { TeamInput } from '../workflows/types';

export const SYSTEMS = ['baseline', 'temporal', 'langgraph-sqlite', 'langgraph-memory'] as const;
export type SystemName = (typeof SYSTEMS)[number];

export interface RunReport {
  id: string;
  wallMs: number;
  steps: number;
  ok: boolean;
  error?: string;
}

export const openaiFor = (baseURL: string): OpenAI => new OpenAI({ baseURL, apiKey: 'offline', maxRetries: 0 });

const newId = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

/** The agents' step, outside any framework. */
function stepper(baseURL: string) {
  return createAgentStep({ openai: openaiFor(baseURL), agents: defaultTeam() });
}

/** Baseline: no durability at all. */
export async function runBaseline(baseURL: string, input: TeamInput): Promise<RunReport> {
  const step = stepper(baseURL);
  const id = newId('baseline');
  const t0 = performance.now();
  let state = initialState(input);
  try {
    for (let action = nextAction(state); action; action = nextAction(state)) {
      const result = await step.run(requestFor(state, action), transcriptOf(state), {
        workflowId: id,
        runId: id,
        attempt: 1,
        timeoutMs: 60_000,
        // Streamed like the worker's steps (live output), so the comparison is like for like.
        onText: () => {},
      });
      state = reduce(state, result);
    }
    return { id, wallMs: performance.now() - t0, steps: state.steps, ok: true };
  } catch (err) {
    return { id, wallMs: performance.now() - t0, steps: state.steps, ok: false, error: (err as Error).message };
  }
}

/** LangGraph: a node per agent, a router on the state machine's next action, a checkpoint per super-step. */
export function langGraphTeam(baseURL: string, checkpointer: BaseCheckpointSaver) {
  const step = stepper(baseURL);
  const Team = Annotation.Root({
    team: Annotation<TeamState>(),
  });
  const route = (s: typeof Team.State): string => nextAction(s.team)?.agent ?? END;
  const node = (agent: string) => async (s: typeof Team.State, config: { configurable?: { thread_id?: string } }) => {
    const action = nextAction(s.team);
    if (!action || action.agent !== agent) throw new Error(`router sent ${agent} a step for ${action?.agent}`);
    const thread = config.configurable?.thread_id ?? '';
    const result = await step.run(requestFor(s.team, action), transcriptOf(s.team), {
      workflowId: thread,
      runId: thread,
      attempt: 1,
      timeoutMs: 60_000,
      onText: () => {},
    });
    return { team: reduce(s.team, result) };
  };
  const agents = defaultTeam().map((a) => a.name);
  const graph = new StateGraph(Team);
  for (const agent of agents) graph.addNode(agent, node(agent));
  const targets = [...agents, END];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const g = graph as any;
  g.addConditionalEdges(START, route, targets);
  for (const agent of agents) g.addConditionalEdges(agent, route, targets);
  return graph.compile({ checkpointer }) as unknown as {
    invoke(
      input: { team: TeamState } | null,
      config: { configurable: { thread_id: string }; recursionLimit: number },
    ): Promise<{ team: TeamState }>;
  };
}

export interface LangGraphSystem {
  name: SystemName;
  checkpointer: BaseCheckpointSaver;
  run(input: TeamInput, threadId?: string): Promise<RunReport>;
  /** Continues a failed thread from its last checkpoint. */
  resume(threadId: string): Promise<RunReport>;
}

export function langGraphSystem(
  name: 'langgraph-sqlite' | 'langgraph-memory',
  baseURL: string,
  dbPath: string,
): LangGraphSystem {
  const checkpointer = name === 'langgraph-sqlite' ? SqliteSaver.fromConnString(dbPath) : new MemorySaver();
  const app = langGraphTeam(baseURL, checkpointer);
  const exec = async (id: string, input: { team: TeamState } | null): Promise<RunReport> => {
    const t0 = performance.now();
    try {
      const out = await app.invoke(input, { configurable: { thread_id: id }, recursionLimit: 10_000 });
      return { id, wallMs: performance.now() - t0, steps: out.team.steps, ok: true };
    } catch (err) {
      return { id, wallMs: performance.now() - t0, steps: 0, ok: false, error: (err as Error).message };
    }
  };
  return {
    name,
    checkpointer,
    run: (input, threadId) => exec(threadId ?? newId(name), { team: initialState(input) }),
    resume: (threadId) => exec(threadId, null),
  };
}

/** This project: a workflow run on the worker the app hosts. */
export async function runTemporal(app: AgentTeamClient, input: TeamInput, taskQueue?: string): Promise<RunReport> {
  const id = newId('temporal');
  const t0 = performance.now();
  const handle = await app.context.temporal.workflow.start(agentTeamWorkflow, {
    taskQueue: taskQueue ?? app.context.taskQueue,
    workflowId: id,
    args: [input],
  });
  try {
    const result = (await handle.result()) as { steps: number };
    return { id, wallMs: performance.now() - t0, steps: result.steps, ok: true };
  } catch (err) {
    return { id, wallMs: performance.now() - t0, steps: 0, ok: false, error: (err as Error).message };
  }
}
