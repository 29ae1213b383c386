/**
 * The checkpoint API of the spec (OPT-02), in TypeScript form:
 *
 *   const workflow = new WorkflowBuilder()
 *     .addAgent(orchestrator, 'orchestrator').addAgent(researcher, 'researcher')
 *     .addAgent(coder, 'coder').addAgent(analyst, 'analyst')
 *     .withCheckpointing(new FileCheckpointStorage('./checkpoints'))
 *     .build();
 *   const result = await workflow.run(userInput);                     // a new run
 *   const resumed = await workflow.run(userInput, { checkpointId });  // resume from a checkpoint
 *   const checkpoints = await workflow.listCheckpoints({ workflowId });
 *   const state = await workflow.loadCheckpoint(checkpointId);
 *   await workflow.close();
 *
 * A thin layer over the client (AgentTeamClient): the storage picks where Temporal runs, and the
 * checkpoints are Temporal history.
 */
import type { Comparison } from './branches/compare';
import type { ForkOptions, ForkOutcome } from './client/branches';
import type { AskOptions, AskOutcome, TellOptions, TellOutcome } from './client/conversation';
import type { TurnSummary } from './conversation/turns';
import type OpenAI from 'openai';
import type {
  BudgetSettings,
  GateSettings,
  HumanRequest,
  ModelPrice,
  SideEffects,
  TeamInput,
} from '../workflows/types';
import { ORCHESTRATOR, type AgentDefinition } from '../activities/agents';
import { BUILTIN_TOOL_NAMES, type ToolDefinition } from '../activities/tools';
import type { Checkpoint, LoadedCheckpoint } from './checkpoints/derive';
import {
  AgentTeamClient,
  EventStream,
  type AnswerInput,
  type AnswerReceipt,
  type ExecuteOptions,
  type PendingRun,
  type ResumeOutcome,
  type RunEvent,
  type RunOutcome,
} from './client';
import type { RecordedStep } from './history/reader';
import { DEFAULT_MODEL, DEFAULT_TEAM, parseConfig, type RawConfig } from './config';
import type { RunStatus } from './shared/constants';
import { ConfigError } from './shared/errors';
import type { TemporalChoice } from './temporal/connection';
import type { CheckpointStorage } from './storage';

export {
  ClusterCheckpointStorage,
  FileCheckpointStorage,
  InMemoryCheckpointStorage,
  type CheckpointStorage,
  type EmbeddedServerOptions,
} from './storage';

const member = (name: keyof typeof DEFAULT_TEAM): AgentDefinition => ({ name, ...DEFAULT_TEAM[name] });

/** The default team members, ready for `addAgent`. */
export const orchestrator = member('orchestrator');
export const researcher = member('researcher');
export const coder = member('coder');
export const analyst = member('analyst');

/** Options of {@link CheckpointedWorkflow.run} and {@link CheckpointedWorkflow.start}. */
export interface RunOptions {
  /** Resume from this checkpoint instead of starting a new run. */
  checkpointId?: string;
  /** With `checkpointId`: resume even though destructive tool calls made after it run again (refused otherwise). */
  repeatSideEffects?: boolean;
  /** Workflow id of a new run (any text Temporal accepts). @default team-<yymmdd>-<hhmmss>-<random> */
  workflowId?: string;
  /** Called for each completed step; `reused` marks steps kept from the checkpoint. */
  onStep?: (step: RecordedStep, reused: boolean) => void;
  /** Told of everything that happens while the run is followed (steps, live text, questions, answers…). */
  onEvent?: (event: RunEvent) => void;
  /** Read the text of the step in progress (`live-text` events). @default false */
  live?: boolean;
  /**
   * Host a worker in this process. A new run then gets a task queue of its own, served by this process alone
   * with this workflow's LLM client; `false` starts it on the shared queue that `agent-team worker` serves.
   * @default true
   */
  worker?: boolean;
  /** Aborting it detaches: `run` rejects with a DetachedError and the run goes on in Temporal. */
  signal?: AbortSignal;
  /**
   * Answers a gate in-process: called when the run starts waiting on a person (plan review, step approval,
   * final review, budget) with the request and a signal aborted if someone answers first from elsewhere.
   * Return an answer (`{ decision: 'approve' }`, `{ decision: 'revise', feedback }`…, `answeredBy` naming
   * who), or nothing to leave the question to `respond()` or the CLI.
   */
  onRequest?: (
    request: HumanRequest,
    workflowId: string,
    signal: AbortSignal,
  ) => Promise<AnswerInput | void | undefined> | AnswerInput | void | undefined;
}

/** A run this process follows: its events as they happen, and its outcome at the end. */
export interface RunHandle<T extends RunOutcome = RunOutcome> {
  /** Everything that happens, as it happens; the iteration ends after the `finished` event (or throws its error). */
  events(): AsyncIterable<RunEvent>;
  /** The outcome, once the run closes (a DetachedError when `signal` aborts). */
  result(): Promise<T>;
}

