/**
 * A real multi-service Temporal cluster on PostgreSQL, without Docker: PostgreSQL from Debian (`initdb` and
 * `pg_ctl`, as the `postgres` user when run as root) and the Temporal server built from its Go module
 * (`go install go.temporal.io/server/cmd/server@vX`, `.../cmd/tools/sql@vX`; `GOTOOLCHAIN=auto` fetches the Go
 * the module needs), each Temporal service (history, matching, frontend, worker) its own process, 4 history
 * shards, SQL (advanced) visibility on PostgreSQL, the `default` namespace with 30 days' retention and the
 * `AgentTeamWaiting` search attribute. The server version is the one docker-compose.yml pins, so the native
 * path and the compose file run the same server.
 *
 * Everything lives in one folder (default `<cache>/cluster`): the data, each process's log, the generated
 * config and `state.json` (the pids this module started: `stop` stops only those). Binaries are cached under
 * `<cache>/temporal-server-<version>/bin`.
 *
 *   npm run cluster -- start | stop | status | restart <service> | kill <service>
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, PACKAGE_ROOT } from '../../src/shared/package';
import { findTemporalCli } from '../../src/temporal/cli-binary';
import { alive, portOpen } from '../../src/temporal/dev-server';
import {
  pinnedServerVersion,
  pinnedUiVersion,
  postgresSchemaDir,
  serverBinaries,
  serverBinDir,
  uiBinary,
} from './binaries';
import { Postgres } from './postgres';

export { pinnedServerVersion, pinnedUiVersion } from './binaries';

export const SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
/** Besides the Temporal services: the Web UI server (temporalio/ui-server, built from its Go module). */
export type Process = Service | 'ui';
export type Service = (typeof SERVICES)[number];

export interface ClusterOptions {
  /** The folder of the cluster's data, logs and state (default `<cache>/cluster`, or AGENT_TEAM_CLUSTER_DIR). */
  dir?: string;
  /** Ports: frontend gRPC = base, HTTP = base+10, history/matching/worker = base+1/+2/+6, membership = base-300…; PostgreSQL = base-1801. */
  basePort?: number;
  log?: (line: string) => void;
}

interface State {
  version: string;
  basePort: number;
  pids: Partial<Record<Process, number>>;
  startedAt: string;
}

export class Cluster {
  readonly dir: string;
  readonly basePort: number;
  readonly version = pinnedServerVersion();
  readonly uiVersion = pinnedUiVersion();
  private readonly log: (line: string) => void;
  private readonly postgres: Postgres;

  constructor(options: ClusterOptions = {}) {
    this.dir = options.dir ?? process.env.AGENT_TEAM_CLUSTER_DIR ?? join(cacheDir(), 'cluster');
    this.basePort = options.basePort ?? Number(process.env.AGENT_TEAM_CLUSTER_PORT ?? 17233);
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.postgres = new Postgres(this.pgData, this.postgresPort, this.log);
  }

  get address(): string {
    return `127.0.0.1:${this.basePort}`;
  }
  /** The Web UI (ui-server), pointed at this cluster's frontend. */
  get uiUrl(): string {
    return `http://127.0.0.1:${this.basePort + 847}`; // 18080 for the default 17233
  }
  /** Where the Web UI asks to decode payloads: a codec server (`agent-team codec-server`) started there. */
  get codecEndpoint(): string {
    return process.env.AGENT_TEAM_CLUSTER_CODEC_ENDPOINT ?? `http://127.0.0.1:${this.basePort + 655}`; // 17888
  }
  get postgresPort(): number {
    return this.basePort - 1801; // 15432 for the default 17233
  }
  /** PostgreSQL's data: in the cluster's folder, except as root, where the `postgres` user running it cannot
   * reach a folder under /root: then under /var/tmp. */
  get pgData(): string {
    if (process.getuid?.() !== 0) return join(this.dir, 'pgdata');
    const key = createHash('sha256').update(this.dir).digest('hex').slice(0, 12);
    return `/var/tmp/agent-team-cluster-${key}/pgdata`;
  }
  private get statePath(): string {
    return join(this.dir, 'state.json');
  }
  private servicePorts(service: Service): { grpc: number; membership: number } {
    const offset = { frontend: 0, history: 1, matching: 2, worker: 6 }[service];
    return { grpc: this.basePort + offset, membership: this.basePort - 300 + offset };
  }

  // ---------------------------------------------------------------------------------------------- install

  /** Builds (once) and returns the paths of temporal-server and temporal-sql-tool. */
  binaries(): { server: string; sqlTool: string } {
    return serverBinaries(this.version, this.log);
  }

  /** Builds (once) and returns the Web UI server. */
  uiBinary(): string {
    return uiBinary(this.uiVersion, this.log);
  }

  // ---------------------------------------------------------------------------------------------- PostgreSQL

  startPostgres(): void {
    this.postgres.start();
  }

