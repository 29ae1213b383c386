/**
 * Types shared by the workflow, the activities, the client and the checkpoint adapter.
 * Everything here is plain JSON: it travels through Temporal payloads and is what history records.
 */

/** The workflow type name: what `temporal workflow start --type` and visibility queries name. */
export const WORKFLOW_TYPE = 'agentTeamWorkflow';

/**
 * The search attribute (Keyword) a run sets to the kind of request it waits on, and clears after: the
 * `pending` list queries it. A run sets it only when its input says the namespace has it registered.
 */
export const WAITING_ATTRIBUTE = 'AgentTeamWaiting';

/** Tokens spent by one LLM call, or summed over many. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  /** Of the prompt tokens, those the endpoint served from its prompt cache (billed at a lower price). */
  cachedPromptTokens?: number;
}

/** A model's price in USD per million tokens, as `pricing:` in config/workflow.yaml gives it. */
export interface ModelPrice {
  input: number;
  cachedInput: number;
  output: number;
}

/**
 * Where a run stops and asks a person (all off by default). A gate waits on the `answer` Update: for days if
 * need be, at no cost, through crashes.
 */
export interface GateSettings {
  /** The orchestrator's plan, and every replan, waits for approve / revise (with feedback) / reject. */
  planReview: boolean;
  /** The final answer waits for approve / revise / reject. */
  approveFinalAnswer: boolean;
  /** These agents' steps wait before they run, showing the instruction they will get. */
  approveSteps: string[];
  /** How long a gate waits before it takes `onTimeout`; 0: forever. */
  timeoutMs: number;
  onTimeout: 'approve' | 'reject';
}

/** A spending limit per run, checked before each step is sent (never after paying for it). */
export interface BudgetSettings {
  /** USD, from each step's usage and the run's price table; null: no limit. */
  maxUsd: number | null;
  /** Tokens (prompt and completion); null: no limit. */
  maxTokens: number | null;
  /** `pause`: ask for more budget or a stop; `stop`: the orchestrator writes its final answer from what it has. */
  onExceed: 'pause' | 'stop';
}

/** Retry and timeout settings for every LLM call the workflow schedules. */
export interface LlmCallSettings {
  /** Per-call timeout (the HTTP request, and the activity's start-to-close with a small margin). */
  timeoutMs: number;
  /** Attempts per step, the first included; then the step (and the run) fails. */
  maxAttempts: number;
  /** First retry delay; grows by `backoffCoefficient` up to `maxRetryMs`. */
  initialRetryMs: number;
  maxRetryMs: number;
  backoffCoefficient: number;
  /** How often a running LLM call heartbeats; a dead worker is noticed after twice this. */
  heartbeatMs: number;
}

/**
 * What happens when a step fails for a reason that can clear (its retries ran out on a retryable error or
 * a timeout): the run waits, then runs the step again from the last checkpoint's state, up to `maxAttempts`
 * times. Non-retryable failures (bad request, auth) are never resumed automatically.
 */
export interface AutoResumeSettings {
  enabled: boolean;
  maxAttempts: number;
  /** Wait before the first automatic resume; doubles each time up to `maxDelayMs`. */
  initialDelayMs: number;
  maxDelayMs: number;
}

/** One member of a team, as a run records it. */
export interface AgentDefinition {
  name: string;
  /** What the agent is good at: the orchestrator reads it to pick the next speaker. */
  description: string;
  model: string;
  /** Its system prompt. */
  prompt: string;
  /** The tools it may call (names in the team's `tools`); none when absent. */
  tools?: string[];
}

/**
 * What a tool does to the world, which decides how it is retried and resumed: `none` (reads only) and
 * `idempotent` (the same call twice has the effect of one) are retried like any activity; a `destructive` one
 * is never run again automatically once it may have started, and a resume that would repeat it asks first.
 */
export type SideEffects = 'none' | 'idempotent' | 'destructive';