/** `withSettings`' camelCase keys as config/workflow.yaml spells them (`maxUsd` → `max_usd`), unset ones left out. */
const snakeKeys = (settings: object): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(settings)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]),
  );

/** Team settings that `WorkflowBuilder.withSettings` accepts (the same as config/workflow.yaml's). */
export interface TeamSettingsInput {
  maxRounds?: number;
  maxStalls?: number;
  llm?: Partial<Omit<RawConfig['llm'], never>>;
  taskQueue?: string;
  /** Where a run stops and asks a person (all off by default): see docs/people-in-the-loop.md. */
  gates?: Partial<GateSettings>;
  /** A spending limit per run, in USD and/or tokens, checked before each step is sent. */
  budget?: Partial<BudgetSettings>;
  /** USD per million tokens by model, over the shipped snapshot (config/workflow.yaml's `pricing:`). */
  pricing?: Record<string, ModelPrice>;
  /** How tools run (config/workflow.yaml's `tools:`): the workspace, the limits, side-effect overrides. */
  tools?: Partial<{
    workspace: string | null;
    maxToolCallsPerStep: number;
    maxResultChars: number;
    timeoutMs: number;
    runCodeMemoryMb: number;
    sideEffects: Record<string, SideEffects>;
  }>;
}

/** Builds a {@link CheckpointedWorkflow}. */
export class WorkflowBuilder {
  private readonly agents: AgentDefinition[] = [];
  private storage: CheckpointStorage | null = null;
  private settings: TeamSettingsInput = {};
  private llm: { offline?: boolean; openai?: OpenAI } = {};
  private readonly tools: ToolDefinition<never>[] = [];

  /**
   * Registers a tool implemented in TypeScript (name, description, zod input schema, side-effect class, handler):
   * agents that list its name in `tools` may call it; the worker this object hosts runs it.
   */
  addTool<Args>(tool: ToolDefinition<Args>): this {
    if (!/^[a-zA-Z0-9_-]{1,64}$/.test(tool.name))
      throw new ConfigError(`addTool: "${tool.name}" is not a valid tool name (1-64 letters, digits, _ or -)`);
    if (this.tools.some((t) => t.name === tool.name) || BUILTIN_TOOL_NAMES.includes(tool.name))
      throw new ConfigError(`addTool: a tool named "${tool.name}" exists already`);
    this.tools.push(tool as unknown as ToolDefinition<never>);
    return this;
  }

  /**
   * Adds a team member. `name` defaults to `agent.name`; a duplicate name is an error. The team must include
   * an `orchestrator` (it plans and picks the next speaker).
   */
  addAgent(agent: Partial<AgentDefinition> & Pick<AgentDefinition, 'description'>, name?: string): this {
    const agentName = name ?? agent.name;
    if (!agentName) throw new ConfigError('addAgent: the agent needs a name (pass it as the second argument)');
    if (!/^[a-z][a-z0-9_-]*$/.test(agentName)) {
      throw new ConfigError(`addAgent: "${agentName}" is not a valid agent name (lower-case words: a-z, 0-9, _ or -)`);
    }
    if (this.agents.some((a) => a.name === agentName))
      throw new ConfigError(`addAgent: an agent named "${agentName}" was already added`);
    this.agents.push({
      name: agentName,
      description: agent.description,
      model: agent.model ?? DEFAULT_MODEL,
      prompt: agent.prompt ?? `You are the team's ${agentName}. ${agent.description}`,
      ...(agent.tools?.length ? { tools: [...agent.tools] } : {}),
    });
    return this;
  }

  /** Where checkpoints live. @default like the CLI: a configured cluster, else the embedded file server in ./checkpoints */
  withCheckpointing(storage: CheckpointStorage): this {
    this.storage = storage;
    return this;
  }

  /** Limits and LLM retry settings (defaults: those of config/workflow.yaml). */
  withSettings(settings: TeamSettingsInput): this {
    this.settings = { ...this.settings, ...settings };
    return this;
  }

  /**
   * The LLM: an `openai` client of yours (build it with `maxRetries: 0`: Temporal owns retries), or
   * `offline: true` for the built-in offline model. @default OPENAI_API_KEY / OPENAI_BASE_URL, else offline
   */
  withLlm(llm: { offline?: boolean; openai?: OpenAI }): this {
    this.llm = llm;
    return this;
  }

