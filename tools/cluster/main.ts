/**
 * `npm run cluster -- start|stop|status|restart <service>|kill <service>`: the multi-service Temporal cluster
 * on PostgreSQL of ./cluster.ts, for the cluster tests and for anyone without Docker (docs/cluster.md).
 */
import { Cluster, SERVICES, type Process } from './cluster';

const USAGE = `usage: npm run cluster -- <command>   (docs/cluster.md)
  build              build (once) the Temporal server, its SQL
                     tool and the Web UI server from Go modules
  start              build what is missing; start PostgreSQL,
                     the four Temporal services and the Web UI
  stop [--wipe]      stop what start started (--wipe: the data too)
  status [--json]    what runs, with pids and ports
  restart <service>  stop (SIGTERM) and start one service:
                     ${SERVICES.join(', ')}, ui
  kill <service>     SIGKILL one service (start brings it back)
  help               this text
environment: AGENT_TEAM_CLUSTER_DIR (data, logs, state),
  AGENT_TEAM_CLUSTER_PORT (frontend port, default 17233)`;

async function main(argv: string[]): Promise<number> {
  const [command, arg, ...rest] = argv;
  const cluster = new Cluster();
  const allowed: Record<string, string[]> = { stop: ['--wipe'], status: ['--json'] };
  if (command && command in allowed && arg !== undefined && !allowed[command]!.includes(arg))
    throw new UsageError(`${command}: unknown option "${arg}" (${allowed[command]!.join(', ')})`);
  if (rest.length > 0) throw new UsageError(`${command}: unexpected "${rest.join(' ')}"`);
  const service = (): Process => {
    if (arg === undefined) throw new UsageError(`${command}: name a service: ${SERVICES.join(', ')}, ui`);
    if (![...SERVICES, 'ui'].includes(arg))
      throw new UsageError(`${command}: "${arg}" is not a service: ${SERVICES.join(', ')}, ui`);
    return arg as Process;
  };
  switch (command) {
    case 'build': {
      const started = Date.now();
      const { server, sqlTool } = cluster.binaries();
      const ui = cluster.uiBinary();
      process.stderr.write(`✔ ${server}, ${sqlTool}, ${ui} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
      return 0;
    }
    case 'start': {
      const { coldBuild, ms } = await cluster.start();
      process.stderr.write(
        `✔ Temporal ${cluster.version} on PostgreSQL: ${SERVICES.join(', ')} up in ${(ms / 1000).toFixed(1)} s, ` +
          `Web UI ${cluster.uiUrl}` +
          `${coldBuild ? ' (server built now)' : ''}\n  TEMPORAL_ADDRESS=${cluster.address} npm start -- run "…"\n` +
          `  logs and data: ${cluster.dir}; stop with: npm run cluster -- stop\n`,
      );
      return 0;
    }
    case 'stop':
      await cluster.stop({ wipe: arg === '--wipe' });
      process.stderr.write('✔ stopped\n');
      return 0;
    case 'status': {
      const status = cluster.status();
      if (arg === '--json') process.stdout.write(JSON.stringify(status, null, 2) + '\n');
      else {
        process.stdout.write(
          `frontend ${status.address}; PostgreSQL :${status.postgres.port} ${status.postgres.running ? 'running' : 'stopped'}\n`,
        );
        for (const [name, s] of Object.entries(status.services))
          process.stdout.write(
            `  ${name.padEnd(9)} ${s.running ? `running (pid ${s.pid})` : 'stopped'}  :${s.grpcPort}\n`,
          );
        const ui = status.ui;
        process.stdout.write(`  web ui    ${ui.running ? `running (pid ${ui.pid})` : 'stopped'}  ${ui.url}\n`);
      }
      return Object.values(status.services).every((s) => s.running) && status.postgres.running && status.ui.running
        ? 0
        : 1;
    }
    case 'restart': {
      const name = service();
      if (name === 'ui') {
        await cluster.stopService('ui');
        cluster.startUi();
      } else await cluster.restartService(name);
      return 0;
    }
    case 'kill':
      await cluster.stopService(service(), 'SIGKILL');
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE + '\n');
      return command ? 0 : 2;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`cluster: ${e instanceof Error ? e.message : String(e)}\n`);
    if (e instanceof UsageError) process.stderr.write(USAGE + '\n');
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
