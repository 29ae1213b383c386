/**
 * config/workflow.yaml, validated with zod. Every key is optional (defaults below, the same as the shipped
 * file); unknown keys and wrong types are errors that name the field and what is accepted.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { DEFAULT_AGENTS, ORCHESTRATOR, type AgentDefinition } from '../activities/agents';
import { DEFAULT_SETTINGS, type TeamInput } from '../workflows/types';
import { InvalidTeamInput, resolveSettings } from '../workflows/state';
import { ConfigError, UsageError } from './errors';

const int = (min: number) => z.number().int().min(min);

const agentSchema = z.strictObject({
  model: z.string().min(1).default('gpt-4o-mini'),
  description: z.string().min(1).optional(),
  prompt: z.string().min(1).optional(),
});

const d = DEFAULT_SETTINGS;

export const configSchema = z.strictObject({
  workflow: z
    .strictObject({
      max_rounds: int(1).default(d.maxRounds),
      max_stalls: int(0).default(d.maxStalls),
      checkpointing: z
        .strictObject({
          enabled: z.boolean().default(true),
          storage_type: z
            .enum(['file', 'memory'], {
              error: (issue) =>
                `must be "file" or "memory", got ${JSON.stringify(issue.input)}` +
                (issue.input === 'redis'
                  ? ' (for shared, external storage point TEMPORAL_ADDRESS at a Temporal cluster: its database is the store)'
                  : ''),
            })
            .default('file'),
          storage_path: z.string().min(1).default('./checkpoints'),
          cleanup_after_days: int(1).default(30),
          auto_resume_on_failure: z.boolean().default(d.autoResume.enabled),
          auto_resume_max_attempts: int(0).default(d.autoResume.maxAttempts),
          auto_resume_delay_ms: int(1).default(d.autoResume.initialDelayMs),
        })
        .prefault({}),
    })
    .prefault({}),
  agents: z
    .record(z.string().regex(/^[a-z][a-z0-9_-]*$/, 'agent names are lower-case words (a-z, 0-9, _ or -)'), agentSchema)
    .optional(),
  llm: z
    .strictObject({
      timeout_ms: int(1).default(d.llm.timeoutMs),
      max_attempts: int(1).default(d.llm.maxAttempts),
      initial_retry_ms: int(1).default(d.llm.initialRetryMs),
      max_retry_ms: int(1).default(d.llm.maxRetryMs),
      backoff_coefficient: z.number().min(1).default(d.llm.backoffCoefficient),
      heartbeat_ms: int(100).default(d.llm.heartbeatMs),
      temperature: z.number().min(0).max(2).default(0),
    })
    .prefault({}),
  worker: z
    .strictObject({
      /** Agent steps one worker process runs at once (each is one LLM call). */
      max_concurrent_steps: int(1).default(100),
      /** LLM calls per second started across all workers of the task queue (the server enforces it); 0: no limit. */
      max_steps_per_second: z.number().min(0).default(0),
      /** On SIGTERM/SIGINT: how long in-flight steps may finish before they are handed back to other workers. */
      shutdown_grace_ms: int(0).default(30_000),
    })
    .prefault({}),
  temporal: z
    .strictObject({
      namespace: z.string().min(1).default('default'),
      task_queue: z.string().min(1).default('agent-team'),
      port: int(1).max(65535).default(7233),
      ui_port: int(1).max(65535).default(8233),
    })
    .prefault({}),
});

export type RawConfig = z.infer<typeof configSchema>;

/** The loaded configuration: the validated file plus where it came from and the resolved team. */
export interface AgentTeamConfig extends RawConfig {
  /** The file it was read from, or null for the built-in defaults. */
  source: string | null;
  /** Absolute path of checkpointing.storage_path. */
  storageDir: string;
  team: AgentDefinition[];
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

function resolveTeam(agents: RawConfig['agents']): AgentDefinition[] {
  if (!agents) return DEFAULT_AGENTS.map((a) => ({ ...a }));
  const defaults = new Map(DEFAULT_AGENTS.map((a) => [a.name, a]));
  const team = Object.entries(agents).map(([name, a]) => {
    const known = defaults.get(name);
    const description = a.description ?? known?.description;
    if (!description) throw new ConfigError(`agents.${name}: a description is required (the orchestrator reads it)`);
    return {
      name,
      model: a.model,
      description,
      prompt: a.prompt ?? known?.prompt ?? `You are the team's ${name}. ${description}`,
    };
  });
  if (!team.some((a) => a.name === ORCHESTRATOR)) {
    throw new ConfigError(`agents: the team needs an "${ORCHESTRATOR}" (it plans and picks the next speaker)`);
  }
  if (team.length < 2) throw new ConfigError('agents: the team needs at least one agent besides the orchestrator');
  return team;
}

/** Validates an already-parsed config object. */
export function parseConfig(raw: unknown, source: string | null = null, cwd = process.cwd()): AgentTeamConfig {
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error, source ?? 'the configuration'));
  const config = parsed.data;
  return {
    ...config,
    source,
    storageDir: resolve(cwd, config.workflow.checkpointing.storage_path),
    team: resolveTeam(config.agents),
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

/** The workflow input for a task under this configuration: every setting explicit, so history records it. */
export function teamInputFor(task: string, config: AgentTeamConfig): Required<Omit<TeamInput, 'restore'>> {
  const { llm, workflow } = config;
  const { checkpointing } = workflow;
  return {
    task,
    maxRounds: workflow.max_rounds,
    maxStalls: workflow.max_stalls,
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
      maxDelayMs: DEFAULT_SETTINGS.autoResume.maxDelayMs,
    },
  };
}