/** A tool as a run records it (in its input, so a run's tools cannot change under it). */
export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of its arguments (an object). */
  parameters: Record<string, unknown>;
  sideEffects: SideEffects;
  /** `builtin`, `library` (registered in TypeScript on the worker), or `mcp:<server>`. */
  source: string;
  /** An MCP tool's own name on its server (`name` is `<server>__<tool>`). */
  remoteName?: string;
}

/** An MCP server a run's agents may use: a command started over stdio, or a streamable HTTP URL. */
export interface McpServerSpec {
  name: string;
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  url?: string;
}

/** How tools run: the workspace, the limits. */
export interface ToolSettings {
  /** The directory read_file, list_files and write_file work in; null: those tools refuse. */
  workspace: string | null;
  /** Tool calls one agent turn may make; calls past it are not run, and the agent answers without tools. */
  maxToolCallsPerStep: number;
  /** Longest tool result kept; a longer one is cut and marked. */
  maxResultChars: number;
  /** Per tool call (the activity's start-to-close; run_code's own time limit). */
  timeoutMs: number;
  /** run_code's memory limit. */
  runCodeMemoryMb: number;
}

/** A tool call the model asked for. */
export interface ToolCall {
  /** The model's id for the call (tool results name it). */
  id: string;
  name: string;
  /** The arguments, as the JSON text the model wrote. */
  arguments: string;
}

/** What the `callTool` activity is asked to do. */
export interface ToolRequest {
  agent: string;
  round: number;
  stepIndex: number;
  call: ToolCall;
  spec: ToolSpec;
  /** Stable across the activity's retries, new in a resumed run: the tool (or MCP server, in `_meta`) can dedupe on it. */
  idempotencyKey: string;
  settings: ToolSettings;
  /** For an MCP tool: its server. */
  mcpServer?: McpServerSpec;
  /** Attempts the workflow allows: 1 for a destructive tool that is not idempotent (see {@link TOOL_MAX_ATTEMPTS}). */
  maxAttempts: number;
  /**
   * In a replay branch (a fork with `tools: 'replay'`): the source's recorded result of the same call, returned
   * instead of running it, or why the call is not run (it matches nothing, and its tool is not read-only).
   */
  replay?: { content: string; ok: boolean; from: string } | { notRun: string };
}

/** Attempts of a tool call that may be retried (reads, idempotent tools). */
export const TOOL_MAX_ATTEMPTS = 3;

/** A tool step's record: the call, and how it went (its output is the step's `content`). */
export interface ToolOutcome {
  call: ToolCall;
  sideEffects: SideEffects;
  source: string;
  idempotencyKey: string;
  /** False when the tool reported an error (the text says which and why); the agent sees it either way. */
  ok: boolean;
  /** Whether a failed call could clear on a retry (it was retried until its attempts ran out). */
  retryable?: boolean;
  durationMs: number;
  /** In a replay branch: the source's result was returned (`<workflowId>@<step>`), the tool did not run. */
  replayedFrom?: string;
  /** In a replay branch: the call was not run (it matched no recorded call, and its tool is not read-only). */
  notRun?: true;
}

/** One round trip of an agent's turn with tools: the calls it asked for, and their results. */
export interface ToolExchange {
  calls: ToolCall[];
  /** By call id: the result text, and whether the call worked. Calls past the limit get a result without running. */
  results: Record<string, { content: string; ok: boolean; step: number | null }>;
}

/**
 * Who the team is: recorded in the run's input, so whichever worker executes a step uses this run's agents,
 * models and prompts, and a reset or a restore keeps them.
 */
export interface TeamDefinition {
  /** The members; one of them is the orchestrator. */
  agents: AgentDefinition[];
  /** Sampling temperature of every call. */
  temperature: number;
  /** The tools its agents may call (each agent names its own in `tools`). */
  tools?: ToolSpec[];
}

/** The resolved limits of one run. Recorded in the run's input, so every checkpoint knows them. */
export interface TeamSettings {
  maxRounds: number;
  maxStalls: number;
  llm: LlmCallSettings;
  autoResume: AutoResumeSettings;
  /** The run's team; null for a run started without one (the worker's configured team serves it). */
  team: TeamDefinition | null;
  gates: GateSettings;
  budget: BudgetSettings;
  /** USD per million tokens, by model: the run's cost is counted with these. */
  pricing: Record<string, ModelPrice>;
  tools: ToolSettings;
  mcpServers: McpServerSpec[];
}

