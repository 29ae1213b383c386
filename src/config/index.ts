/**
 * Loading config/workflow.yaml: YAML, validated with the zod schema (./schema.ts, the one source of defaults).
 * Every key is optional; unknown keys and wrong types are errors that name the field and what is accepted.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { InvalidTeamInput, ORCHESTRATOR, resolveSettings } from '../../workflows/input';
import { isPriced } from '../../workflows/pricing';
import type { AgentDefinition, ModelPrice, SideEffects, TeamInput, ToolSpec } from '../../workflows/types';
import { BUILTIN_TOOLS, specOf, type ToolDefinition } from '../../activities/tools';
import { ConfigError, UsageError } from '../shared/errors';
import { DEFAULT_PRICING, DEFAULT_TEAM, configSchema, type RawConfig } from './schema';

export {
  DEFAULT_MODEL,
  DEFAULT_PRICING,
  DEFAULT_TEAM,
  configDefaults,
  configSchema,
  type ConfigInput,
  type RawConfig,
} from './schema';

/** The loaded configuration: the validated file plus where it came from and the resolved team. */
export interface AgentTeamConfig extends RawConfig {
  /** The file it was read from, or null for the built-in defaults. */
  source: string | null;
  /** Absolute path of checkpointing.storage_path. */
  storageDir: string;
  team: AgentDefinition[];
  /** The price table: the shipped snapshot with `pricing:` over it (USD per million tokens). */
  prices: Record<string, ModelPrice>;
  /** The tools the team's agents name, as a run records them (side-effect overrides applied). */
  toolSpecs: ToolSpec[];
  /** Absolute path of tools.workspace, or null. */
  workspaceDir: string | null;
  /** Tools defined in TypeScript (the library's `addTool`): a worker this process hosts offers them. */
  toolDefinitions: readonly ToolDefinition<never>[];
}

/**
 * The specs of the tools the team names: built-in ones, and `extra` (registered in TypeScript, or an MCP
 * server's). A name nobody provides is a configuration error naming the agent and what exists.
 */
export function resolveToolSpecs(
  team: readonly AgentDefinition[],
  overrides: Record<string, SideEffects>,
  extra: readonly ToolSpec[] = [],
  source = 'the configuration',
  mcpServers: readonly string[] = [],
): ToolSpec[] {
  const available = new Map<string, ToolSpec>([
    ...BUILTIN_TOOLS.map((t) => [t.name, specOf(t, 'builtin')] as const),
    ...extra.map((t) => [t.name, t] as const),
  ]);
  const specs = new Map<string, ToolSpec>();
  for (const agent of team) {
    for (const name of agent.tools ?? []) {
      if (name.startsWith('mcp:')) {
        if (mcpServers.includes(name.slice(4))) continue; // its tools are read when a run starts
        throw new ConfigError(
          `invalid configuration in ${source}:\n  - agents.${agent.name}.tools: no MCP server named "${name.slice(4)}" under mcp_servers` +
            (mcpServers.length ? ` (there: ${mcpServers.join(', ')})` : ''),
        );
      }
      const spec = available.get(name);
      if (!spec) {
        throw new ConfigError(
          `invalid configuration in ${source}:\n  - agents.${agent.name}.tools: no tool named "${name}" ` +
            `(available: ${[...available.keys()].join(', ')})`,
        );
      }
      specs.set(name, overrides[name] ? { ...spec, sideEffects: overrides[name] } : spec);
    }
  }
  for (const name of Object.keys(overrides)) {
    if (!available.has(name)) {
      throw new ConfigError(
        `invalid configuration in ${source}:\n  - tools.side_effects: no tool named "${name}" (available: ${[...available.keys()].join(', ')})`,
      );
    }
  }
  return [...specs.values()];
}

function formatIssues(error: z.ZodError, source: string): string {
  const lines = error.issues.map((issue) => {
    const path = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') {
      const where = path ? `${path}: ` : '';
      return `${where}unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    }
    // A record key that fails its rule: report the rule, not zod's generic "Invalid key in record".
    const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    return `${path || '(top level)'}: ${message}`;
  });
  return `invalid configuration in ${source}:\n  - ${lines.join('\n  - ')}`;
}

/** The team from `agents:`: a known name takes the default team's description and prompt unless it sets its own. */
function resolveTeam(agents: RawConfig['agents']): AgentDefinition[] {
  const defaults: Record<string, { description: string; prompt: string } | undefined> = DEFAULT_TEAM;
  const team = Object.entries(agents).map(([name, a]) => {
    const known = defaults[name];
    const description = a.description ?? known?.description;
    if (!description) throw new ConfigError(`agents.${name}: a description is required (the orchestrator reads it)`);
    return {
      name,
      model: a.model,
      description,
      prompt: a.prompt ?? known?.prompt ?? `You are the team's ${name}. ${description}`,
      ...(a.tools?.length ? { tools: [...new Set(a.tools)] } : {}),
    };
  });
  if (!team.some((a) => a.name === ORCHESTRATOR)) {
    throw new ConfigError(`agents: the team needs an "${ORCHESTRATOR}" (it plans and picks the next speaker)`);
  }
  if (team.length < 2) throw new ConfigError('agents: the team needs at least one agent besides the orchestrator');
  return team;
}

/** The default team, resolved (what a run records when the configuration names no agents). */
export const defaultTeam = (): AgentDefinition[] => parseConfig({}).team;

