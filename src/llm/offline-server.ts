/**
 * The offline model: an OpenAI-compatible HTTP server (POST /v1/chat/completions, GET /v1/models) that the
 * real `openai` client talks to when no API key is configured, and in every test and benchmark.
 *
 * It answers deterministically: the orchestrator plans, then its progress ledgers call each team member
 * once in roster order (the roster is read from the `next_speaker` enum of the request's json_schema) and
 * declare the task done when all have spoken; members answer in their role. It reports token usage,
 * appends every request to a JSONL log, and injects faults on the n-th call to an agent:
 *
 *   fatal      HTTP 400 (non-retryable)          transient  HTTP 500
 *   ratelimit  HTTP 429 with Retry-After: 1      hang       no answer until the client gives up
 *   stall      a ledger that reports no progress (a loop)  malformed  a ledger that is not JSON
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { dirname } from 'node:path';
import { STEP_HEADERS } from '../../activities/agent-step';
import { ConfigError } from '../shared/errors';

export const FAULT_KINDS = ['fatal', 'transient', 'ratelimit', 'hang', 'stall', 'malformed'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  agent: string;
  /** 1-based: the n-th call to `agent` in this server process. */
  call: number;
  kind: FaultKind;
}

export interface OfflineLlmOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (any free port) */
  port?: number;
  /** Append every request to this JSONL file. */
  logPath?: string;
  faults?: FaultSpec[];
  /** Delay every answer by this much. @default 0 */
  latencyMs?: number;
  /** Pad members' answers to about this many characters (for size tests and benchmarks). */
  answerChars?: number;
  /** Member answers before the ledger says the task is done. @default one per member */
  turns?: number;
  /** Share of the other requests that fail with HTTP 500 (0–1), drawn from a generator seeded with `seed`. */
  faultRate?: number;
  /** @default 1 */
  seed?: number;
  /** The run_code snippets it writes wait this long first (to test a worker lost mid-call). @default 0 */
  toolDelayMs?: number;
}

/** A small seeded generator (mulberry32): the same seed gives the same sequence of draws. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface OfflineLlmServer {
  /** The base URL to give the `openai` client, e.g. http://127.0.0.1:41234/v1 */
  baseURL: string;
  port: number;
  /** Requests served so far, per agent. */
  calls(): Record<string, number>;
  close(): Promise<void>;
}

/** One line of the request log. */
export interface OfflineLlmLogEntry {
  time: string;
  agent: string;
  kind: string;
  workflowId: string;
  runId: string;
  round: number | null;
  step: number | null;
  attempt: number | null;
  call: number;
  model: string;
  status: number;
  fault: FaultKind | null;
  promptTokens: number;
  completionTokens: number;
  /** The tools the request offered (absent: none). */
  toolsOffered?: string[];
  /** The tools the answer asked to call (absent: it answered in text). */
  toolCalls?: string[];
}

/** Reads a request log written with `logPath` (empty when nothing was logged yet). */
export function readOfflineLlmLog(path: string): OfflineLlmLogEntry[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as OfflineLlmLogEntry);
}

/** Parses `agent:n:kind[,agent:n:kind…]`; throws a ConfigError naming the bad entry. */
export function parseFaults(spec: string | undefined): FaultSpec[] {
  if (!spec || !spec.trim()) return [];
  return spec.split(',').map((raw) => {
    const entry = raw.trim();
    const [agent, n, kind, ...rest] = entry.split(':');
    const call = Number(n);
    if (!agent || rest.length > 0 || !Number.isInteger(call) || call < 1 || !FAULT_KINDS.includes(kind as FaultKind)) {
      throw new ConfigError(
        `OFFLINE_LLM_FAULTS: "${entry}" is not <agent>:<n>:<kind> with n ≥ 1 and kind one of ${FAULT_KINDS.join(', ')}`,
      );
    }
    return { agent, call, kind: kind as FaultKind };
  });
}