/**
 * What `agentTeamWorkflow` accepts. Only `task` is required, so that
 * `temporal workflow start --type agentTeamWorkflow --input '{"task":"…"}'` works; anything left out
 * takes the built-in defaults ({@link DEFAULT_SETTINGS}). `agent-team run` fills every field from
 * config/workflow.yaml.
 */
export interface TeamInput {
  task: string;
  maxRounds?: number;
  maxStalls?: number;
  llm?: Partial<LlmCallSettings>;
  autoResume?: Partial<AutoResumeSettings>;
  /** The team (`agent-team run` always records it); without it, the worker's configured team serves the run. */
  team?: TeamDefinition;
  tools?: Partial<ToolSettings>;
  /** MCP servers whose tools the agents may use (an agent lists `mcp:<server>` in its tools). */
  mcpServers?: McpServerSpec[];
  gates?: Partial<GateSettings>;
  budget?: Partial<BudgetSettings>;
  pricing?: Record<string, ModelPrice>;
  /** The namespace has the {@link WAITING_ATTRIBUTE} search attribute registered: the run keeps it current. */
  waitingAttribute?: boolean;
  /**
   * Start from a checkpoint of another run instead of from scratch (`checkpoints import --restore`): its
   * steps are folded into the initial state with the same reducer, so they are not executed (or paid) again.
   */
  restore?: RestoreSeed;
  /**
   * Set on a fork (`agent-team fork`): where it came from and what was changed. Its steps up to the fork point
   * come in `restore`, already edited.
   */
  fork?: ForkOrigin;
  /**
   * A follow-up (`agent-team ask`): this run is the next turn of the conversation whose state its seed (`restore`)
   * carries (usually up to the earlier turn's final answer; with `ask --from`, up to any checkpoint).
   */
  followUp?: FollowUp;
  /**
   * The conversation's settings, recorded by its first run so that every turn keeps them: `idleTimeout`
   * (`session.idle_timeout`: `7d`…, null for never) is checked by `agent-team ask`, not by the workflow.
   */
  session?: { idleTimeout: string | null };
  /**
   * The run continues as new once its history has this many events (or when the server suggests it), carrying
   * what it has done (see workflows/continue.ts). Default 10,000.
   */
  continueAsNewAfterEvents?: number;
}

/** The next turn of a conversation: what the person asks now, who, and when. */
export interface FollowUp {
  task: string;
  /**
   * When the earlier turns the agents would see (questions and final answers, or their summary and the turns
   * since) are longer than this, in characters, the turn starts with a summary step (`session.summarize_after_chars`).
   * Absent: never.
   */
  summarizeAfterChars?: number;
  by: string | null;
  /** When it was asked (ISO 8601), as the client's clock said: recorded, not used for any decision. */
  at: string;
}

/** Where a fork came from, and what was changed there (recorded in its input and memo). */
export interface ForkOrigin {
  /** The checkpoint forked, as its id and as `<workflowId>@<step>`. */
  checkpointId: string;
  workflowId: string;
  runId: string;
  step: number;
  /** What was changed, as people read it (`answer of step 4 (researcher)`, `model of coder: gpt-4o`, …). */
  edits: string[];
  /** A note for the orchestrator, read at its next progress ledger. */
  note?: string;
  /** The source's answers that were replaced (by step): a comparison knows them after the source is gone. */
  replaced?: { step: number; content: string }[];
  /**
   * How the fork's tool calls run: `replay` answers a call that the source made after the fork point (same
   * tool, same arguments) with the source's result, runs an unmatched call only when its tool is read-only,
   * and tells the agent any other was not run; `live` runs every call. Absent: live.
   */
  tools?: 'live' | 'replay';
  /** In a replay branch: the source's tool calls after the fork point, with their results. */
  recordedTools?: RecordedToolResult[];
}

