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
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { cacheDir, PACKAGE_ROOT } from '../../src/shared/package';
import { findTemporalCli } from '../../src/temporal/cli-binary';
import { alive, portOpen } from '../../src/temporal/dev-server';

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

/** The version of the image docker-compose.yml pins for `service` (e.g. temporalio/server of `temporal`). */
function pinnedVersion(service: string, image: string): string {
  const compose = parse(readFileSync(join(PACKAGE_ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { image?: string }>;
  };
  const pinned = compose.services[service]?.image ?? '';
  const version = pinned.startsWith(`${image}:`) ? pinned.slice(image.length + 1) : '';
  if (!/^\d+\.\d+\.\d+$/.test(version))
    throw new Error(`docker-compose.yml: the ${service} service's image is "${pinned}", not ${image}:X.Y.Z`);
  return version;
}

/** The Temporal server version docker-compose.yml pins (the `temporalio/server` image of its `temporal` service). */
export const pinnedServerVersion = (): string => pinnedVersion('temporal', 'temporalio/server');
/** The Web UI version docker-compose.yml pins (`temporalio/ui` of `temporal-ui`). */
export const pinnedUiVersion = (): string => pinnedVersion('temporal-ui', 'temporalio/ui');

export class Cluster {
  readonly dir: string;
  readonly basePort: number;
  readonly version = pinnedServerVersion();
  readonly uiVersion = pinnedUiVersion();
  private readonly log: (line: string) => void;

  constructor(options: ClusterOptions = {}) {
    this.dir = options.dir ?? process.env.AGENT_TEAM_CLUSTER_DIR ?? join(cacheDir(), 'cluster');
    this.basePort = options.basePort ?? Number(process.env.AGENT_TEAM_CLUSTER_PORT ?? 17233);
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
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
  private get binDir(): string {
    return join(cacheDir(), `temporal-server-${this.version}`, 'bin');
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
    const server = join(this.binDir, 'server');
    const sqlTool = join(this.binDir, 'sql');
    if (existsSync(server) && existsSync(sqlTool)) return { server, sqlTool };
    if (spawnSync('go', ['version']).status !== 0) {
      throw new Error('the Go toolchain is needed to build the Temporal server (`go` is not on PATH): install Go');
    }
    const started = Date.now();
    this.log(
      `Building Temporal server ${this.version} and its SQL tool from the Go module (cached in ${this.binDir}) …`,
    );
    execFileSync(
      'go',
      [
        'install',
        `go.temporal.io/server/cmd/server@v${this.version}`,
        `go.temporal.io/server/cmd/tools/sql@v${this.version}`,
      ],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, GOTOOLCHAIN: 'auto', GOBIN: this.binDir, GOFLAGS: '-mod=mod' },
      },
    );
    this.log(`  built in ${Math.round((Date.now() - started) / 1000)} s`);
    return { server, sqlTool };
  }

  /** Builds (once) and returns the Web UI server (`go install github.com/temporalio/ui-server/v2/cmd/server`). */
  uiBinary(): string {
    const dir = join(cacheDir(), `temporal-ui-${this.uiVersion}`, 'bin');
    const binary = join(dir, 'server');
    if (existsSync(binary)) return binary;
    const started = Date.now();
    this.log(`Building the Temporal Web UI server ${this.uiVersion} from the Go module (cached in ${dir}) …`);
    execFileSync('go', ['install', `github.com/temporalio/ui-server/v2/cmd/server@v${this.uiVersion}`], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, GOTOOLCHAIN: 'auto', GOBIN: dir, GOFLAGS: '-mod=mod' },
    });
    this.log(`  built in ${Math.round((Date.now() - started) / 1000)} s`);
    return binary;
  }

  /** The server module's source folder (its PostgreSQL schema), from the Go module cache. */
  private moduleDir(): string {
    const out = execFileSync('go', ['mod', 'download', '-json', `go.temporal.io/server@v${this.version}`], {
      env: { ...process.env, GOTOOLCHAIN: 'auto', GOFLAGS: '-mod=mod' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return (JSON.parse(out) as { Dir: string }).Dir;
  }

  /** PostgreSQL's bin folder: `pg_config --bindir`, else the newest /usr/lib/postgresql/N/bin; installed (as root) when missing. */
  private postgresBin(): string {
    const found = (): string | undefined => {
      const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
      if (fromConfig.status === 0 && existsSync(join(fromConfig.stdout.trim(), 'initdb')))
        return fromConfig.stdout.trim();
      const root = '/usr/lib/postgresql';
      if (!existsSync(root)) return undefined;
      const versions = readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a));
      return versions[0] ? join(root, versions[0], 'bin') : undefined;
    };
    const dir = found();
    if (dir) return dir;
    if (process.getuid?.() === 0 && spawnSync('apt-get', ['--version']).status === 0) {
      this.log('Installing PostgreSQL (Debian package postgresql) …');
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
      execFileSync('apt-get', ['install', '-y', '-qq', 'postgresql'], {
        stdio: 'ignore',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
      const installed = found();
      if (installed) return installed;
    }
    throw new Error('PostgreSQL is not installed (no initdb): install the Debian package postgresql');
  }

  // ---------------------------------------------------------------------------------------------- PostgreSQL

  /** Runs a PostgreSQL program as the `postgres` user when this process is root (PostgreSQL refuses root). */
  private pg(program: string, args: string[]): string {
    const bin = join(this.postgresBin(), program);
    const asRoot = process.getuid?.() === 0;
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
    return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  private postgresRunning(): boolean {
    if (!existsSync(join(this.pgData, 'PG_VERSION'))) return false;
    try {
      this.pg('pg_ctl', ['-D', this.pgData, 'status']);
      return true;
    } catch {
      return false;
    }
  }

  startPostgres(): void {
    if (!existsSync(join(this.pgData, 'PG_VERSION'))) {
      mkdirSync(this.pgData, { recursive: true, mode: 0o700 });
      if (process.getuid?.() === 0) {
        const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
        const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
        chownSync(this.pgData, uid, gid);
        chownSync(join(this.pgData, '..'), uid, gid);
      }
      this.pg('initdb', ['-D', this.pgData, '-U', 'temporal', '--auth=trust', '--encoding=UTF8', '--no-sync']);
    }
    if (this.postgresRunning()) return;
    this.pg('pg_ctl', [
      '-D',
      this.pgData,
      '-l',
      join(this.pgData, 'postgres.log'),
      '-w',
      '-o',
      `-p ${this.postgresPort} -k ${this.pgData} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      'start',
    ]);
  }

  /** Stops PostgreSQL: `fast` (what a restart test uses) disconnects every client at once. */
  stopPostgres(mode: 'fast' | 'smart' = 'fast'): void {
    if (this.postgresRunning()) this.pg('pg_ctl', ['-D', this.pgData, '-m', mode, '-w', 'stop']);
  }

  private setupSchema(sqlTool: string): void {
    const schema = join(this.moduleDir(), 'schema', 'postgresql', 'v12');
    const tool = (db: string, ...args: string[]): void => {
      execFileSync(
        sqlTool,
        [
          '--plugin',
          'postgres12',
          '--ep',
          '127.0.0.1',
          '-p',
          String(this.postgresPort),
          '-u',
          'temporal',
          '--db',
          db,
          ...args,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
    };
    for (const [db, versioned] of [
      ['temporal', 'temporal'],
      ['temporal_visibility', 'visibility'],
    ] as const) {
      const exists = spawnSync(
        join(this.postgresBin(), 'psql'),
        ['-h', '127.0.0.1', '-p', String(this.postgresPort), '-U', 'temporal', '-d', db, '-c', 'select 1'],
        { stdio: 'ignore' },
      );
      if (exists.status !== 0) {
        tool(db, 'create');
        tool(db, 'setup-schema', '-v', '0.0');
      }
      tool(db, 'update-schema', '-d', join(schema, versioned, 'versioned'));
    }
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
    const coldBuild = !existsSync(join(this.binDir, 'server'));
    const { sqlTool } = this.binaries();
    this.startPostgres();
    this.setupSchema(sqlTool);
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
      postgres: { port: this.postgresPort, running: this.postgresRunning() },
      services,
      ui: { url: this.uiUrl, pid: ui, running: ui !== null && alive(ui) },
    };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
