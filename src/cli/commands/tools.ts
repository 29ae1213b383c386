/** `codec-server` and `llm-server`: the side servers, run on their own until Ctrl-C. */
import type { Command } from 'commander';
import { UsageError } from '../../shared/errors';
import {
  action,
  configOption,
  err,
  load,
  loadOfflineLlm,
  portOption,
  untilStopped,
  type CommonOptions,
} from '../common';

export function registerTools(program: Command): void {
  program
    .command('codec-server')
    .summary('decode encrypted payloads for the Web UI and CLI')
    .description(
      'Serve /encode and /decode for the Temporal Web UI and CLI, so they show encrypted payloads decoded ' +
        '(uses the key from AGENT_TEAM_ENCRYPTION_KEY or AGENT_TEAM_ENCRYPTION_KEY_FILE)',
    )
    .addOption(portOption(8888))
    .option('--host <host>', 'address to listen on (0.0.0.0 in a container)', '127.0.0.1')
    .option(
      '--ui-origin <url>',
      'the Web UI origin allowed by CORS (default: the embedded UI, http://127.0.0.1:<ui_port>)',
    )
    .option('--token <token>', 'require `Authorization: Bearer <token>` (default: $AGENT_TEAM_CODEC_TOKEN)')
    .addOption(configOption())
    .addHelpText(
      'after',
      '\nThen: temporal workflow show -w <id> --codec-endpoint http://127.0.0.1:8888\n' +
        '  and in the Web UI: Settings → Codec Server → http://127.0.0.1:8888',
    )
    .action(
      action(async (options: CommonOptions & { port: number; host: string; uiOrigin?: string; token?: string }) => {
        const config = load(options);
        const { encryptionKeysFromEnv } = await import('../../temporal/codec');
        const { startCodecServer } = await import('../../temporal/codec-server');
        const keys = encryptionKeysFromEnv();
        if (!keys)
          throw new UsageError('no key: set AGENT_TEAM_ENCRYPTION_KEY (or AGENT_TEAM_ENCRYPTION_KEY_FILE) first');
        const token = options.token ?? process.env.AGENT_TEAM_CODEC_TOKEN;
        const uiOrigin = options.uiOrigin ?? `http://127.0.0.1:${config.temporal.ui_port}`;
        const server = await startCodecServer({
          keys,
          port: options.port,
          host: options.host,
          uiOrigin,
          ...(token ? { token } : {}),
        });
        err(
          `Codec server on ${server.url} (key id "${keys.current}", CORS for ${uiOrigin}${token ? ', bearer token required' : ''}); Ctrl-C to stop`,
        );
        await untilStopped();
        await server.close();
      }),
    );

  program
    .command('llm-server')
    .summary('run the offline model on its own')
    .description('Run the offline OpenAI-compatible model server on its own (for workers in other processes)')
    .addOption(portOption(8787))
    .addHelpText(
      'after',
      '\nEnvironment: OFFLINE_LLM_LOG, OFFLINE_LLM_FAULTS, OFFLINE_LLM_LATENCY_MS,\n' +
        'OFFLINE_LLM_ANSWER_CHARS, … (docs/configuration.md).',
    )
    .action(
      action(async (options: { port: number }) => {
        const { offlineLlmOptionsFromEnv, startOfflineLlm } = await loadOfflineLlm();
        const server = await startOfflineLlm({ ...offlineLlmOptionsFromEnv(), port: options.port });
        err(`Offline model listening: OPENAI_BASE_URL=${server.baseURL} (Ctrl-C to stop)`);
        await untilStopped();
        await server.close();
      }),
    );
}