/** A tool call a run made, and its result: what a replay branch answers a matching call with. */
export interface RecordedToolResult {
  name: string;
  arguments: string;
  content: string;
  ok: boolean;
  /** Where it was recorded: `<workflowId>@<step>`. */
  from: string;
}

/** The steps of a checkpoint, carried into a new run (possibly on another server). */
export interface RestoreSeed {
  /** The checkpoint this run continues from, as the export named it. */
  checkpointId: string;
  /** The workflow and run it belonged to, for the audit trail. */
  workflowId: string;
  runId: string;
  /** The results of every step up to the checkpoint, in order. */
  steps: StepResult[];
  /** The answers given to the run's gates up to the checkpoint, each after the step count it followed. */
  answers?: { afterSteps: number; answer: HumanAnswer }[];
  /** The messages people sent (`tell`) up to the checkpoint, each after the step count it followed. */
  messages?: { afterSteps: number; message: PersonMessage }[];
  /**
   * Set when the run this seed came from continued as new into this one (a link of its chain): the seed is every
   * step it and its own seed had; `workflowId`/`runId` name it (`checkpointId` is empty).
   */
  continued?: true;
  /** The follow-ups of a conversation up to the checkpoint (each opened a turn), after the step count it followed. */
  turns?: { afterSteps: number; followUp: FollowUp }[];
  /**
   * For a seed too large for a workflow input (Temporal's payload limit is 2 MB): `steps` is empty, and the
   * workflow's first activities (`loadSeedPiece`) read the steps from the source run, a piece (under 1 MB) each,
   * so that they are recorded in this run's own history: it stands on its own once they are in.
   */
  pieces?: SeedReference;
}

/** Where a seed's steps are read from, when they do not fit in the input (see {@link RestoreSeed.pieces}). */
export interface SeedReference {
  workflowId: string;
  runId: string;
  /** How many steps: the source's own seed, then the steps it ran, in number order. */
  count: number;
  /** Steps edited by a fork (index from 0): their results in place of the source's. */
  replace?: { index: number; result: StepResult }[];
}

/** One piece of a seed: its steps from `from` (index from 0), as many as fit in {@link SEED_PIECE_BYTES}. */
export interface SeedPieceRequest {
  workflowId: string;
  runId: string;
  count: number;
  from: number;
}

/** The most JSON a seed piece holds (at least one step), well under the 2 MB payload limit. */
export const SEED_PIECE_BYTES = 1_000_000;

/**
 * The workflow's defaults for fields an input leaves out (`temporal workflow start --input '{"task":"…"}'`).
 * They must equal the configuration schema's defaults (src/config/schema.ts), which a unit test checks; the
 * workflow cannot import the schema (it runs in Temporal's deterministic sandbox).
 */
export const DEFAULT_SETTINGS: Omit<TeamSettings, 'team' | 'pricing' | 'mcpServers'> = {
  tools: { workspace: null, maxToolCallsPerStep: 8, maxResultChars: 20_000, timeoutMs: 30_000, runCodeMemoryMb: 256 },
  maxRounds: 10,
  maxStalls: 3,
  llm: {
    timeoutMs: 60_000,
    maxAttempts: 4,
    initialRetryMs: 1_000,
    maxRetryMs: 30_000,
    backoffCoefficient: 2,
    heartbeatMs: 10_000,
  },
  autoResume: { enabled: true, maxAttempts: 3, initialDelayMs: 5_000, maxDelayMs: 60_000 },
  gates: { planReview: false, approveFinalAnswer: false, approveSteps: [], timeoutMs: 0, onTimeout: 'reject' },
  budget: { maxUsd: null, maxTokens: null, onExceed: 'pause' },
};

/** Largest task accepted, in UTF-16 code units (well under Temporal's 2 MB payload limit). */
export const MAX_TASK_CHARS = 32_000;

/**
 * Longest answer recorded per step. Temporal rejects payloads over 2 MB (and warns from 512 KB); a longer
 * LLM answer is cut to this length, marked in the text and in `truncatedFrom`, instead of failing the step.
 */