/** Reads the OFFLINE_LLM_* variables (see the README's table). */
export function offlineLlmOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): OfflineLlmOptions {
  const number = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0)
      throw new ConfigError(`${name} must be a whole number ≥ 0, got "${raw}"`);
    return value;
  };
  const latencyMs = number('OFFLINE_LLM_LATENCY_MS');
  const answerChars = number('OFFLINE_LLM_ANSWER_CHARS');
  const turns = number('OFFLINE_LLM_TURNS');
  const seed = number('OFFLINE_LLM_SEED');
  const toolDelayMs = number('OFFLINE_LLM_TOOL_DELAY_MS');
  const rawRate = env.OFFLINE_LLM_FAULT_RATE;
  const faultRate = rawRate === undefined || rawRate === '' ? undefined : Number(rawRate);
  if (faultRate !== undefined && !(faultRate >= 0 && faultRate <= 1)) {
    throw new ConfigError(`OFFLINE_LLM_FAULT_RATE must be a number from 0 to 1, got "${rawRate}"`);
  }
  return {
    faults: parseFaults(env.OFFLINE_LLM_FAULTS),
    ...(env.OFFLINE_LLM_LOG ? { logPath: env.OFFLINE_LLM_LOG } : {}),
    ...(latencyMs !== undefined ? { latencyMs } : {}),
    ...(answerChars !== undefined ? { answerChars } : {}),
    ...(turns !== undefined ? { turns } : {}),
    ...(faultRate !== undefined ? { faultRate } : {}),
    ...(toolDelayMs !== undefined ? { toolDelayMs } : {}),
    ...(seed !== undefined ? { seed } : {}),
  };
}

interface ChatMessage {
  role: string;
  name?: string;
  content?: unknown;
  tool_calls?: { id: string; function: { name: string; arguments: string } }[];
}

interface OfferedTool {
  function?: { name?: string; parameters?: { properties?: Record<string, { type?: string }>; required?: string[] } };
}

interface ChatRequest {
  model?: string;
  messages?: ChatMessage[];
  tools?: OfferedTool[];
  stream?: boolean;
  response_format?: { type?: string; json_schema?: { schema?: Record<string, unknown> } };
}

const tokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));
const text = (content: unknown): string => (typeof content === 'string' ? content : JSON.stringify(content ?? ''));

function speakersOf(req: ChatRequest): string[] {
  const schema = req.response_format?.json_schema?.schema as
    { properties?: { next_speaker?: { properties?: { answer?: { enum?: unknown } } } } } | undefined;
  const list = schema?.properties?.next_speaker?.properties?.answer?.enum;
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
}

function taskOf(messages: ChatMessage[]): string {
  const first = messages.find((m) => m.role === 'user');
  return (
    text(first?.content)
      .replace(/^The task:\n/, '')
      .split('\n')[0]
      ?.slice(0, 120) ?? ''
  );
}

function pad(answer: string, chars: number | undefined): string {
  if (!chars || answer.length >= chars) return answer;
  const filler = ' Further detail: the trade-offs above hold across input sizes and implementations.';
  let out = answer;
  while (out.length < chars) out += filler;
  return out.slice(0, chars);
}

/** A tool call the offline model makes. */
interface OfflineToolCall {
  name: string;
  args: Record<string, unknown>;
}

/** The JavaScript the offline coder runs: a small sort with its own check, and the idempotency key it ran under. */
function snippet(delayMs: number): string {
  return (
    (delayMs ? `await new Promise((resolve) => setTimeout(resolve, ${delayMs}));\n` : '') +
    'const xs = [5, 3, 8, 1, 9, 2];\n' +
    'const sorted = [...xs].sort((a, b) => a - b);\n' +
    "console.log(`sorted ${xs.join(',')} -> ${sorted.join(',')}`);\n" +
    'console.log(`idempotency key: ${process.env.AGENT_TEAM_IDEMPOTENCY_KEY}`);\n'
  );
}

/**
 * The tool calls the offline model makes, deterministically, when a member's request offers tools: in its first
 * round trip, run_code (a snippet), list_files (the workspace), write_file (notes) and any other offered tool
 * (its required arguments filled in) at once; then read_file on the first two files (or symlinks) listed; then it
 * answers, quoting each tool result's start.
 */
