/**
 * `npm run cluster -- start|stop|status|restart <service>|kill <service>`: the multi-service Temporal cluster
 * on PostgreSQL of ./cluster.ts, for the cluster tests and for anyone without Docker (docs/cluster.md).
 */
import { Cluster, SERVICES, type Service } from './cluster';

const USAGE = `usage: npm run cluster -- <command>
  build              build (once) the Temporal server, its SQL tool and the Web UI server from their Go modules
  start              build what is missing, start PostgreSQL and the four Temporal services
  stop [--wipe]      stop what start started (--wipe: delete the data too)
  status [--json]    what runs, with pids and ports
  restart <service>  stop (SIGTERM) and start one service: ${SERVICES.join(', ')}
  kill <service>     SIGKILL one service (start brings it back)
environment: AGENT_TEAM_CLUSTER_DIR (data, logs, state), AGENT_TEAM_CLUSTER_PORT (frontend port, default 17233)`;

async function main(argv: string[]): Promise<number> {
  const [command, arg] = argv;
  const cluster = new Cluster();
  const service = (): Service => {
    if (!SERVICES.includes(arg as Service)) throw new UsageError(`name a service: ${SERVICES.join(', ')}`);
    return arg as Service;
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
      return Object.values(status.services).every((s) => s.running) && status.postgres.running ? 0 : 1;
    }
    case 'restart':
      await cluster.restartService(service());
      return 0;
    case 'kill':
      await cluster.stopService(service(), 'SIGKILL');
      return 0;
    case undefined:
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