export const MAX_ANSWER_CHARS = 200_000;

/** One yes/no judgement of the progress ledger, with the reason the orchestrator gave. */
export interface LedgerFlag {
  reason: string;
  answer: boolean;
}

/** One free-text answer of the progress ledger, with the reason the orchestrator gave. */
export interface LedgerText {
  reason: string;
  answer: string;
}

/** The orchestrator's structured judgement each round (Magentic-One's progress ledger). */
export interface ProgressLedger {
  is_request_satisfied: LedgerFlag;
  is_in_loop: LedgerFlag;
  is_progress_being_made: LedgerFlag;
  next_speaker: LedgerText;
  instruction_or_question: LedgerText;
}

/**
 * The kinds of step: the orchestrator's `plan` (task ledger, also used to replan), its `ledger`
 * (progress ledger, one per round) and its `final` answer; `agent` is a team member's turn (a model call);
 * `tool` is one tool call an agent asked for (the `callTool` activity).
 */
/** `summary`: the orchestrator's summary of a conversation's earlier turns, when they outgrow the threshold. */
export type StepKind = 'plan' | 'ledger' | 'agent' | 'final' | 'tool' | 'summary';

/** One entry of the team's conversation, as kept in the state. */
export interface TeamMessage {
  /** The number of the step that produced it (1 = the first step, the plan), as every command prints it. */
  step: number;
  kind: StepKind;
  agent: string;
  round: number;
  /** For `agent` steps: what the orchestrator asked. */
  instruction?: string;
  content: string;
  /** For `agent` steps that asked for tools: how many calls (such a message is not in the conversation). */
  toolCalls?: number;
  /**
   * Set on an earlier turn of a conversation as the transcript shows it (see `transcriptOf`): what the person
   * asked then; `content` is the team's final answer to it.
   */
  asked?: string;
}

/** What the workflow asks the `callAgent` activity to do. */
export interface StepRequest {
  kind: StepKind;
  agent: string;
  round: number;
  /** 0-based index of this step in the run (also the index of the checkpoint it will produce, minus one). */
  stepIndex: number;
  task: string;
  plan: string | null;
  /**
   * The team's conversation so far (plan and agent answers). Runs recorded before v0.1 carried it here;
   * current runs leave it out, and the activity asks the workflow for it (the `transcript` query), so that
   * history grows by one answer per step instead of by the whole conversation.
   */
  transcript?: TeamMessage[];
  /** `agent` steps: the orchestrator's instruction. */
  instruction?: string;
  /** `plan` steps: true when this is a replan after a stall. */
  replan?: boolean;
  /** `final` steps: true when max_rounds (or the budget) cut the run short. */
  cutShort?: boolean;
  /** `final` steps cut short: what cut them short (absent: max_rounds). */
  cutShortBy?: 'max_rounds' | 'budget';
  /** `plan` and `final` steps after a reviewer asked for changes: what they asked. */
  feedback?: string;
  /** The speaking agent, from the run's team (absent for runs without one: the worker's team serves them). */
  speaker?: SpeakerSpec;
  /** `agent` steps of an agent with tools: the tools offered (none once its turn has used its tool calls). */
  tools?: ToolSpec[];
  /** `agent` steps that follow tool calls: this turn's calls and their results, in order. */
  toolTurn?: ToolExchange[];
  /** `plan` and `ledger` steps of runs with a team: the members the orchestrator may direct. */
  members?: { name: string; description: string }[];
  /** `ledger` steps: a person's note for the orchestrator (a fork's `--note`), read at this ledger. */
  note?: string;
  /** `plan` and `ledger` steps: messages people sent the running run (`tell`) since the orchestrator last read any. */
  messages?: PersonMessage[];
}

/** A message a person sent a running run (`agent-team tell`, the `tell` Update): the orchestrator reads it next. */
export interface PersonMessage {
  /** `msg-<n>`, in the order the run took them. */
  id: string;
  text: string;
  by: string | null;
  /** When the run took it (workflow time). */
  at: string;
  /** Stop the step in flight and have the orchestrator replan with it. */
  interrupt?: boolean;
}

