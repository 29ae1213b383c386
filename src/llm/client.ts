/**
 * The `openai` client the agents use: OpenAI itself or any compatible endpoint (OPENAI_API_KEY,
 * OPENAI_BASE_URL), or the offline model server when `--offline` is given or neither variable is set.
 */
import { connect } from 'node:net';
import OpenAI from 'openai';
import { LlmUnreachableError } from '../shared/errors';
import { offlineLlmOptionsFromEnv, startOfflineLlm, type OfflineLlmServer } from './offline-server';

export interface LlmConnection {
  openai: OpenAI;
  /** The offline server this process started, if any. */
  offline: OfflineLlmServer | null;
  /** Human-readable: where LLM calls go. */
  describe: string;
  /**
   * The endpoint answered before any step: the offline model this process started, or a real endpoint that passed
   * {@link probeEndpoint}. A refused connection later is then an outage (retried), not a misconfiguration.
   */
  checked: boolean;
  close(): Promise<void>;
}

/** True when no real endpoint is configured. */
export function shouldUseOffline(env: NodeJS.ProcessEnv = process.env): boolean {
  return !env.OPENAI_API_KEY && !env.OPENAI_BASE_URL;
}

export async function openLlm(options: { offline?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<LlmConnection> {
  const env = options.env ?? process.env;
  if (options.offline || shouldUseOffline(env)) {
    const server = await startOfflineLlm(offlineLlmOptionsFromEnv(env));
    return {
      // Temporal owns retries (maxRetries: 0): every attempt is an activity attempt, visible in history.
      openai: new OpenAI({ apiKey: 'offline', baseURL: server.baseURL, maxRetries: 0 }),
      offline: server,
      checked: true,
      describe: `the offline model at ${server.baseURL}${options.offline ? '' : ' (no OPENAI_API_KEY or OPENAI_BASE_URL set)'}`,
      close: () => server.close(),
    };
  }
  const openai = new OpenAI({
    apiKey: env.OPENAI_API_KEY ?? 'unused',
    ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}),
    maxRetries: 0,
  });
  await probeEndpoint(openai.baseURL);
  return { openai, offline: null, checked: true, describe: openai.baseURL, close: async () => {} };
}

/**
 * Checks, before any run starts, that something accepts connections at the endpoint: a refused connection or a
 * name that does not resolve is a configuration problem ({@link LlmUnreachableError}, exit 2), reported in
 * seconds rather than after every retry of a step. A slow answer is not judged here.
 */
export async function probeEndpoint(baseURL: string, timeoutMs = 3_000): Promise<void> {
  const url = new URL(baseURL);
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  const failure = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port });
    const done = (e: NodeJS.ErrnoException | null): void => {
      socket.destroy();
      resolve(e);
    };
    socket.setTimeout(timeoutMs, () => done(null));
    socket.once('connect', () => done(null));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e));
  });
  if (
    failure &&
    ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(failure.code ?? '')
  ) {
    const why =
      failure.code === 'ECONNREFUSED'
        ? `nothing accepts connections at ${url.hostname}:${port} (connection refused)`
        : `${url.hostname} cannot be reached (${failure.code})`;
    throw new LlmUnreachableError(baseURL, why, { cause: failure });
  }
}
