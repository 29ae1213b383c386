/**
 * The `openai` client the agents use: OpenAI itself or any compatible endpoint (OPENAI_API_KEY,
 * OPENAI_BASE_URL), or the offline model server when `--offline` is given or neither variable is set.
 */
import OpenAI from 'openai';
import { offlineLlmOptionsFromEnv, startOfflineLlm, type OfflineLlmServer } from './offline-llm/server';

export interface LlmConnection {
  openai: OpenAI;
  /** The offline server this process started, if any. */
  offline: OfflineLlmServer | null;
  /** Human-readable: where LLM calls go. */
  describe: string;
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
      describe: `the offline model at ${server.baseURL}${options.offline ? '' : ' (no OPENAI_API_KEY or OPENAI_BASE_URL set)'}`,
      close: () => server.close(),
    };
  }
  const openai = new OpenAI({
    apiKey: env.OPENAI_API_KEY ?? 'unused',
    ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}),
    maxRetries: 0,
  });
  return { openai, offline: null, describe: openai.baseURL, close: async () => {} };
}
