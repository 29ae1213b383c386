/**
 * What the team's state is: the types the reducer (./state), the gates (./gates) and the checkpoint tools share.
 * Types only, so any module of the model can use them without importing another's code.
 */
import type {
  Decision,
  PersonMessage,
  ProgressLedger,
  RequestKind,
  StepKind,
  TeamMessage,
  TeamSettings,
  TokenUsage,
  ToolCall,
  ToolExchange,
} from './types';

/** Where the loop stands: which kind of step comes next. */
export type Phase = 'planning' | 'replanning' | 'evaluating' | 'delegating' | 'acting' | 'finalizing' | 'done';

/** An agent's turn with tools: the calls it asked for, their results, and what is still running. */
export interface AgentTurn {
  agent: string;
  round: number;
  instruction: string;
  /** Each round trip of the turn: the calls the model asked for, and the results so far. */
  exchanges: ToolExchange[];
  /** Tool calls run (or refused for the limit) in this turn. */
  callsUsed: number;
  /** The calls of the last exchange that run, with the step number each was given (results may come in any order). */
  running: { call: ToolCall; stepIndex: number }[];
}

/** The complete state of a run at one point: what `loadCheckpoint` returns. */
export interface TeamState {
  task: string;
  settings: TeamSettings;
  phase: Phase;
  /** The orchestrator's current plan (task ledger); null before the first plan. */
  plan: string | null;
  /** Every step's output, in order. */
  messages: TeamMessage[];
  /** Rounds started (one progress ledger each). */
  round: number;
  stallCount: number;
  replans: number;
  /** Completed steps. */
  steps: number;
  lastLedger: ProgressLedger | null;
  finalAnswer: string | null;
  cutShort: boolean;
  /** What cut the run short, when something did. */
  cutShortBy: 'max_rounds' | 'budget' | null;
  /** Tokens, calls and their cost at the run's prices (`cachedPromptTokens`: of the prompt tokens, cached). */
  usage: Required<TokenUsage> & { llmCalls: number; costUsd: number };
  /** Where the gates stand (see ./gates). */
  gates: {
    /** `steps` when the current plan, the next step, the final answer were approved. */
    planApprovedAt: number | null;
    stepApprovedAt: number | null;
    finalApprovedAt: number | null;
    /** A reviewer's request for changes, for the next plan or final answer. */
    feedback: string | null;
    /** Budget added by answers. */
    budgetAdded: { usd: number; tokens: number };
    /** An answer (or `on_exceed: stop`) said to stop at the budget. */
    stopForBudget: boolean;
  };
  /** Every answer the run took, in order: the audit trail of its gates. */
  answers: AnswerRecord[];
  /** Set when a person rejected the run (the run then ends). */
  rejected: { kind: RequestKind; reason: string; by: string | null } | null;
  /** The agent turn that is calling tools (phase `acting`); null otherwise. */
  turn: AgentTurn | null;
  /** Set once the run's MCP servers' tools are read (and in the team): the run's first activity when it has servers. */
  mcpReady: boolean;
  /** A person's note for the orchestrator (a fork's `--note`), sent with its next progress ledger; absent after. */
  note?: string;
  /** Messages people sent the run (`tell`) that the orchestrator has not read yet; absent when none. */
  inbox?: PersonMessage[];
  /** Every message people sent the run, in order (absent when none): the audit trail of `tell`. */
  told?: PersonMessage[];
  /** The conversation's earlier turns, oldest first (absent for a run that is its first turn). */
  turns?: TurnRecord[];
  /** Who asked the current turn and when, for a turn that is a follow-up (absent for the first). */
  asked?: { by: string | null; at: string };
  /** The earlier turns outgrew the follow-up's threshold: the turn's next step is their summary (absent otherwise). */
  summaryDue?: true;
  /** The latest summary of the conversation: its text, the step that wrote it, the turns it covers (the first n). */
  summary?: { text: string; step: number; turns: number };
  /** A message that interrupted (its id): the next step is a replan that reads it (absent otherwise). */
  replanFor?: string;
}

/** An answer as the state records it. */
export interface AnswerRecord {
  requestId: string;
  kind: RequestKind;
  /** Steps completed when it was asked. */
  step: number;
  decision: Decision;
  feedback?: string;
  reason?: string;
  addUsd?: number;
  addTokens?: number;
  answeredBy: string | null;
  timedOut?: boolean;
}

/** The next step to run, or null when the run is done. */
export interface NextAction {
  kind: StepKind;
  agent: string;
  round: number;
  instruction?: string;
  replan?: boolean;
  cutShort?: boolean;
  cutShortBy?: 'max_rounds' | 'budget';
  /** `tool` actions: the call, and the step number it was given when the model asked for it. */
  call?: ToolCall;
  stepIndex?: number;
}

/** An earlier turn of a conversation: what was asked, by whom, the final answer, and where it ended. */
export interface TurnRecord {
  task: string;
  /** Who asked and when (null for the first turn, which `run` started). */
  by: string | null;
  at: string | null;
  /** Its final answer; null for a turn a follow-up left before it answered (`ask --from` an earlier checkpoint). */
  answer: string | null;
  /** Steps completed when the next turn began (its final answer, when it has one, is this step). */
  step: number;
  /** The conversation's usage when the next turn began: a turn's own is the difference from the one before. */
  usage: TeamState['usage'];
}
