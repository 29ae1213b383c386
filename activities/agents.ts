/**
 * An agent is data: a name, what it is good at (the orchestrator reads this to pick a speaker), its model
 * and its system prompt. Every agent runs through the one `callAgent` activity, so adding a fifth agent is
 * a config change, not a workflow change. The default team is part of the configuration's defaults
 * (src/config/schema.ts).
 */
export type { AgentDefinition } from '../workflows/types';
export { ORCHESTRATOR } from '../workflows/input';
