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
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { STEP_HEADERS } from '../../activities/agent-step';
import { ConfigError } from '../shared/errors';
import { FAULT_KINDS, parseFaults, seeded, type FaultKind, type FaultSpec } from './offline/faults';
import { logWriter, readOfflineLlmLog, type OfflineLlmLogEntry } from './offline/log';
import {
  answer,
  lastUserText,
  messagePattern,
  earlierTurnsOf,
  notePattern,
  taskOf,
  text,
  tokens,
  toolCallsFor,
  type ChatRequest,
} from './offline/script';

export { FAULT_KINDS, parseFaults, readOfflineLlmLog, type FaultKind, type FaultSpec, type OfflineLlmLogEntry };

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

export interface OfflineLlmServer {
  /** The base URL to give the `openai` client, e.g. http://127.0.0.1:41234/v1 */
  baseURL: string;
  port: number;
  /** Requests served so far, per agent. */
  calls(): Record<string, number>;
  close(): Promise<void>;
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

/** Starts the offline model server. */
export async function startOfflineLlm(options: OfflineLlmOptions = {}): Promise<OfflineLlmServer> {
  const counts: Record<string, number> = {};
  const faults = options.faults ?? [];
  const sockets = new Set<Socket>();
  const draw = seeded(options.seed ?? 1);
  const log = logWriter(options.logPath);
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  /** Answers with an injected fault (logged as such); false for a fault that changes the answer instead. */
  const injected = (
    res: ServerResponse,
    fault: FaultKind,
    entry: (status: number) => OfflineLlmLogEntry,
    what: string,
  ): boolean => {
    switch (fault) {
      case 'hang':
        log(entry(0)); // never answered: the client's timeout ends it
        return true;
      case 'fatal':
        log(entry(400));
        send(res, 400, { error: { message: `injected fatal fault on ${what}`, type: 'invalid_request_error' } });
        return true;
      case 'transient':
        log(entry(500));
        send(res, 500, { error: { message: `injected transient fault on ${what}`, type: 'server_error' } });
        return true;
      case 'ratelimit':
        log(entry(429));
        send(
          res,
          429,
          { error: { message: `injected rate limit on ${what}`, type: 'rate_limit_error' } },
          {
            'retry-after': '1',
          },
        );
        return true;
      default:
        return false; // stall, malformed: a wrong answer, not an error
    }
  };

  /**
   * Sends an answer: one JSON object, or (`stream`) Server-Sent Events, the text in pieces spread over the model's
   * latency, or the tool calls, then the usage.
   */
  const reply = async (
    res: ServerResponse,
    stream: boolean,
    meta: { id: string; model: string },
    message: { content: string | null; tool_calls?: unknown[] },
    usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number },
  ): Promise<void> => {
    const finish = message.tool_calls ? 'tool_calls' : 'stop';
    if (!stream) {
      send(res, 200, {
        id: meta.id,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: meta.model,
        choices: [{ index: 0, finish_reason: finish, message: { role: 'assistant', refusal: null, ...message } }],
        usage,
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const chunk = (delta: unknown, finishReason: string | null, extra: Record<string, unknown> = {}): void =>
      void res.write(
        `data: ${JSON.stringify({ id: meta.id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: meta.model, choices: delta === null ? [] : [{ index: 0, delta, finish_reason: finishReason }], ...extra })}\n\n`,
      );
    if (message.tool_calls) {
      const calls = message.tool_calls.map((c, index) => ({ index, ...(c as object) }));
      chunk({ role: 'assistant', content: null, tool_calls: calls }, finish);
    } else {
      const content = message.content ?? '';
      const pieces = 8;
      const size = Math.max(1, Math.ceil(content.length / pieces));
      for (let i = 0; i < content.length; i += size) {
        if (options.latencyMs) await sleep(options.latencyMs / pieces);
        const piece = content.slice(i, i + size);
        chunk(i === 0 ? { role: 'assistant', content: piece } : { content: piece }, null);
      }
      chunk({}, finish);
    }
    chunk(null, null, { usage });
    res.end('data: [DONE]\n\n');
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
    const promptTokens = tokens((body.messages ?? []).map((m) => text(m.content)).join('\n'));
    const entry = (status: number, completionTokens = 0): OfflineLlmLogEntry => ({
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
      promptTokens,
      completionTokens,
    });

    // A streamed answer spends its latency between its chunks (the text arrives as it is "written").
    const streamed = body.stream === true && (fault === null || fault === 'stall' || fault === 'malformed');
    // A client that gives up (a step cancelled, its request aborted) gets nothing: logged as 499, nothing billed.
    let abandoned = false;
    res.on('close', () => {
      if (!res.writableFinished) abandoned = true;
    });
    if (options.latencyMs && !streamed) await sleep(options.latencyMs);
    if (abandoned) {
      log(entry(499));
      return;
    }
    if (fault && injected(res, fault, entry, `${agent} call ${call}`)) return;

    const isMember = kind === 'agent' && body.response_format?.type !== 'json_schema';
    const calls = isMember ? toolCallsFor(body, agent, taskOf(body.messages ?? []), options.toolDelayMs ?? 0) : [];
    const offered = (body.tools ?? []).flatMap((t) => t.function?.name ?? []);
    const toolCalls = calls.map((c, i) => ({
      id: `call_${num(STEP_HEADERS.step) ?? call}_${i + 1}`,
      type: 'function' as const,
      function: { name: c.name, arguments: JSON.stringify(c.args) },
    }));
    const message = toolCalls.length
      ? { content: null, tool_calls: toolCalls }
      : { content: answer(body, agent, kind, fault, options.answerChars, options.turns) };
    const completionTokens = tokens(message.content ?? JSON.stringify(toolCalls));
    // A person's note (a fork's --note) as the orchestrator's ledger request carried it: the log shows it arrived.
    const note = kind === 'ledger' ? notePattern.exec(lastUserText(body.messages ?? []))?.[1] : undefined;
    // People's messages (`tell`) as a plan or ledger request carried them.
    const told =
      kind === 'ledger' || kind === 'plan'
        ? [...lastUserText(body.messages ?? []).matchAll(messagePattern)].map((m) => m[1]!)
        : [];
    // A follow-up's earlier turns (`ask`), as its request carried them.
    const earlier = earlierTurnsOf(body.messages ?? []);
    log({
      ...entry(200, completionTokens),
      ...(note ? { note } : {}),
      ...(told.length ? { told } : {}),
      ...(earlier.length ? { earlier } : {}),
      ...(offered.length || calls.length ? { toolsOffered: offered } : {}),
      ...(calls.length ? { toolCalls: calls.map((c) => c.name) } : {}),
    });
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    await reply(res, streamed, { id: `chatcmpl-offline-${agent}-${call}`, model }, message, usage);
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
