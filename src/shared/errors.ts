/**
 * Every error this project throws on purpose, in one place. Each class says who throws it and when, carries
 * a stable `code` for scripts (`--json` prints it) and, where there was one, the `cause`. The CLI maps them to
 * exit codes: a {@link UsageError} (and its subclasses) exits 2, meaning nothing was started or changed;
 * anything else exits 1.
 */

/** The stable codes of {@link AgentTeamError}. */
export type ErrorCode =
  | 'USAGE'
  | 'CONFIG'
  | 'NOT_FOUND'
  | 'CHECKPOINT_INVALID'
  | 'RUN_RUNNING'
  | 'RUN_CLOSED'
  | 'DECRYPTION'
  | 'LLM_UNREACHABLE'
  | 'INCOMPATIBLE_CODE'
  | 'TEMPORAL_CLI_NOT_FOUND'
  | 'DEV_SERVER'
  | 'TEMPORAL_UNREACHABLE'
  | 'DETACHED'
  | 'INTERRUPTED'
  | 'ANSWER_REFUSED'
  | 'MESSAGE_REFUSED'
  | 'FOLLOW_UP_REFUSED'
  | 'SIDE_EFFECTS';

/** A word of a command: as given, or a placeholder for a value the user fills in (`<workflowId>`). */
export type CommandWord = string | { placeholder: string };

/**
 * A command that would continue or fix what an error is about, as data: the CLI prints it as a command to paste
 * (its name as the user runs it, each word quoted for a shell, the options that chose the server), the library
 * hands it to the caller as is. Messages themselves never spell out a command.
 */
export interface NextStep {
  /** What it does, in a few words: "see the run through", "list the checkpoints here". */
  purpose: string;
  /** The command's words after the program's name: `['follow', workflowId]`. */
  args: CommandWord[];
}

/** The base class: a message meant for a person, a code meant for a script, and the commands that would help. */
export class AgentTeamError extends Error {
  override name = 'AgentTeamError';
  readonly code: ErrorCode = 'USAGE';
  /** What would continue or fix it (the CLI prints each as a command). */
  readonly next: readonly NextStep[];
  constructor(message: string, options?: { cause?: unknown; next?: readonly NextStep[] }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.next = options?.next ?? [];
  }
  /** 2: bad input, nothing changed; 1: the operation failed; 130: interrupted (Ctrl-C). */
  get exitCode(): 1 | 2 | 130 {
    return this instanceof UsageError ? 2 : this instanceof DetachedError || this instanceof InterruptedError ? 130 : 1;
  }
}

/** Bad input from the user: CLI arguments, a task, an id. Thrown before anything is started or changed. */
export class UsageError extends AgentTeamError {
  override name = 'UsageError';
}

/**
 * A resume would run destructive tool calls again (they ran after the checkpoint, or may have started): refused,
 * nothing changed, unless the caller confirms (`--repeat-side-effects`, `repeatSideEffects: true`).
 */
export class SideEffectsError extends UsageError {
  override name = 'SideEffectsError';
  override readonly code: ErrorCode = 'SIDE_EFFECTS';
  constructor(
    message: string,
    /** The calls: tool, step, arguments, idempotency key, and whether they completed. */
    readonly calls: {
      tool: string;
      step: number;
      agent: string;
      arguments: string;
      idempotencyKey: string;
      completed: boolean;
    }[],
  ) {
    super(message);
  }
}

/** config/workflow.yaml or an environment variable is unreadable or invalid. Thrown before anything starts. */
export class ConfigError extends UsageError {
  override name = 'ConfigError';
  override readonly code: ErrorCode = 'CONFIG';
}

/** A workflow or run that is not on this server (namespace). Thrown by every command that looks one up. */
export class NotFoundError extends UsageError {
  override name = 'NotFoundError';
  override readonly code: ErrorCode = 'NOT_FOUND';
  constructor(
    readonly workflowId: string,
    readonly namespace: string,
    readonly runId?: string,
    options?: { cause?: unknown },
  ) {
    super(
      `no ${runId ? `run ${runId} of ` : ''}workflow "${workflowId}" in namespace "${namespace}" ` +
        '(TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE choose the server)',
      { ...options, next: [{ purpose: 'list the runs here', args: ['checkpoints', 'list'] }] },
    );
  }
}

/** A malformed, damaged, unknown or foreign checkpoint id. Thrown before anything changes. */
export class InvalidCheckpointError extends UsageError {
  override name = 'InvalidCheckpointError';
  override readonly code: ErrorCode = 'CHECKPOINT_INVALID';
  constructor(
    readonly checkpointId: string,
    why: string,
    options?: { cause?: unknown; next?: readonly NextStep[] },
  ) {
    super(`checkpoint "${checkpointId}": ${why}`, options);
  }
}

/** Resume (a reset) was refused because the workflow is running: a reset would terminate it. */
export class RunStillRunningError extends UsageError {
  override name = 'RunStillRunningError';
  override readonly code: ErrorCode = 'RUN_RUNNING';
}

/** Something sent to a run was refused, nothing changed: says what (`answer`, `message`), to which workflow, and why. */
abstract class RefusedError extends UsageError {
  constructor(
    what: string,
    readonly workflowId: string,
    why: string,
    options?: { cause?: unknown; next?: readonly NextStep[] },
  ) {
    super(`${what} to "${workflowId}" refused: ${why}`, options);
  }
}