  build(): CheckpointedWorkflow {
    if (!this.agents.some((a) => a.name === ORCHESTRATOR)) {
      throw new ConfigError(
        `build: the team needs an agent named "${ORCHESTRATOR}" (it plans and picks the next speaker)`,
      );
    }
    if (this.agents.length < 2)
      throw new ConfigError('build: the team needs at least one agent besides the orchestrator');
    const known = [...BUILTIN_TOOL_NAMES, ...this.tools.map((t) => t.name)];
    for (const agent of this.agents) {
      const unknown = (agent.tools ?? []).find((t) => !known.includes(t));
      if (unknown) {
        throw new ConfigError(
          `build: ${agent.name}'s tools: no tool named "${unknown}" (available: ${known.join(', ')}; addTool registers one)`,
        );
      }
    }
    return new CheckpointedWorkflow([...this.agents], this.storage, { ...this.settings }, { ...this.llm }, [
      ...this.tools,
    ]);
  }
}

/** A team whose runs are checkpointed in Temporal history. Connects lazily; call close() when done. */
export class CheckpointedWorkflow {
  private app: Promise<AgentTeamClient> | null = null;

  constructor(
    readonly agents: readonly AgentDefinition[],
    private readonly storage: CheckpointStorage | null,
    private readonly settings: TeamSettingsInput,
    private readonly llm: { offline?: boolean; openai?: OpenAI },
    private readonly tools: readonly ToolDefinition<never>[] = [],
  ) {}

  private open(): Promise<AgentTeamClient> {
    this.app ??= (async () => {
      const resolved = (await this.storage?.resolve()) ?? { choice: { kind: 'auto' } as TemporalChoice, config: {} };
      const { llm, maxRounds, maxStalls, taskQueue, gates, budget, pricing, tools } = this.settings;
      const { sideEffects, ...toolSettings } = tools ?? {};
      const config = parseConfig(
        {
          ...resolved.config,
          workflow: { ...resolved.config.workflow, ...snakeKeys({ maxRounds, maxStalls }) },
          temporal: { ...resolved.config.temporal, ...(taskQueue ? { task_queue: taskQueue } : {}) },
          ...(llm ? { llm } : {}),
          ...(gates ? { gates: snakeKeys(gates) as RawConfig['gates'] } : {}),
          ...(budget ? { budget: snakeKeys(budget) as RawConfig['budget'] } : {}),
          ...(pricing
            ? { pricing: Object.fromEntries(Object.entries(pricing).map(([m, p]) => [m, snakeKeys(p)])) }
            : {}),
          ...(tools
            ? { tools: { ...snakeKeys(toolSettings), ...(sideEffects ? { side_effects: sideEffects } : {}) } }
            : {}),
          agents: Object.fromEntries(this.agents.map(({ name, ...rest }) => [name, rest])),
        },
        null,
        process.cwd(),
        this.tools,
      );
      return AgentTeamClient.open(config, { temporal: resolved.choice });
    })();
    return this.app;
  }

  private executeOptions(options: RunOptions, onEvent?: (event: RunEvent) => void): ExecuteOptions {
    const { onRequest, onStep } = options;
    return {
      ...(this.llm.offline !== undefined ? { offline: this.llm.offline } : {}),
      ...(this.llm.openai ? { openai: this.llm.openai } : {}),
      ...(options.worker !== undefined ? { worker: options.worker } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.live ? { live: true } : {}),
      onEvent: (event) => {
        if (event.type === 'step') onStep?.(event.step, event.reused);
        options.onEvent?.(event);
        onEvent?.(event);
      },
      ...(onRequest ? { answer: (request, { workflowId, signal }) => onRequest(request, workflowId, signal) } : {}),
    };
  }

  /**
   * Runs the team on `input` (a task, or `{ task, maxRounds?, … }`), hosting a worker in this process, and
   * returns the outcome. With `checkpointId` it resumes instead: the execution is reset to that checkpoint
   * and the steps before it are reused, not re-executed (refused while the workflow is running).
   */
  async run(input: string | TeamInput, options?: RunOptions & { checkpointId?: undefined }): Promise<RunOutcome>;
  async run(input: string | TeamInput | null, options: RunOptions & { checkpointId: string }): Promise<ResumeOutcome>;
  async run(input: string | TeamInput | null, options: RunOptions = {}): Promise<RunOutcome | ResumeOutcome> {
    return this.execute(input, options);
  }

  /**
   * Like {@link run}, but returns at once with a handle: `events()` streams what happens as it happens
   * (`for await (const e of handle.events())`), `result()` is the outcome.
   */
  start(input: string | TeamInput | null, options: RunOptions = {}): RunHandle<RunOutcome | ResumeOutcome> {
    const stream = new EventStream<RunEvent>();
    const result = this.execute(input, options, stream.push);
    result.then(
      () => stream.close(),
      (err: unknown) => stream.fail(err),
    );
    return { events: () => stream, result: () => result };
  }

