/**
 * A run's input, checked: the task and every setting, with the defaults filled in, or an {@link InvalidTeamInput}
 * naming the field that can never work. The workflow checks its input with it before its first step; the CLI and
 * the library check a task with it before they start anything.
 *
 * No I/O, no clock, no randomness: bundled into the workflow sandbox.
 */
import {
  DEFAULT_SETTINGS,
  MAX_TASK_CHARS,
  type BudgetSettings,
  type GateSettings,
  type McpServerSpec,
  type ModelPrice,
  type TeamDefinition,
  type TeamInput,
  type TeamSettings,
  type ToolSettings,
} from './types';

/** Raised for a workflow input that can never succeed; the workflow turns it into a non-retryable failure. */
export class InvalidTeamInput extends Error {
  override readonly name = 'InvalidTeamInput';
}

function positiveInt(value: unknown, field: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidTeamInput(`${field} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Checks a workflow input and fills in the defaults. Throws {@link InvalidTeamInput} naming the bad field. */
export function resolveSettings(input: TeamInput): { task: string; settings: TeamSettings } {
  if (input === null || typeof input !== 'object') {
    throw new InvalidTeamInput('input must be an object like {"task": "…"}');
  }
  const task = typeof input.task === 'string' ? input.task.trim() : '';
  if (!task) throw new InvalidTeamInput('task must be a non-empty string');
  if (task.length > MAX_TASK_CHARS) {
    throw new InvalidTeamInput(`task is ${task.length} characters; the limit is ${MAX_TASK_CHARS}`);
  }
  const d = DEFAULT_SETTINGS;
  const llm = { ...d.llm, ...(input.llm ?? {}) };
  const autoResume = { ...d.autoResume, ...(input.autoResume ?? {}) };
  const settings: TeamSettings = {
    maxRounds: positiveInt(input.maxRounds ?? d.maxRounds, 'maxRounds', 1),
    maxStalls: positiveInt(input.maxStalls ?? d.maxStalls, 'maxStalls', 0),
    llm: {
      timeoutMs: positiveInt(llm.timeoutMs, 'llm.timeoutMs', 1),
      maxAttempts: positiveInt(llm.maxAttempts, 'llm.maxAttempts', 1),
      initialRetryMs: positiveInt(llm.initialRetryMs, 'llm.initialRetryMs', 1),
      maxRetryMs: positiveInt(llm.maxRetryMs, 'llm.maxRetryMs', 1),
      backoffCoefficient: llm.backoffCoefficient >= 1 ? llm.backoffCoefficient : 1,
      heartbeatMs: positiveInt(llm.heartbeatMs, 'llm.heartbeatMs', 1),
    },
    autoResume: {
      enabled: autoResume.enabled !== false,
      maxAttempts: positiveInt(autoResume.maxAttempts, 'autoResume.maxAttempts', 0),
      initialDelayMs: positiveInt(autoResume.initialDelayMs, 'autoResume.initialDelayMs', 1),
      maxDelayMs: positiveInt(autoResume.maxDelayMs, 'autoResume.maxDelayMs', 1),
    },
    team: input.team === undefined ? null : checkTeam(input.team),
    gates: checkGates({ ...d.gates, ...(input.gates ?? {}) }),
    budget: checkBudget({ ...d.budget, ...(input.budget ?? {}) }),
    pricing: checkPricing(input.pricing ?? {}),
    tools: checkTools({ ...d.tools, ...(input.tools ?? {}) }),
    mcpServers: checkMcpServers(input.mcpServers ?? []),
  };
  if (settings.team) checkAgentTools(settings.team, settings.mcpServers);
  return { task, settings };
}

function checkMcpServers(servers: McpServerSpec[]): McpServerSpec[] {
  if (!Array.isArray(servers)) throw new InvalidTeamInput('mcpServers must be a list');
  const names = new Set<string>();
  servers.forEach((s, i) => {
    if (!s || typeof s.name !== 'string' || !/^[a-zA-Z0-9_-]{1,32}$/.test(s.name)) {
      throw new InvalidTeamInput(`mcpServers[${i}].name must be 1-32 letters, digits, _ or -`);
    }
    if ((typeof s.command === 'string') === (typeof s.url === 'string')) {
      throw new InvalidTeamInput(`mcpServers[${i}] (${s.name}) needs a command or a url (one of them)`);
    }
    if (names.has(s.name)) throw new InvalidTeamInput(`mcpServers: "${s.name}" appears twice`);
    names.add(s.name);
  });
  return servers;
}

/** Every tool an agent names is in the team's tools, or is `mcp:<server>` of a configured server. */
function checkAgentTools(team: TeamDefinition, servers: McpServerSpec[]): void {
  const tools = new Set((team.tools ?? []).map((t) => t.name));
  team.agents.forEach((a, i) => {
    for (const name of a.tools ?? []) {
      const server = name.startsWith('mcp:') ? name.slice(4) : null;
      if (server !== null ? !servers.some((x) => x.name === server) : !tools.has(name)) {
        throw new InvalidTeamInput(
          `team.agents[${i}].tools: ` +
            (server !== null
              ? `no MCP server named "${server}" in mcpServers`
              : `no tool named "${name}" in team.tools`),
        );
      }
    }
  });
}

function checkTools(t: ToolSettings): ToolSettings {
  if (t.workspace !== null && (typeof t.workspace !== 'string' || !t.workspace)) {
    throw new InvalidTeamInput('tools.workspace must be a directory path, or null');
  }
  positiveInt(t.maxToolCallsPerStep, 'tools.maxToolCallsPerStep', 0);
  positiveInt(t.maxResultChars, 'tools.maxResultChars', 100);
  positiveInt(t.timeoutMs, 'tools.timeoutMs', 1);
  positiveInt(t.runCodeMemoryMb, 'tools.runCodeMemoryMb', 16);
  return t;
}

function checkGates(g: GateSettings): GateSettings {
  for (const key of ['planReview', 'approveFinalAnswer'] as const) {
    if (typeof g[key] !== 'boolean') throw new InvalidTeamInput(`gates.${key} must be true or false`);
  }
  if (!Array.isArray(g.approveSteps) || g.approveSteps.some((a) => typeof a !== 'string')) {
    throw new InvalidTeamInput('gates.approveSteps must be a list of agent names');
  }
  positiveInt(g.timeoutMs, 'gates.timeoutMs', 0);
  if (g.onTimeout !== 'approve' && g.onTimeout !== 'reject') {
    throw new InvalidTeamInput(`gates.onTimeout must be "approve" or "reject", got ${JSON.stringify(g.onTimeout)}`);
  }
  return g;
}

function checkBudget(b: BudgetSettings): BudgetSettings {
  for (const key of ['maxUsd', 'maxTokens'] as const) {
    const v = b[key];
    if (v !== null && !(typeof v === 'number' && v > 0)) {
      throw new InvalidTeamInput(`budget.${key} must be a number > 0, or null for no limit`);
    }
  }
  if (b.onExceed !== 'pause' && b.onExceed !== 'stop') {
    throw new InvalidTeamInput(`budget.onExceed must be "pause" or "stop", got ${JSON.stringify(b.onExceed)}`);
  }
  return b;
}

function checkPricing(pricing: Record<string, ModelPrice>): Record<string, ModelPrice> {
  if (pricing === null || typeof pricing !== 'object') throw new InvalidTeamInput('pricing must be an object');
  for (const [model, price] of Object.entries(pricing)) {
    for (const key of ['input', 'cachedInput', 'output'] as const) {
      if (!price || typeof price[key] !== 'number' || price[key] < 0) {
        throw new InvalidTeamInput(`pricing.${model}.${key} must be a number ≥ 0 (USD per million tokens)`);
      }
    }
  }
  return pricing;
}

/** The orchestrator: every team has one; it plans, judges progress and writes the final answer. */
export const ORCHESTRATOR = 'orchestrator';

function checkTeam(team: TeamDefinition): TeamDefinition {
  if (team === null || typeof team !== 'object' || !Array.isArray(team.agents)) {
    throw new InvalidTeamInput('team must be an object like {"agents": [...], "temperature": 0}');
  }
  const names = new Set<string>();
  team.agents.forEach((a, i) => {
    for (const field of ['name', 'description', 'model', 'prompt'] as const) {
      if (!a || typeof a[field] !== 'string' || !a[field]) {
        throw new InvalidTeamInput(`team.agents[${i}].${field} must be a non-empty string`);
      }
    }
    if (names.has(a.name)) throw new InvalidTeamInput(`team.agents: "${a.name}" appears twice`);
    names.add(a.name);
  });
  const tools = new Set<string>();
  (team.tools ?? []).forEach((t, i) => {
    if (!t || typeof t.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(t.name)) {
      throw new InvalidTeamInput(`team.tools[${i}].name must be 1-64 letters, digits, _ or -`);
    }
    if (!['none', 'idempotent', 'destructive'].includes(t.sideEffects)) {
      throw new InvalidTeamInput(`team.tools[${i}].sideEffects must be none, idempotent or destructive`);
    }
    if (tools.has(t.name)) throw new InvalidTeamInput(`team.tools: "${t.name}" appears twice`);
    tools.add(t.name);
  });
  if (!names.has(ORCHESTRATOR)) throw new InvalidTeamInput(`team.agents: the team needs an "${ORCHESTRATOR}"`);
  if (names.size < 2) throw new InvalidTeamInput('team.agents: the team needs a member besides the orchestrator');
  if (typeof team.temperature !== 'number' || !(team.temperature >= 0 && team.temperature <= 2)) {
    throw new InvalidTeamInput(
      `team.temperature must be a number from 0 to 2, got ${JSON.stringify(team.temperature)}`,
    );
  }
  return team;
}