/** An answer to a run's gate was refused (nothing changed): it waits on nothing, or on another request, or the answer is malformed, or another was taken first. */
export class AnswerRefusedError extends RefusedError {
  override name = 'AnswerRefusedError';
  override readonly code: ErrorCode = 'ANSWER_REFUSED';
  constructor(workflowId: string, why: string, options?: { cause?: unknown; next?: readonly NextStep[] }) {
    super('answer', workflowId, why, options);
  }
}

/** A message to a run (`tell`) was refused: the run has answered, or the message is empty or too long. Nothing changed. */
export class MessageRefusedError extends RefusedError {
  override name = 'MessageRefusedError';
  override readonly code: ErrorCode = 'MESSAGE_REFUSED';
  constructor(workflowId: string, why: string, options?: { cause?: unknown; next?: readonly NextStep[] }) {
    super('message', workflowId, why, options);
  }
}

/** A follow-up (`ask`) was refused: the run is still working, failed, the conversation ended, or the text is empty. */
export class FollowUpRefusedError extends RefusedError {
  override name = 'FollowUpRefusedError';
  override readonly code: ErrorCode = 'FOLLOW_UP_REFUSED';
  constructor(workflowId: string, why: string, options?: { cause?: unknown; next?: readonly NextStep[] }) {
    super('follow-up', workflowId, why, options);
  }
}

/** Cancel or terminate was refused because the run has already closed. */
export class RunClosedError extends UsageError {
  override name = 'RunClosedError';
  override readonly code: ErrorCode = 'RUN_CLOSED';
}

/** A payload could not be decrypted (no key, an unknown key id, the wrong key). Says what to set. */
export class DecryptionError extends ConfigError {
  override name = 'DecryptionError';
  override readonly code: ErrorCode = 'DECRYPTION';
}

/** The configured LLM endpoint refused the connection or does not resolve: a configuration problem. */
export class LlmUnreachableError extends ConfigError {
  override name = 'LlmUnreachableError';
  override readonly code: ErrorCode = 'LLM_UNREACHABLE';
  constructor(
    readonly baseURL: string,
    why: string,
    options?: { cause?: unknown },
  ) {
    super(
      `cannot reach the LLM endpoint ${baseURL}: ${why} — check OPENAI_BASE_URL (unset it, and OPENAI_API_KEY, ` +
        'for the offline model); nothing was started',
      options,
    );
  }
}

/** `resume` refused: the workflow code cannot replay the history the reset would keep. Nothing was changed. */
export class IncompatibleCodeError extends AgentTeamError {
  override name = 'IncompatibleCodeError';
  override readonly code: ErrorCode = 'INCOMPATIBLE_CODE';
}

/** The Temporal CLI (for the embedded server) cannot be found or installed. Thrown by `findTemporalCli`. */
export class TemporalCliNotFoundError extends AgentTeamError {
  override name = 'TemporalCliNotFoundError';
  override readonly code: ErrorCode = 'TEMPORAL_CLI_NOT_FOUND';
}

/**
 * The embedded server cannot start or be reached: the port is taken by another program, the process
 * died, or it did not become healthy in time. Thrown by `ensureDevServer`; `logPath` holds its log.
 */
export class DevServerError extends AgentTeamError {
  override name = 'DevServerError';
  override readonly code: ErrorCode = 'DEV_SERVER';
  constructor(
    message: string,
    readonly logPath?: string,
    options?: { next?: readonly NextStep[] },
  ) {
    super(message, options);
  }
}

/** A Temporal frontend did not answer. Thrown when connecting. */
export class TemporalUnreachableError extends AgentTeamError {
  override name = 'TemporalUnreachableError';
  override readonly code: ErrorCode = 'TEMPORAL_UNREACHABLE';
  constructor(
    message: string,
    readonly address: string,
    options?: { cause?: unknown; next?: readonly NextStep[] },
  ) {
    super(message, options);
  }
}

/**
 * This process stopped following a run (Ctrl-C, an aborted signal): the run goes on in Temporal. Thrown by
 * the client module's run, resume and attach when their `signal` aborts.
 */
export class DetachedError extends AgentTeamError {
  override name = 'DetachedError';
  override readonly code: ErrorCode = 'DETACHED';
  constructor(
    readonly workflowId: string,
    readonly runId: string,
    /** The task queue that serves the run (null when unknown). */
    readonly taskQueue: string | null,
    /** Steps of the run this process had reported when it detached. */
    readonly stepsSeen = 0,
    options?: { cause?: unknown },
  ) {
    super(`detached from run ${runId} of "${workflowId}": it goes on in Temporal`, options);
  }
}

/** Ctrl-C (an aborted signal) came before a run was started or reset: nothing was started or changed. */
export class InterruptedError extends AgentTeamError {
  override name = 'InterruptedError';
  override readonly code: ErrorCode = 'INTERRUPTED';
  constructor() {
    super('interrupted: nothing was started or changed');
  }
}

/** The message of anything thrown (an Error's message, else its string form). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The innermost Error of a `cause` chain (Temporal wraps failures several levels deep). */
export function rootCause(err: unknown): unknown {
  let leaf = err;
  while (leaf instanceof Error && leaf.cause instanceof Error) leaf = leaf.cause;
  return leaf;
}
