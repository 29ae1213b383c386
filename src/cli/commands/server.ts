/** `server start|stop|status`: the embedded Temporal server (the Temporal CLI's dev server, in the background). */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { cliVersion, findTemporalCli } from '../../temporal/cli-binary';
import {
  action,
  configOption,
  err,
  out,
  json,
  jsonOption,
  load,
  loadConnection,
  loadDevServer,
  type CommonOptions,
} from '../common';

export function registerServer(program: Command): void {
  const server = program
    .command('server')
    .summary('start, stop or check the embedded Temporal server')
    .description('Manage the embedded Temporal server (the Temporal CLI dev server, in the background)');

  server
    .command('start')
    .summary('start the embedded server (or confirm it runs)')
    .description('Start the embedded server (or confirm it is running); it keeps running until `server stop`')
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(async (options: CommonOptions) => {
        const config = load(options);
        const { startEmbeddedServer } = await loadConnection();
        const s = await startEmbeddedServer(config, err);
        if (options.json)
          json({ address: s.address, uiUrl: s.uiUrl, pid: s.pid, reused: s.reused, storageDir: config.storageDir });
        else
          out(
            `${s.reused ? 'Already running' : 'Started'}: ${s.address}${s.uiUrl ? `, Web UI ${s.uiUrl}` : ''}${s.pid ? ` (pid ${s.pid})` : ''}`,
          );
      }),
    );

  server
    .command('stop')
    .summary('stop the embedded server')
    .description('Stop the embedded server started from this storage folder')
    .addOption(configOption())
    .action(
      action(async (options: CommonOptions) => {
        const config = load(options);
        const { stopDevServer } = await loadDevServer();
        out(
          (await stopDevServer(config.storageDir))
            ? 'Stopped.'
            : `No embedded server recorded in ${config.storageDir}.`,
        );
      }),
    );

  server
    .command('status')
    .summary('is the embedded server running and healthy?')
    .description('Show whether the embedded server is running and healthy (exit 1 when not)')
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(async (options: CommonOptions) => {
        const config = load(options);
        const { devServerStatus } = await loadDevServer();
        const status = await devServerStatus(
          config.storageDir,
          `127.0.0.1:${config.temporal.port}`,
          config.temporal.namespace,
        );
        let cli: string | null = null;
        try {
          const found = await findTemporalCli({ install: false });
          cli = `${cliVersion(found.path)} at ${found.path}`;
        } catch {
          cli = null;
        }
        if (options.json) json({ ...status, storageDir: config.storageDir, temporalCli: cli });
        else {
          const r = status.record;
          out(
            `${status.healthy ? '● healthy' : '○ not answering'} at ${r?.address ?? `127.0.0.1:${config.temporal.port}`}` +
              (r
                ? ` — pid ${r.pid} (${status.running ? 'running' : 'gone'}), ${r.storage}${r.dbPath ? ` ${r.dbPath}` : ''}, since ${r.startedAt}`
                : '') +
              (status.serves
                ? `\n  keeps the storage folder ${status.serves}` +
                  (resolve(status.serves) === resolve(config.storageDir) ? '' : ` (not this one: ${config.storageDir})`)
                : status.healthy
                  ? '\n  keeps no storage folder of agent-team (started by hand, or by an earlier version)'
                  : '') +
              (r?.uiUrl ? `\n  Web UI: ${r.uiUrl}` : '') +
              `\n  Temporal CLI: ${cli ?? 'not installed yet (installed on first use, or `npm run setup:temporal`)'}`,
          );
        }
        return status.healthy ? 0 : 1;
      }),
    );
}
