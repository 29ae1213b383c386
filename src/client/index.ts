/**
 * The client: sub-clients of one concern each, over one context (configuration, Temporal connection, log), as
 * Temporal's own `Client` composes `workflow`, `schedule` and `taskQueue`. Every CLI command is a call of one of
 * them; the library (`WorkflowBuilder`) is built on them too. A new capability is a sub-client of its own (a file
 * here) or a method of the one it belongs to.
 *
 *   runs         start, follow (attach), resume, cancel, terminate a run; its events as it goes
 *   people       what runs wait on, and answering them
 *   checkpoints  list, load, diff, reset, prune checkpoints (history is the store)
 *   history      the audit trail, and replay against the workflow code
 *   archive      export a run, restore one from an export
 *   branches     fork a run at any checkpoint (with edits), the forks of a workflow
 *   conversation follow-ups to a finished run (`ask`, the next turn), messages to a running one (`tell`)
 *   workers      the workers this process hosts, and whether any worker serves a queue
 */
import type { AgentTeamConfig } from '../config';
import type { TemporalTarget } from '../temporal/connection';
import { ArchiveClient } from './archive';
import { BranchesClient } from './branches';
import { CheckpointsClient } from './checkpoints';
import { ClientContext, type ClientOptions } from './context';
import { ConversationClient } from './conversation';
import { HistoryClient } from './history';
import { PeopleClient } from './people';
import { RunsClient } from './runs';
import { WorkersClient } from './workers';

export class AgentTeamClient {
  readonly workers: WorkersClient;
  readonly people: PeopleClient;
  readonly checkpoints: CheckpointsClient;
  readonly history: HistoryClient;
  readonly runs: RunsClient;
  readonly archive: ArchiveClient;
  readonly branches: BranchesClient;
  readonly conversation: ConversationClient;

  private constructor(readonly context: ClientContext) {
    this.workers = new WorkersClient(context);
    this.people = new PeopleClient(context, this.workers);
    this.checkpoints = new CheckpointsClient(context);
    this.history = new HistoryClient(context);
    this.runs = new RunsClient(context, this.workers, this.people, this.checkpoints, this.history);
    this.archive = new ArchiveClient(context, this.runs);
    this.branches = new BranchesClient(context, this.runs, this.checkpoints);
    this.conversation = new ConversationClient(context, this.workers, this.runs, this.checkpoints);
  }

  /** Resolves Temporal (starting the embedded server when needed, unless told not to) and connects. */
  static async open(config: AgentTeamConfig, options: ClientOptions = {}): Promise<AgentTeamClient> {
    return new AgentTeamClient(await ClientContext.open(config, options));
  }

  get config(): AgentTeamConfig {
    return this.context.config;
  }

  get target(): TemporalTarget {
    return this.context.target;
  }

  /** The Web UI page of a run, when the UI is known. */
  webUiUrl(workflowId: string, runId?: string): string | null {
    return this.context.webUiUrl(workflowId, runId);
  }

  /** Closes the connection, and stops an embedded server this process started in-process (memory storage). */
  close(): Promise<void> {
    return this.context.close();
  }
}

export { newWorkflowId, type ClientOptions, type RunDescription } from './context';
export type { AnswerInput, ExecuteOptions, HostingReason, Responder, RunEvent } from './events';
export { EventStream } from './events';
export type { AnswerReceipt, PendingRun, RespondOptions } from './people';
export type { ResumeOptions } from './runs';
export type { ForkInfo, ForkNode, ForkOptions, ForkOutcome, ForkTree } from './branches';
export type { ForkEdits } from '../branches/edits';
export type { AskOptions, AskOutcome, AskPlan, TellOptions, TellOutcome } from './conversation';
export type { TurnSummary } from '../conversation/turns';
export type { ResumeOutcome, RestoreOutcome, RunOutcome, RunError, StepSummary } from './outcome';
export { ownTaskQueue } from '../temporal/names';
export { CheckpointStore, type ListOptions, type RunCheckpoints } from '../checkpoints/store';
export type { Checkpoint, LoadedCheckpoint } from '../checkpoints/derive';
export type { ImportVerification, CheckedExport, ExportFile } from '../checkpoints/archive';
export type { AuditTrail } from '../history/audit';
export type { ReplayReport } from '../history/replay';
export type { RecordedStep } from '../history/reader';
export type { AgentTeamConfig } from '../config';