/** Validates an already-parsed config object. */
export function parseConfig(
  raw: unknown,
  source: string | null = null,
  cwd = process.cwd(),
  toolDefinitions: readonly ToolDefinition<never>[] = [],
): AgentTeamConfig {
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error, source ?? 'the configuration'));
  const config = parsed.data;
  const team = resolveTeam(config.agents);
  const prices: Record<string, ModelPrice> = {};
  for (const [model, p] of Object.entries({ ...DEFAULT_PRICING, ...config.pricing })) {
    prices[model] = { input: p.input, cachedInput: p.cached_input, output: p.output };
  }
  const names = new Set(team.map((a) => a.name));
  const unknown = config.gates.approve_steps.filter((a) => !names.has(a));
  if (unknown.length) {
    throw new ConfigError(
      `invalid configuration in ${source ?? 'the configuration'}:\n  - gates.approve_steps: no agent named ${unknown.map((a) => `"${a}"`).join(', ')} in the team (${[...names].join(', ')})`,
    );
  }
  if (config.budget.max_usd !== null) {
    const unpriced = [...new Set(team.map((a) => a.model))].filter((m) => !isPriced(m, prices));
    if (unpriced.length) {
      throw new ConfigError(
        `invalid configuration in ${source ?? 'the configuration'}:\n  - budget.max_usd needs a price for every model: add ${unpriced.map((m) => `"${m}"`).join(', ')} under pricing: ` +
          '(USD per million tokens: input, cached_input, output)',
      );
    }
  }
  return {
    ...config,
    source,
    storageDir: resolve(cwd, config.workflow.checkpointing.storage_path),
    team,
    prices,
    toolSpecs: resolveToolSpecs(
      team,
      config.tools.side_effects,
      toolDefinitions.map((t) => specOf(t)),
      source ?? 'the configuration',
      Object.keys(config.mcp_servers),
    ),
    toolDefinitions,
    workspaceDir: config.tools.workspace === null ? null : resolve(cwd, config.tools.workspace),
  };
}

/**
 * Loads the configuration from `path`, else $AGENT_TEAM_CONFIG, else ./config/workflow.yaml when it exists,
 * else the built-in defaults. Throws {@link ConfigError} for a missing file, bad YAML or an invalid value.
 */
export function loadConfig(path?: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): AgentTeamConfig {
  const explicit = path ?? env.AGENT_TEAM_CONFIG;
  const file = explicit ? resolve(cwd, explicit) : resolve(cwd, 'config/workflow.yaml');
  if (!existsSync(file)) {
    if (explicit) throw new ConfigError(`config file not found: ${file}`);
    return parseConfig({}, null, cwd);
  }
  const doc = parseDocument(readFileSync(file, 'utf8'), { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(`${file} is not valid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
  }
  return parseConfig(doc.toJS(), file, cwd);
}

/** Checks a task before anything starts (same rules as the workflow); throws {@link UsageError} naming the problem. */
export function validateTask(task: string): string {
  try {
    return resolveSettings({ task }).task;
  } catch (err) {
    if (err instanceof InvalidTeamInput) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * The workflow input for a task under this configuration: every setting explicit, the team included, so
 * history records what the run is and any worker executes it the same way.
 */
export function teamInputFor(
  task: string,
  config: AgentTeamConfig,
): Required<Omit<TeamInput, 'restore' | 'waitingAttribute' | 'fork' | 'followUp'>> {
  const { llm, workflow } = config;
  const { checkpointing } = workflow;
  return {
    task,
    maxRounds: workflow.max_rounds,
    maxStalls: workflow.max_stalls,
    continueAsNewAfterEvents: workflow.continue_as_new_after_events,
    llm: {
      timeoutMs: llm.timeout_ms,
      maxAttempts: llm.max_attempts,
      initialRetryMs: llm.initial_retry_ms,
      maxRetryMs: llm.max_retry_ms,
      backoffCoefficient: llm.backoff_coefficient,
      heartbeatMs: llm.heartbeat_ms,
    },
    autoResume: {
      enabled: checkpointing.enabled && checkpointing.auto_resume_on_failure,
      maxAttempts: checkpointing.auto_resume_max_attempts,
      initialDelayMs: checkpointing.auto_resume_delay_ms,
      maxDelayMs: checkpointing.auto_resume_max_delay_ms,
    },
    team: {
      agents: config.team.map((a) => ({ ...a })),
      temperature: llm.temperature,
      ...(config.toolSpecs.length ? { tools: config.toolSpecs } : {}),
    },
    mcpServers: Object.entries(config.mcp_servers).map(([name, server]) => ({
      name,
      ...server,
      ...(server.cwd ? { cwd: resolve(server.cwd) } : {}),
    })),
    // Recorded with the conversation's first run, so every turn keeps it (agent-team ask checks it).
    session: { idleTimeout: config.session.idle_timeout },
    tools: {
      workspace: config.workspaceDir,
      maxToolCallsPerStep: config.tools.max_tool_calls_per_step,
      maxResultChars: config.tools.max_result_chars,
      timeoutMs: config.tools.timeout_ms,
      runCodeMemoryMb: config.tools.run_code_memory_mb,
    },
    gates: {
      planReview: config.gates.plan_review,
      approveFinalAnswer: config.gates.approve_final_answer,
      approveSteps: [...config.gates.approve_steps],
      timeoutMs: config.gates.timeout_ms,
      onTimeout: config.gates.on_timeout,
    },
    budget: {
      maxUsd: config.budget.max_usd,
      maxTokens: config.budget.max_tokens,
      onExceed: config.budget.on_exceed,
    },
    // The prices of the team's models (and of the dated versions an endpoint reports for them).
    pricing: Object.fromEntries(
      Object.entries(config.prices).filter(([m]) =>
        config.team.some((a) => a.model === m || a.model.replace(/-\d{4}-\d{2}-\d{2}$/, '') === m),
      ),
    ),
  };
}
