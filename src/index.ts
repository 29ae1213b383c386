/**
 * durable-agent-team: a team of LLM agents as a durable Temporal workflow, with checkpoints in the shape of
 * the OPT-02 spec (`listCheckpoints`, `loadCheckpoint`, `run(input, { checkpointId })`). See README.md and
 * src/library.ts.
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
  type RunOptions,
  type TeamSettingsInput,
} from './library';
export {
  AgentTeamApp,
  newWorkflowId,
  type AnswerInput,
  type AnswerReceipt,
  type ExecuteOptions,
  type PendingRun,
  type ResumeOptions,
} from './client/app';
export type { RunOutcome, ResumeOutcome, RestoreOutcome, StepSummary, RunError } from './client/outcome';
export { CheckpointStore, type ListOptions, type RunCheckpoints } from './checkpoints/store';
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
export { loadConfig, parseConfig, configSchema, type AgentTeamConfig } from './config';
export { WORKFLOW_TYPE, RUN_STATUSES, type RunStatus } from './shared/constants';
export * from './shared/errors';
export { createAgentTeamWorker, workflowBundle } from './worker';
export { startOfflineLlm, type OfflineLlmServer, type OfflineLlmOptions } from './llm/offline-server';
export {
  BUILTIN_TOOLS,
  ToolError,
  createActivities,
  specOf,
  type AgentDefinition,
  type ToolContext,
  type ToolDefinition,
} from '../activities';
export { agentTeamWorkflow } from '../workflows';
export type { AnswerRecord, TeamState } from '../workflows/state';
export { answerUpdate, pendingQuery, type AnswerAck } from '../workflows/agent-team';
export {
  WAITING_ATTRIBUTE,
  type TeamInput,
  type TeamResult,
  type StepResult,
  type ProgressLedger,
  type TeamDefinition,
  type AgentSpec,
  type BudgetSettings,
  type Decision,
  type GateSettings,
  type HumanAnswer,
  type HumanRequest,
  type ModelPrice,
  type RequestKind,
} from '../workflows/types';
