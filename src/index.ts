/**
 * durable-agent-team: a team of LLM agents as a durable Temporal workflow, with checkpoints in the shape of
 * the OPT-02 spec. See README.md and src/library.ts.
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
  WORKFLOW_TYPE,
  type RunOutcome,
  type ResumeOutcome,
  type StepSummary,
  type RunError,
} from './app';
export {
  CheckpointStore,
  InvalidCheckpointError,
  RunStillRunningError,
  encodeCheckpointId,
  decodeCheckpointId,
  resetCommand,
  type Checkpoint,
  type LoadedCheckpoint,
  type CheckpointRef,
  type ResetOrigin,
} from './checkpoints';
export { loadConfig, parseConfig, type AgentTeamConfig } from './config';
export { UsageError, ConfigError, DevServerError, TemporalCliNotFoundError, TemporalUnreachableError } from './errors';
export { createAgentTeamWorker, workflowBundle } from './worker';
export { startOfflineLlm, type OfflineLlmServer, type OfflineLlmOptions } from './offline-llm/server';
export { createActivities, type AgentDefinition } from '../activities';
export type { TeamState } from '../workflows/state';
export type { TeamInput, TeamResult, StepResult, ProgressLedger } from '../workflows/types';