function toolCallsFor(req: ChatRequest, agent: string, task: string, toolDelayMs: number): OfflineToolCall[] {
  const offered = new Map(
    (req.tools ?? []).flatMap((t) => (t.function?.name ? [[t.function.name, t.function] as const] : [])),
  );
  if (offered.size === 0) return [];
  const messages = req.messages ?? [];
  let lastUser = messages.length - 1;
  while (lastUser >= 0 && messages[lastUser]!.role !== 'user') lastUser--;
  const turn = messages.slice(lastUser + 1);
  const called = turn.flatMap((m) => (m.tool_calls ?? []).map((c) => c.function.name));
  if (called.length === 0) {
    const calls: OfflineToolCall[] = [];
    for (const [name, fn] of offered) {
      if (name === 'read_file') continue;
      if (name === 'run_code') calls.push({ name, args: { language: 'javascript', code: snippet(toolDelayMs) } });
      else if (name === 'list_files') calls.push({ name, args: { path: '.' } });
      else if (name === 'write_file')
        calls.push({ name, args: { path: `${agent}-notes.md`, content: `# Notes by ${agent}\n\nTask: ${task}\n` } });
      else {
        const args: Record<string, unknown> = {};
        for (const key of fn.parameters?.required ?? []) {
          const type = fn.parameters?.properties?.[key]?.type;
          args[key] = type === 'number' || type === 'integer' ? 1 : type === 'boolean' ? true : task;
        }
        calls.push({ name, args });
      }
    }
    return calls;
  }
  if (offered.has('read_file') && called.includes('list_files') && !called.includes('read_file')) {
    const listing = turn.find((m) => m.role === 'tool' && / {2}(\d+ bytes|\(symlink\))/.test(text(m.content)));
    const files = text(listing?.content)
      .split('\n')
      .flatMap((line) => /^(.+?) {2}(?:\d+ bytes|\(symlink\))$/.exec(line)?.[1] ?? [])
      .slice(0, 2);
    return files.map((path) => ({ name: 'read_file', args: { path } }));
  }
  return [];
}

/** What this turn's tools returned, in a line each, for the offline model's answer. */
function toolResults(messages: ChatMessage[]): string {
  const results = messages
    .filter((m) => m.role === 'tool')
    .map((m) => text(m.content).replace(/\s+/g, ' ').slice(0, 120));
  return results.length ? ` Tool results: ${results.map((r) => `[${r}]`).join(' ')}` : '';
}

/** The deterministic answer for one request. */
function answer(
  req: ChatRequest,
  agent: string,
  kind: string,
  fault: FaultKind | null,
  answerChars?: number,
  turns?: number,
): string {
  const messages = req.messages ?? [];
  const task = taskOf(messages);
  const spoken = messages.filter((m) => m.role === 'assistant' && m.name && m.name !== 'orchestrator');
  const isLedger = kind === 'ledger' || req.response_format?.type === 'json_schema';
  if (isLedger) {
    if (fault === 'malformed') return 'Sure! Here is the ledger: {is_request_satisfied: maybe';
    const speakers = speakersOf(req);
    const said = new Set(spoken.map((m) => m.name));
    // Each member once, in roster order; with `turns` above the roster's size, round-robin until that many.
    const pending =
      speakers.find((s) => !said.has(s)) ??
      (spoken.length < (turns ?? 0) ? speakers[spoken.length % speakers.length] : undefined);
    const last = spoken[spoken.length - 1]?.name ?? speakers[0] ?? 'researcher';
    const stalled = fault === 'stall';
    const next = stalled ? last : (pending ?? last);
    const done = !stalled && pending === undefined;
    return JSON.stringify({
      is_request_satisfied: {
        reason: done ? 'Every teammate has contributed and the answer is complete.' : 'Contributions are missing.',
        answer: done,
      },
      is_in_loop: { reason: stalled ? 'The same request is being repeated.' : 'No repetition.', answer: stalled },
      is_progress_being_made: {
        reason: stalled ? 'The last turn added nothing new.' : 'Each turn adds new material.',
        answer: !stalled,
      },
      next_speaker: { reason: `${next} covers the next part of the plan.`, answer: next },
      instruction_or_question: {
        reason: 'Keeps the plan moving.',
        answer: `As the ${next}, contribute your part on: ${task}`,
      },
    });
  }
  if (kind === 'plan') {
    const last = text(messages[messages.length - 1]?.content);
    const feedback = /A reviewer asked for changes to the plan: (.*)/.exec(last)?.[1];
    const replan = last.includes('stalled') || feedback !== undefined;
    return (
      `${replan ? 'Revised plan' : 'Plan'} for "${task}":\n` +
      (feedback ? `0. as the reviewer asked: ${feedback}\n` : '') +
      '1. researcher: gather the facts and trade-offs.\n2. coder: write reference implementations.\n' +
      '3. analyst: compare them with numbers.\n4. orchestrator: write the final answer.'
    );
  }
  if (kind === 'final') {
    const last = text(messages[messages.length - 1]?.content);
    const cut = last.includes('round limit')
      ? 'the round limit was reached'
      : last.includes('budget ran out')
        ? 'the budget ran out'
        : null;
    const feedback = /A reviewer asked for changes to your previous final answer: (.*)/.exec(last)?.[1];
    const who = [...new Set(spoken.map((m) => m.name))].join(', ') || 'nobody';
    return (
      `Final answer on "${task}"${cut ? ` (incomplete: ${cut})` : ''}${feedback ? ` (revised as asked: ${feedback})` : ''}: ` +
      `drawing on ${who}, the team's findings are summarised above. ` +
      spoken.map((m) => `[${m.name}] ${text(m.content).split('\n').slice(-1)[0]?.slice(0, 80)}`).join(' ')
    );
  }
  const roleLine: Record<string, string> = {
    researcher:
      'Key facts: both are comparison sorts; one is in-place with O(n log n) average time, the other stable with O(n log n) worst case and O(n) extra memory.',
    coder:
      'Reference code: function sort(xs) { return xs.length < 2 ? xs : merge(sort(left), sort(right)); } with tests for empty, sorted and reversed input.',
    analyst:
      'Analysis: on random data the in-place variant is usually faster by constant factors; the stable one wins on worst-case guarantees and linked data.',
  };
  return pad(
    `${agent} on "${task}": ${roleLine[agent] ?? 'My contribution addresses the instruction in full.'}` +
      toolResults(messages),
    answerChars,
  );
}

