/**
 * The environment variables this project reads, checked before anything starts: a bad value stops the
 * command with a message naming it (exit 2), instead of starting a run that then fails or hangs.
 */
import { shouldUseOffline } from '../llm/client';
import { offlineLlmOptionsFromEnv } from '../llm/offline-server';
import { ConfigError } from '../shared/errors';
import { encryptionKeysFromEnv } from '../temporal/codec';

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/**
 * Checks the variables a command will use: OPENAI_BASE_URL, OFFLINE_LLM_* (when the offline model will serve),
 * the encryption keys, AGENT_TEAM_LOG_FORMAT / _LOG_LEVEL / _CONNECT_TIMEOUT_MS. Throws {@link ConfigError}.
 */
export function checkEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  options: {
    /** The offline model will serve (`--offline`). */
    offline?: boolean;
    /** This process calls an LLM (it hosts a worker). @default true */
    llm?: boolean;
  } = {},
): void {
  if (env.OPENAI_BASE_URL) {
    let url: URL | undefined;
    try {
      url = new URL(env.OPENAI_BASE_URL);
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol)) {
      throw new ConfigError(
        `OPENAI_BASE_URL must be an http(s) URL such as https://api.openai.com/v1, got "${env.OPENAI_BASE_URL}"`,
      );
    }
  }
  if (options.llm !== false && (options.offline || shouldUseOffline(env))) offlineLlmOptionsFromEnv(env);
  encryptionKeysFromEnv(env);
  const format = env.AGENT_TEAM_LOG_FORMAT;
  if (format && format !== 'json' && format !== 'text') {
    throw new ConfigError(`AGENT_TEAM_LOG_FORMAT must be "json" or "text", got "${format}"`);
  }
  const level = env.AGENT_TEAM_LOG_LEVEL;
  if (level && !LOG_LEVELS.includes(level.toUpperCase())) {
    throw new ConfigError(`AGENT_TEAM_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  }
  const timeout = env.AGENT_TEAM_CONNECT_TIMEOUT_MS;
  if (timeout && !(Number.isInteger(Number(timeout)) && Number(timeout) > 0)) {
    throw new ConfigError(`AGENT_TEAM_CONNECT_TIMEOUT_MS must be a whole number of milliseconds > 0, got "${timeout}"`);
  }
}
