/**
 * `durable-agent-team/workflows`: the workflow as Temporal sees it, for a worker of your own, a client of your own
 * or `temporal workflow start`: the workflow function and its type name, its queries and `answer` Update, and the
 * plain-JSON types of its input and result. Bundle `workflowsPath` (the module a worker registers).
 */
export {
  agentTeamWorkflow,
  answerUpdate,
  pendingQuery,
  stateQuery,
  transcriptQuery,
  type AnswerAck,
} from '../workflows/agent-team';
export { WORKFLOWS_PATH as workflowsPath } from './worker/bundle';
export {
  WAITING_ATTRIBUTE,
  WORKFLOW_TYPE,
  type AgentDefinition,
  type BudgetSettings,
  type Decision,
  type GateSettings,
  type HumanAnswer,
  type HumanRequest,
  type ModelPrice,
  type ProgressLedger,
  type RequestKind,
  type StepResult,
  type TeamDefinition,
  type TeamInput,
  type TeamResult,
} from '../workflows/types';
export type { AnswerRecord, TeamState } from '../workflows/model';