/** Starts the offline model server. */
export async function startOfflineLlm(options: OfflineLlmOptions = {}): Promise<OfflineLlmServer> {
  const counts: Record<string, number> = {};
  const faults = options.faults ?? [];
  const sockets = new Set<Socket>();
  const draw = seeded(options.seed ?? 1);
  if (options.logPath) mkdirSync(dirname(options.logPath), { recursive: true });

  const log = (entry: OfflineLlmLogEntry): void => {
    if (options.logPath) appendFileSync(options.logPath, JSON.stringify(entry) + '\n');
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method === 'GET' && req.url === '/v1/models') {
      send(res, 200, { object: 'list', data: [{ id: 'offline', object: 'model', owned_by: 'durable-agent-team' }] });
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      send(res, 404, { error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } });
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: ChatRequest;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequest;
    } catch {
      send(res, 400, { error: { message: 'request body is not JSON', type: 'invalid_request_error' } });
      return;
    }
    // Step headers are percent-encoded (any text travels as bytes): read them back as text.
    const header = (name: string): string => {
      const raw = req.headers[name];
      const value = Array.isArray(raw) ? (raw[0] ?? '') : (raw ?? '');
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    };
    const num = (name: string): number | null => (header(name) === '' ? null : Number(header(name)));
    const agent = header(STEP_HEADERS.agent) || 'unknown';
    const kind = header(STEP_HEADERS.kind) || (body.response_format?.type === 'json_schema' ? 'ledger' : 'agent');
    const call = (counts[agent] = (counts[agent] ?? 0) + 1);
    const fault =
      faults.find((f) => f.agent === agent && f.call === call)?.kind ??
      (options.faultRate && draw() < options.faultRate ? 'transient' : null);
    const model = body.model ?? 'offline';
    const promptText = (body.messages ?? []).map((m) => text(m.content)).join('\n');
    const entry = (status: number, completionTokens: number): OfflineLlmLogEntry => ({
      time: new Date().toISOString(),
      agent,
      kind,
      workflowId: header(STEP_HEADERS.workflowId),
      runId: header(STEP_HEADERS.runId),
      round: num(STEP_HEADERS.round),
      step: num(STEP_HEADERS.step),
      attempt: num(STEP_HEADERS.attempt),
      call,
      model,
      status,
      fault,
      promptTokens: tokens(promptText),
      completionTokens,
    });

    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    // A streamed answer spends its latency between its chunks (the text arrives as it is "written").
    const streamed = body.stream === true && (fault === null || fault === 'stall' || fault === 'malformed');
    if (options.latencyMs && !streamed) await sleep(options.latencyMs);
    /** Sends an answer as Server-Sent Events: the text in pieces, or the tool calls, then the usage. */
    const stream = async (
      message: { content: string | null; tool_calls?: unknown[] },
      usage: Record<string, number>,
    ): Promise<void> => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const chunk = (delta: unknown, finish: string | null, extra: Record<string, unknown> = {}): void =>
        void res.write(
          `data: ${JSON.stringify({ id: `chatcmpl-offline-${agent}-${call}`, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model, choices: delta === null ? [] : [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`,
        );
      if (message.tool_calls) {
        chunk(
          {
            role: 'assistant',
            content: null,
            tool_calls: message.tool_calls.map((c, index) => ({ index, ...(c as object) })),
          },
          'tool_calls',
        );
      } else {
        const text = message.content ?? '';
        const pieces = 8;
        const size = Math.max(1, Math.ceil(text.length / pieces));
        for (let i = 0; i < text.length; i += size) {
          if (options.latencyMs) await sleep(options.latencyMs / pieces);
          chunk(
            i === 0 ? { role: 'assistant', content: text.slice(i, i + size) } : { content: text.slice(i, i + size) },
            null,
          );
        }
        chunk({}, 'stop');
      }
      chunk(null, null, { usage });
      res.end('data: [DONE]\n\n');
    };
    switch (fault) {
      case 'hang':
        log(entry(0, 0)); // never answered: the client's timeout ends it
        return;
      case 'fatal':
        log(entry(400, 0));
        send(res, 400, {
          error: { message: `injected fatal fault on ${agent} call ${call}`, type: 'invalid_request_error' },
        });
        return;
      case 'transient':
        log(entry(500, 0));
        send(res, 500, {
          error: { message: `injected transient fault on ${agent} call ${call}`, type: 'server_error' },
        });
        return;
      case 'ratelimit':
        log(entry(429, 0));
        send(
          res,
          429,
          { error: { message: `injected rate limit on ${agent} call ${call}`, type: 'rate_limit_error' } },
          {
            'retry-after': '1',
          },
        );
        return;
      default: {
        const isMember = kind === 'agent' && body.response_format?.type !== 'json_schema';
        const calls = isMember ? toolCallsFor(body, agent, taskOf(body.messages ?? []), options.toolDelayMs ?? 0) : [];
        const offered = (body.tools ?? []).flatMap((t) => t.function?.name ?? []);
        if (calls.length > 0) {
          const toolCalls = calls.map((c, i) => ({
            id: `call_${num(STEP_HEADERS.step) ?? call}_${i + 1}`,
            type: 'function' as const,
            function: { name: c.name, arguments: JSON.stringify(c.args) },
          }));
          const completionTokens = tokens(JSON.stringify(toolCalls));
          log({ ...entry(200, completionTokens), toolsOffered: offered, toolCalls: calls.map((c) => c.name) });
          const usage = {
            prompt_tokens: tokens(promptText),
            completion_tokens: completionTokens,
            total_tokens: tokens(promptText) + completionTokens,
          };
          if (streamed) return stream({ content: null, tool_calls: toolCalls }, usage);
          send(res, 200, {
            id: `chatcmpl-offline-${agent}-${call}`,
            object: 'chat.completion',
            created: Math.floor(Date.now() / 1000),
            model,
            choices: [
              {
                index: 0,
                finish_reason: 'tool_calls',
                message: { role: 'assistant', content: null, refusal: null, tool_calls: toolCalls },
              },
            ],
            usage: {
              prompt_tokens: tokens(promptText),
              completion_tokens: completionTokens,
              total_tokens: tokens(promptText) + completionTokens,
            },
          });
          return;
        }
        const content = answer(body, agent, kind, fault, options.answerChars, options.turns);
        const completionTokens = tokens(content);
        log({ ...entry(200, completionTokens), ...(offered.length ? { toolsOffered: offered } : {}) });
        if (streamed) {
          return stream(
            { content },
            {
              prompt_tokens: tokens(promptText),
              completion_tokens: completionTokens,
              total_tokens: tokens(promptText) + completionTokens,
            },
          );
        }
        send(res, 200, {
          id: `chatcmpl-offline-${agent}-${call}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model,
          choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content, refusal: null } }],
          usage: {
            prompt_tokens: tokens(promptText),
            completion_tokens: completionTokens,
            total_tokens: tokens(promptText) + completionTokens,
          },
        });
      }
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { error: { message: String(err), type: 'server_error' } });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://${options.host ?? '127.0.0.1'}:${port}/v1`,
    port,
    calls: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
