/** The workflow bundle's entry point: every workflow type the worker registers. */
export { agentTeamWorkflow, stateQuery, transcriptQuery } from './agent-team';
