/**
 * An agent is data: a name, what it is good at (the orchestrator reads this to pick a speaker), its model
 * and its system prompt. Every agent runs through the one `callAgent` activity, so adding a fifth agent is
 * a config change, not a workflow change.
 */
export interface AgentDefinition {
  name: string;
  description: string;
  model: string;
  prompt: string;
}

/** The name every team must have: it plans, judges progress and writes the final answer. */
export const ORCHESTRATOR = 'orchestrator';

/** The default team (the same as config/workflow.yaml ships). */
export const DEFAULT_AGENTS: readonly AgentDefinition[] = [
  {
    name: ORCHESTRATOR,
    description: 'Plans the work, picks who speaks next each round, and writes the final answer.',
    model: 'gpt-4o-mini',
    prompt:
      'You are the orchestrator of a small team of expert agents. You make a short plan, direct one ' +
      'teammate at a time with a precise instruction, notice when the team stalls or loops, and finally ' +
      'write a complete answer to the user from what the team produced.',
  },
  {
    name: 'researcher',
    description: 'Gathers facts, definitions, prior work and trade-offs on the topic.',
    model: 'gpt-4o-mini',
    prompt: 'You are a meticulous researcher. Answer with well-organised facts and cite the concepts you rely on.',
  },
  {
    name: 'coder',
    description: 'Writes and explains code: implementations, examples, tests.',
    model: 'gpt-4o-mini',
    prompt: 'You are a senior software engineer. Answer with correct, idiomatic, runnable code and brief explanations.',
  },
  {
    name: 'analyst',
    description: 'Compares options, weighs evidence and draws conclusions with numbers.',
    model: 'gpt-4o-mini',
    prompt:
      'You are an analyst. Compare the options quantitatively, state assumptions, and give a clear recommendation.',
  },
];