  private async execute(
    input: string | TeamInput | null,
    options: RunOptions,
    onEvent?: (event: RunEvent) => void,
  ): Promise<RunOutcome | ResumeOutcome> {
    const client = await this.open();
    const execute = this.executeOptions(options, onEvent);
    if (options.checkpointId) {
      return client.runs.resume(options.checkpointId, {
        ...execute,
        ...(options.repeatSideEffects ? { repeatSideEffects: true } : {}),
      });
    }
    if (input === null) throw new ConfigError('run: a task is required for a new run');
    const { task, ...overrides } = typeof input === 'string' ? { task: input } : input;
    return client.runs.run(task, {
      ...execute,
      ...(options.workflowId ? { workflowId: options.workflowId } : {}),
      ...(Object.keys(overrides).length ? { input: overrides } : {}),
    });
  }

  /**
   * Forks a run: a new workflow that starts from the state at `checkpointId` (its steps up to there reused, not
   * sent again), with `edits` (answers, task, a note for the orchestrator, models or a whole team configuration),
   * and follows it to its end. The source is untouched. See docs/branches.md.
   */
  async fork(
    checkpointId: string,
    options: RunOptions & Pick<ForkOptions, 'edits' | 'seed'> & { tools?: 'live' | 'replay' } = {},
  ): Promise<ForkOutcome> {
    const client = await this.open();
    return client.branches.fork(checkpointId, {
      ...this.executeOptions(options, options.onEvent),
      ...(options.workflowId ? { workflowId: options.workflowId } : {}),
      ...(options.edits || options.tools
        ? { edits: { ...options.edits, ...(options.tools ? { tools: options.tools } : {}) } }
        : {}),
      ...(options.seed ? { seed: options.seed } : {}),
    });
  }

  /**
   * A conversation with a workflow: `ask()` follows up its finished run (the next turn, followed to its answer),
   * `tell()` sends its running run a message the orchestrator reads at its next plan or progress ledger
   * (`interrupt`: at once, replanning), `turns()` lists its turns with their steps and cost. See
   * docs/conversations.md.
   */
  session(workflowId: string): ConversationSession {
    return {
      ask: async (text, options = {}) => {
        const client = await this.open();
        return client.conversation.ask(workflowId, text, {
          ...this.executeOptions(options, options.onEvent),
          ...(options.by !== undefined ? { by: options.by } : {}),
          ...(options.from !== undefined ? { from: options.from } : {}),
        });
      },
      tell: async (text, options = {}) => (await this.open()).conversation.tell(workflowId, text, options),
      turns: async () => (await this.open()).conversation.turns(workflowId),
    };
  }

  /** Compares two or more branches (workflow ids, or checkpoints): shared steps, divergence, answers, totals. */
  async compare(...branches: string[]): Promise<Comparison> {
    return (await this.open()).branches.compare(branches);
  }

  /** Checkpoints, newest first: of every run of `workflowId`, or of the most recent runs. */
  async listCheckpoints(
    options: { workflowId?: string; status?: RunStatus[]; limit?: number } = {},
  ): Promise<Checkpoint[]> {
    return (await this.open()).checkpoints.list(options);
  }

  /** A checkpoint and the team's full state at that point. */
  async loadCheckpoint(checkpointId: string): Promise<LoadedCheckpoint> {
    return (await this.open()).checkpoints.load(checkpointId);
  }

  /**
   * The runs waiting on a person (gates, budget), longest waiting first, with what each asks. Works from any
   * process, with no worker up.
   */
  async pending(workflowId?: string): Promise<PendingRun[]> {
    return (await this.open()).people.pending(workflowId);
  }

  /**
   * Answers what a run waits on, from any process (`answeredBy` defaults to the OS user). Refused with an
   * {@link AnswerRefusedError}, changing nothing, when the answer is stale, malformed, or second.
   */
  async respond(workflowId: string, answer: AnswerInput & { requestId?: string }): Promise<AnswerReceipt> {
    return (await this.open()).people.respond(workflowId, answer);
  }

  /** The underlying client (its sub-clients: runs, people, checkpoints, history, archive, workers). */
  async client(): Promise<AgentTeamClient> {
    return this.open();
  }

  /** Closes the connection (and stops an in-memory server this object started). */
  async close(): Promise<void> {
    const app = this.app;
    this.app = null;
    // A connection that never opened (its error was thrown where it was used) has nothing to close.
    const opened = await app?.catch(() => null);
    await opened?.close();
  }
}

/** A conversation with one workflow (see {@link WorkflowBuilder.session}). */
export interface ConversationSession {
  /** Follows up the finished run: the next turn, followed to its end. */
  ask(text: string, options?: RunOptions & Pick<AskOptions, 'by' | 'from'>): Promise<AskOutcome>;
  /** Sends the running run a message for its orchestrator. */
  tell(text: string, options?: TellOptions): Promise<TellOutcome>;
  /** The conversation's turns so far, oldest first, each with its steps, answer and cost. */
  turns(): Promise<TurnSummary[]>;
}
