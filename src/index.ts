/**
 * durable-agent-team: a team of LLM agents as a durable Temporal workflow, with checkpoints in the shape of the
 * OPT-02 spec (`listCheckpoints`, `loadCheckpoint`, `run(input, { checkpointId })`). This entry point is the
 * builder, what a run reports, checkpoint ids and the errors; the layers below have entry points of their own:
 *
 *   durable-agent-team/client     AgentTeamClient and its sub-clients (runs, people, checkpoints, history, …)
 *   durable-agent-team/worker     a worker, its activities and tools
 *   durable-agent-team/workflows  the workflow, its queries and Update, its input and result types
 *   durable-agent-team/testing    the offline model (an OpenAI-compatible server) and fault injection
 */
export {
  WorkflowBuilder,
  CheckpointedWorkflow,
  FileCheckpointStorage,
  InMemoryCheckpointStorage,
  ClusterCheckpointStorage,
  orchestrator,
  researcher,
  coder,
  analyst,
  type CheckpointStorage,
  type EmbeddedServerOptions,
  type RunHandle,
  type RunOptions,
  type TeamSettingsInput,
} from './library';
export type {
  AnswerInput,
  AnswerReceipt,
  ForkEdits,
  ForkOutcome,
  ForkTree,
  PendingRun,
  ResumeOutcome,
  RestoreOutcome,
  RunError,
  RunEvent,
  RunOutcome,
  StepSummary,
} from './client';
export {
  encodeCheckpointId,
  decodeCheckpointId,
  parseCheckpointId,
  shortCheckpointId,
  resetCommand,
  type CheckpointRef,
  type ShortCheckpointRef,
} from './checkpoints/ids';
export type { Checkpoint, LoadedCheckpoint, ResetOrigin, RestoreOrigin } from './checkpoints/derive';
export type { Comparison, ComparedStep, WordDiff } from './branches/compare';
export { checkExport, type CheckedExport, type ImportVerification } from './checkpoints/archive';
export { loadConfig, parseConfig, configSchema, type AgentTeamConfig } from './config';
export { RUN_STATUSES, type RunStatus } from './shared/constants';
export * from './shared/errors';
export type { AgentDefinition, ToolDefinition, ToolContext } from '../activities';
export type { AnswerRecord, TeamState } from '../workflows/model';
export type {
  TeamInput,
  TeamResult,
  StepResult,
  ProgressLedger,
  HumanAnswer,
  HumanRequest,
  Decision,
  RequestKind,
} from '../workflows/types';