/** Largest message a person may send a run, in UTF-16 code units. */
export const MAX_MESSAGE_CHARS = 8_000;

/** What a step needs to know of its speaker. */
export interface SpeakerSpec {
  model: string;
  prompt: string;
  temperature: number;
}

/** What one agent step returns; history records it, and the state is folded from these. */
export interface StepResult {
  kind: StepKind;
  agent: string;
  round: number;
  stepIndex: number;
  instruction?: string;
  replan?: boolean;
  cutShort?: boolean;
  cutShortBy?: 'max_rounds' | 'budget';
  /** The agent's answer (for `ledger` steps, the raw JSON the model returned). */
  content: string;
  /** `ledger` steps: the validated progress ledger. */
  ledger?: ProgressLedger;
  model: string;
  usage: TokenUsage;
  latencyMs: number;
  /** Set when the answer was longer than {@link MAX_ANSWER_CHARS}: its original length; `content` was cut. */
  truncatedFrom?: number;
  /** Which attempt of the activity produced this result (1 = first try). */
  attempt: number;
  /** `agent` steps: the tools the model asked to call (its turn goes on once they have run). */
  toolCalls?: ToolCall[];
  /** `tool` steps: the call and how it went. */
  tool?: ToolOutcome;
  /** `plan` and `ledger` steps: the ids of the people's messages the request carried (read, so not sent again). */
  heard?: string[];
}

/** How a run ended, as the workflow returns it. */
export interface TeamResult {
  task: string;
  answer: string;
  /** True when max_rounds (or the budget) stopped the team before the orchestrator judged the task done. */
  cutShort: boolean;
  /** What cut it short, when it was. */
  cutShortBy?: 'max_rounds' | 'budget';
  /** Rounds of this turn (of the run, for a run that is its conversation's only turn). */
  rounds: number;
  replans: number;
  /** Steps of the whole conversation (its step numbers go on across turns). */
  steps: number;
  /** The turn of the conversation this run answered, from 2 (absent for a first turn). */
  turn?: number;
  /** Of the whole conversation. */
  usage: TokenUsage & { llmCalls: number; costUsd?: number };
}

/** What a gate asks. */
export type RequestKind = 'plan_review' | 'step_approval' | 'final_review' | 'budget';

/** What a person may answer. */
export type Decision = 'approve' | 'revise' | 'reject' | 'add_budget' | 'stop';

/** A question a run waits on, derived from its state (so every checkpoint knows whether it was waiting). */
export interface HumanRequest {
  /** `<kind>@<steps completed>#<answers so far>`: an answer must name it, so a stale answer is refused. */
  id: string;
  kind: RequestKind;
  /** Steps completed when it was asked. */
  step: number;
  /** The question, in a sentence. */
  question: string;
  /** The decisions it accepts. */
  decisions: Decision[];
  /** plan_review: the plan; final_review: the answer; step_approval: the agent and its instruction. */
  plan?: string;
  answer?: string;
  agent?: string;
  instruction?: string;
  /** budget: what was spent, and the limits (with what was added). */
  spent?: { usd: number; tokens: number };
  limit?: { usd: number | null; tokens: number | null };
  /** When the run started waiting (the memo's copy of the request carries it; a checkpoint's does not). */
  askedAt?: string;
  /** The gate's timeout (gates.timeout_ms) and what it decides then; absent when it waits for ever. */
  timeout?: { ms: number; decision: Decision };
}

/** An answer to a {@link HumanRequest}: the `answer` Update's argument, recorded in history. */
export interface HumanAnswer {
  requestId: string;
  decision: Decision;
  /** revise: what to change. */
  feedback?: string;
  /** reject: why. */
  reason?: string;
  /** add_budget: how much more. */
  addUsd?: number;
  addTokens?: number;
  /** Who answered: the OS user of the CLI, or the library caller's name. */
  answeredBy?: string;
  /** Set when no one answered in time and the gate took its default action. */
  timedOut?: boolean;
}