  /** Stops PostgreSQL: `fast` (what a restart test uses) disconnects every client at once. */
  stopPostgres(mode: 'fast' | 'smart' = 'fast'): void {
    this.postgres.stop(mode);
  }

  // ---------------------------------------------------------------------------------------------- Temporal

  private writeConfig(): string {
    const services = Object.fromEntries(
      SERVICES.map((s) => {
        const ports = this.servicePorts(s);
        return [
          s,
          {
            rpc: {
              grpcPort: ports.grpc,
              membershipPort: ports.membership,
              bindOnLocalHost: true,
              ...(s === 'frontend' ? { httpPort: this.basePort + 10 } : {}),
            },
          },
        ];
      }),
    );
    const datastore = (databaseName: string, maxConns: number): object => ({
      sql: {
        pluginName: 'postgres12',
        databaseName,
        connectAddr: `127.0.0.1:${this.postgresPort}`,
        connectProtocol: 'tcp',
        user: 'temporal',
        password: '',
        maxConns,
        maxIdleConns: maxConns,
        maxConnLifetime: '1h',
      },
    });
    const config = {
      log: { stdout: true, level: 'warn' },
      persistence: {
        defaultStore: 'default',
        visibilityStore: 'visibility',
        numHistoryShards: 4,
        datastores: { default: datastore('temporal', 20), visibility: datastore('temporal_visibility', 10) },
      },
      global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
      services,
      clusterMetadata: {
        enableGlobalNamespace: false,
        failoverVersionIncrement: 10,
        masterClusterName: 'active',
        currentClusterName: 'active',
        clusterInformation: {
          active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: this.address },
        },
      },
      dcRedirectionPolicy: { policy: 'noop' },
      // The same dynamic config docker-compose.yml mounts into its server.
      dynamicConfigClient: {
        filepath: join(PACKAGE_ROOT, 'config', 'temporal-dynamicconfig.yaml'),
        pollInterval: '10s',
      },
    };
    const path = join(this.dir, 'temporal.yaml');
    writeFileSync(path, JSON.stringify(config, null, 2)); // JSON is YAML
    return path;
  }

  private readState(): State | null {
    try {
      return JSON.parse(readFileSync(this.statePath, 'utf8')) as State;
    } catch {
      return null;
    }
  }

  private writeState(state: State): void {
    writeFileSync(this.statePath, JSON.stringify(state, null, 2));
  }

  /** Starts one Temporal service as its own process, logging to `<dir>/<service>.log`. */
  startService(service: Service): number {
    const { server } = this.binaries();
    const config = join(this.dir, 'temporal.yaml');
    const out = openSync(join(this.dir, `${service}.log`), 'a');
    const child = spawn(server, ['--config-file', config, '--allow-no-auth', 'start', '--service', service], {
      detached: true,
      stdio: ['ignore', out, out],
    });
    child.unref();
    this.recordPid(service, child.pid!);
    return child.pid!;
  }

  /** Starts the Web UI server on {@link uiUrl}, for this cluster's frontend, logging to `<dir>/ui.log`. */
  startUi(): number {
    const root = join(this.dir, 'ui');
    mkdirSync(join(root, 'config'), { recursive: true });
    const config = {
      temporalGrpcAddress: this.address,
      host: '127.0.0.1',
      port: Number(new URL(this.uiUrl).port),
      enableUi: true,
      defaultNamespace: 'default',
      disableNewsFetch: true,
      cors: { allowOrigins: [this.uiUrl] },
      codec: { endpoint: this.codecEndpoint },
    };
    writeFileSync(join(root, 'config', 'cluster.yaml'), JSON.stringify(config, null, 2));
    const out = openSync(join(this.dir, 'ui.log'), 'a');
    const child = spawn(this.uiBinary(), ['--root', root, '--env', 'cluster', 'start'], {
      detached: true,
      stdio: ['ignore', out, out],
    });
    child.unref();
    this.recordPid('ui', child.pid!);
    return child.pid!;
  }

  private recordPid(name: Process, pid: number): void {
    const state = this.readState() ?? {
      version: this.version,
      basePort: this.basePort,
      pids: {},
      startedAt: new Date().toISOString(),
    };
    state.pids[name] = pid;
    this.writeState(state);
  }

  /** Signals one service's process (SIGKILL: no shutdown at all) and waits until it is gone. */
  async stopService(service: Process, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const pid = this.readState()?.pids[service];
    if (!pid || !alive(pid)) return;
    process.kill(pid, signal);
    for (let i = 0; i < 300 && alive(pid); i++) await sleep(100);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
  }

  async restartService(service: Service, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stopService(service, signal);
    this.startService(service);
  }

  /** Waits until the frontend answers and the `default` namespace takes requests. */
  async waitReady(timeoutMs = 120_000): Promise<void> {
    const cli = (await findTemporalCli()).path;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = spawnSync(cli, ['workflow', 'list', '--address', this.address, '-n', 'default', '--limit', '1'], {
        encoding: 'utf8',
      });
      if (r.status === 0) return;
      if (Date.now() > deadline) throw new Error(`the cluster at ${this.address} is not ready: ${r.stderr.trim()}`);
      await sleep(500);
    }
  }

  /** Starts whatever is not running: PostgreSQL, the schema, the four services, the namespace. Idempotent. */
  async start(): Promise<{ coldBuild: boolean; ms: number }> {
    const started = Date.now();
    mkdirSync(this.dir, { recursive: true });
    const coldBuild = !existsSync(join(serverBinDir(this.version), 'server'));
    const { sqlTool } = this.binaries();
    this.startPostgres();
    this.postgres.setupSchema(sqlTool, postgresSchemaDir(this.version));
    this.writeConfig();
    const state = this.readState();
    const stopped = SERVICES.filter((service) => {
      const pid = state?.pids[service];
      return !(pid && alive(pid));
    });
    // On a fresh database the first service to start writes the cluster metadata: two at once race to insert it,
    // and the loser exits (a duplicate key). One first, until it listens; then the others.
    const [first, ...rest] = stopped;
    if (first) {
      this.startService(first);
      const port = this.servicePorts(first).grpc;
      const until = Date.now() + 60_000;
      while (!(await portOpen('127.0.0.1', port))) {
        if (Date.now() > until)
          throw new Error(`the ${first} service did not listen on :${port}: see ${this.dir}/${first}.log`);
        await sleep(200);
      }
    }
    for (const service of rest) this.startService(service);
    const ui = state?.pids.ui;
    if (!ui || !alive(ui)) this.startUi();
    const cli = (await findTemporalCli()).path;
    const deadline = Date.now() + 120_000;
    for (;;) {
      const health = spawnSync(cli, ['operator', 'cluster', 'health', '--address', this.address], { encoding: 'utf8' });
      if (health.status === 0 && health.stdout.includes('SERVING')) break;
      if (Date.now() > deadline)
        throw new Error(`the frontend at ${this.address} did not come up: see ${this.dir}/*.log`);
      await sleep(300);
    }
    const namespace = spawnSync(cli, ['operator', 'namespace', 'describe', '-n', 'default', '--address', this.address]);
    if (namespace.status !== 0) {
      execFileSync(
        cli,
        ['operator', 'namespace', 'create', '-n', 'default', '--retention', '720h', '--address', this.address],
        {
          stdio: 'ignore',
        },
      );
    }
    await this.waitReady();
    // Every service up, not just the frontend: one that exited at start would fail runs much later, and vaguely.
    const exited = SERVICES.filter((service) => {
      const pid = this.readState()?.pids[service];
      return !pid || !alive(pid);
    });
    if (exited.length > 0) {
      throw new Error(
        `the ${exited.join(', ')} service exited: see ${exited.map((x) => `${this.dir}/${x}.log`).join(', ')}`,
      );
    }
    const attrs = spawnSync(cli, ['operator', 'search-attribute', 'list', '-n', 'default', '--address', this.address], {
      encoding: 'utf8',
    });
    if (!attrs.stdout.includes('AgentTeamWaiting')) {
      execFileSync(
        cli,
        [
          'operator',
          'search-attribute',
          'create',
          '--name',
          'AgentTeamWaiting',
          '--type',
          'Keyword',
          '-n',
          'default',
          '--address',
          this.address,
        ],
        { stdio: 'ignore' },
      );
    }
    return { coldBuild, ms: Date.now() - started };
  }

  /** Stops the services this module started, then PostgreSQL. Keeps the data unless `wipe`. */
  async stop(options: { wipe?: boolean } = {}): Promise<void> {
    await this.stopService('ui');
    for (const service of [...SERVICES].reverse()) await this.stopService(service);
    this.stopPostgres('fast');
    rmSync(this.statePath, { force: true });
    if (options.wipe) {
      rmSync(process.getuid?.() === 0 ? join(this.pgData, '..') : this.pgData, { recursive: true, force: true });
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  status(): {
    address: string;
    postgres: { port: number; running: boolean };
    services: Record<Service, { pid: number | null; running: boolean; grpcPort: number }>;
    ui: { url: string; pid: number | null; running: boolean };
  } {
    const state = this.readState();
    const services = Object.fromEntries(
      SERVICES.map((s) => {
        const pid = state?.pids[s] ?? null;
        return [s, { pid, running: pid !== null && alive(pid), grpcPort: this.servicePorts(s).grpc }];
      }),
    ) as Record<Service, { pid: number | null; running: boolean; grpcPort: number }>;
    const ui = state?.pids.ui ?? null;
    return {
      address: this.address,
      postgres: { port: this.postgresPort, running: this.postgres.running() },
      services,
      ui: { url: this.uiUrl, pid: ui, running: ui !== null && alive(ui) },
    };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
