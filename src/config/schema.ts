/**
 * The configuration's schema, and so its defaults: this file is the one source of every default setting.
 * config/workflow.yaml lists the same values, the workflow's own fallbacks (DEFAULT_SETTINGS, for runs started
 * with a bare task) equal them, the library starts from them, and docs/configuration.md names them; unit
 * tests check each against this schema.
 */
import { z } from 'zod';
import { ORCHESTRATOR } from '../../workflows/input';

const int = (min: number) => z.number().int().min(min);

/** The model every agent uses unless it names another. */
export const DEFAULT_MODEL = 'gpt-4o-mini';

/** The default team: what `agents:` stands for when the file leaves it out. */
export const DEFAULT_TEAM = {
  [ORCHESTRATOR]: {
    model: DEFAULT_MODEL,
    description: 'Plans the work, picks who speaks next each round, and writes the final answer.',
    prompt:
      'You are the orchestrator of a small team of expert agents. You make a short plan, direct one ' +
      'teammate at a time with a precise instruction, notice when the team stalls or loops, and finally ' +
      'write a complete answer to the user from what the team produced.',
  },
  researcher: {
    model: DEFAULT_MODEL,
    description: 'Gathers facts, definitions, prior work and trade-offs on the topic.',
    prompt: 'You are a meticulous researcher. Answer with well-organised facts and cite the concepts you rely on.',
  },
  coder: {
    model: DEFAULT_MODEL,
    description: 'Writes and explains code: implementations, examples, tests.',
    prompt: 'You are a senior software engineer. Answer with correct, idiomatic, runnable code and brief explanations.',
  },
  analyst: {
    model: DEFAULT_MODEL,
    description: 'Compares options, weighs evidence and draws conclusions with numbers.',
    prompt:
      'You are an analyst. Compare the options quantitatively, state assumptions, and give a clear recommendation.',
  },
} as const;

/**
 * Prices in USD per million tokens: a snapshot of OpenAI's published list prices, shipped so that a budget in
 * USD works out of the box. Prices change: check yours and override them under `pricing:` (a run records the
 * prices it was started with).
 */
export const DEFAULT_PRICING = {
  'gpt-4o-mini': { input: 0.15, cached_input: 0.075, output: 0.6 },
  'gpt-4o': { input: 2.5, cached_input: 1.25, output: 10 },
  'gpt-4.1': { input: 2, cached_input: 0.5, output: 8 },
  'gpt-4.1-mini': { input: 0.4, cached_input: 0.1, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, cached_input: 0.025, output: 0.4 },
  o3: { input: 2, cached_input: 0.5, output: 8 },
  'o3-mini': { input: 1.1, cached_input: 0.55, output: 4.4 },
  'o4-mini': { input: 1.1, cached_input: 0.275, output: 4.4 },
} as const;

const priceSchema = z.strictObject({
  input: z.number().min(0),
  cached_input: z.number().min(0),
  output: z.number().min(0),
});

const agentSchema = z.strictObject({
  model: z.string().min(1).default(DEFAULT_MODEL),
  description: z.string().min(1).optional(),
  prompt: z.string().min(1).optional(),
  /** Tools it may call: built-in ones (read_file, list_files, write_file, run_code) or registered ones. */
  tools: z.array(z.string().min(1)).optional(),
});

export const configSchema = z.strictObject({
  workflow: z
    .strictObject({
      max_rounds: int(1).default(10),
      max_stalls: int(0).default(3),
      /** A run continues as new once its history has this many events (Temporal's limit is 51,200). */
      continue_as_new_after_events: int(50).max(50_000).default(10_000),
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
          auto_resume_on_failure: z.boolean().default(true),
          auto_resume_max_attempts: int(0).default(3),
          auto_resume_delay_ms: int(1).default(5_000),
          auto_resume_max_delay_ms: int(1).default(60_000),
        })
        .prefault({}),
    })
    .prefault({}),
  agents: z
    .record(z.string().regex(/^[a-z][a-z0-9_-]*$/, 'agent names are lower-case words (a-z, 0-9, _ or -)'), agentSchema)
    .default(DEFAULT_TEAM),
  llm: z
    .strictObject({
      timeout_ms: int(1).default(60_000),
      max_attempts: int(1).default(4),
      initial_retry_ms: int(1).default(1_000),
      max_retry_ms: int(1).default(30_000),
      backoff_coefficient: z.number().min(1).default(2),
      heartbeat_ms: int(100).default(10_000),
      temperature: z.number().min(0).max(2).default(0),
    })
    .prefault({}),
  gates: z
    .strictObject({
      plan_review: z.boolean().default(false),
      approve_final_answer: z.boolean().default(false),
      approve_steps: z.array(z.string().min(1)).default([]),
      timeout_ms: int(0).default(0),
      on_timeout: z.enum(['approve', 'reject']).default('reject'),
    })
    .prefault({}),
  budget: z
    .strictObject({
      max_usd: z.number().positive().nullable().default(null),
      max_tokens: int(1).nullable().default(null),
      on_exceed: z.enum(['pause', 'stop']).default('pause'),
    })
    .prefault({}),
  pricing: z.record(z.string().min(1), priceSchema).default({}),
  tools: z
    .strictObject({
      /** The directory the file tools work in (relative to the working directory); null: they refuse. */
      workspace: z.string().min(1).nullable().default(null),
      max_tool_calls_per_step: int(0).default(8),
      max_result_chars: int(100).default(20_000),
      timeout_ms: int(1).default(30_000),
      run_code_memory_mb: int(16).default(256),
      /** A tool's side-effect class, overriding its own (e.g. `run_code: destructive`). */
      side_effects: z.record(z.string().min(1), z.enum(['none', 'idempotent', 'destructive'])).default({}),
    })
    .prefault({}),
  /** MCP servers whose tools agents may use: `agents.<name>.tools: ["mcp:<server>"]`. */
  mcp_servers: z
    .record(
      z.string().regex(/^[a-zA-Z0-9_-]{1,32}$/, 'server names are 1-32 letters, digits, _ or -'),
      z
        .strictObject({
          command: z.string().min(1).optional(),
          args: z.array(z.string()).optional(),
          env: z.record(z.string(), z.string()).optional(),
          cwd: z.string().min(1).optional(),
          url: z.url().optional(),
        })
        .refine((s) => (s.command === undefined) !== (s.url === undefined), {
          message: 'give a command (stdio) or a url (streamable HTTP), one of them',
        }),
    )
    .default({}),
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
  /** Conversations (`agent-team ask`): how long after a turn answers a follow-up is still taken. */
  session: z
    .strictObject({
      /** `30m`, `12h`, `7d`…; null: a conversation never ends (it costs nothing while it waits). */
      idle_timeout: z
        .string()
        .regex(/^\d+(s|m|h|d)$/, 'a duration: a whole number with s, m, h or d (e.g. 12h, 7d)')
        .nullable()
        .default(null),
      /** A follow-up starts with a summary step when the earlier turns the agents would read pass this many characters. */
      summarize_after_chars: int(0).default(24_000),
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
/** What a config file may hold (every key optional). */
export type ConfigInput = z.input<typeof configSchema>;

/** The defaults: the schema applied to an empty file. */
export const configDefaults = (): RawConfig => configSchema.parse({});
