/**
 * The embedded Temporal server: the official Temporal CLI's dev server (`temporal server start-dev`),
 * persisting to <storage dir>/temporal.db (SQLite) or in memory. Started in the background so that later
 * commands (list, resume) see the same history; a server already listening on the port is reused.
 */
import { WAITING_ATTRIBUTE } from '../../workflows/types';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { DevServerError } from '../shared/errors';
import { findTemporalCli } from './cli-binary';

export interface DevServerOptions {
  /** `file`: SQLite in `dir`; `memory`: nothing kept once the server stops. */
  storage: 'file' | 'memory';
  /** Holds temporal.db (file storage), the pid file and the server log. */
  dir: string;
  /** @default '127.0.0.1' */
  ip?: string;
  port: number;
  uiPort: number;
  namespace: string;
  /** Run without the Web UI (tests). @default false */
  headless?: boolean;
  /** The Web UI decodes payloads through this codec server (`agent-team codec-server`). */
  uiCodecEndpoint?: string;
  /** Keep running after this process exits (the CLI). @default true */
  detached?: boolean;
  /** How long to wait for the server to become healthy. @default 30000 */
  startTimeoutMs?: number;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  /** More `temporal server start-dev` flags, after the project's own (the bench's levers figure sets two). */
  extraArgs?: readonly string[];
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  namespace: string;
  /** The process id, when this project started it. */
  pid: number | null;
  /** True when a server was already listening and is being reused. */
  reused: boolean;
  /** Stops the server if this call started it (non-detached); a no-op otherwise. */
  stop(): Promise<void>;
}

/** What the pid file records about a background server. */
export interface DevServerRecord {
  pid: number;
  address: string;
  uiUrl: string | null;
  storage: 'file' | 'memory';
  dbPath: string | null;
  startedAt: string;
  /** The tuning it was started with ({@link DEV_SERVER_TUNING}); absent for servers started before it existed. */
  tuning?: string;
}

/**
 * Dynamic config the embedded server starts with. Temporal's history service loads new transfer and visibility
 * tasks at most `…MaxPollRPS` times a second per shard (default 20). The dev server has a single shard, so every
 * step of a run waited for the next 50 ms slot before its workflow task reached the worker: about 35 ms of each
 * step's overhead (docs/benchmarks.md, "Making it fast"). Loading only happens when tasks are written, so a
 * higher cap costs nothing when idle.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, number>> = {
  'history.transferProcessorMaxPollRPS': 1000,
  'history.visibilityProcessorMaxPollRPS': 1000,
  'history.timerProcessorMaxPollRPS': 1000,
  // Not here: `system.enableActivityEagerExecution`, which the Temporal CLI's dev server already turns on (the
  // worker that completes a workflow task gets the step it scheduled in the reply, one round trip less per step;
  // the cluster's config/temporal-dynamicconfig.yaml sets it). Measured in the bench's levers figure.
};

/**
 * SQLite pragmas for file storage. Write-ahead logging: a commit appends to temporal.db-wal instead of
 * rewriting pages through a rollback journal, still fsynced on every commit (`synchronous` stays FULL, so a
 * step Temporal acknowledged survives a power cut). In the profile, 34 → 26 ms per step
 * and 20 → 17 ms of server CPU per step on this machine.
 */
export const DEV_SERVER_SQLITE_PRAGMAS: readonly string[] = ['journal_mode=wal'];

/** `--dynamic-config-value` flags for {@link DEV_SERVER_DYNAMIC_CONFIG}. */
export const devServerDynamicConfigArgs = (): string[] =>
  Object.entries(DEV_SERVER_DYNAMIC_CONFIG).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${value}`]);

/** The server flags this version adds, as recorded in the pid file: a reused server with other flags is told about. */
export const DEV_SERVER_TUNING = [...devServerDynamicConfigArgs(), ...DEV_SERVER_SQLITE_PRAGMAS].join(' ');

export const pidFile = (dir: string): string => join(dir, 'temporal-server.pid');
export const logFile = (dir: string): string => join(dir, 'temporal-server.log');

/** True when something accepts TCP connections on host:port. */
export function portOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Listens on `port` of 127.0.0.1 (0: any) and closes again: the port it got, or null when it was taken. */
function tryPort(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const got = typeof address === 'object' && address ? address.port : null;
      server.close(() => resolve(got));
    });
  });
}

/**
 * A free TCP port on 127.0.0.1 for a server (tests and side servers), below Linux's ephemeral range (32768 and up).
 * A port in that range may be handed to any outgoing connection while its server is down, a client retrying to
 * reach that very server included (a TCP self-connect): the server then cannot listen there again when it comes
 * back. A test that restarted its Temporal server beside a CPU-heavy job failed on exactly this.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await tryPort(20_000 + Math.floor(Math.random() * 12_000));
    if (port !== null) return port;
  }
  const any = await tryPort(0);
  if (any === null) throw new Error('no free TCP port on 127.0.0.1');
  return any;
}

/** True when a Temporal frontend answers at `address` (GetSystemInfo). */
export async function temporalHealthy(address: string, timeoutMs = 2_000): Promise<boolean> {
  const [host, port] = splitAddress(address);
  if (!(await portOpen(host, port))) return false;
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    await connection.withDeadline(Date.now() + timeoutMs, () => connection!.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

/** Whether a process with this pid exists (signal 0). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function readRecord(dir: string): DevServerRecord | null {
  try {
    return JSON.parse(readFileSync(pidFile(dir), 'utf8')) as DevServerRecord;
  } catch {
    return null;
  }
}

function tail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Returns a healthy embedded server at ip:port, reusing one that already answers there or starting one.
 * Throws {@link DevServerError} when the port is taken by another program or the server does not come up.
 */
export async function ensureDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const address = `${ip}:${options.port}`;
  const uiUrl = options.headless ? null : `http://${ip}:${options.uiPort}`;
  const log = options.log ?? (() => {});
  const noop = async (): Promise<void> => {};

  if (await temporalHealthy(address)) {
    const record = readRecord(options.dir);
    const ours = record !== null && record.address === address && alive(record.pid);
    // A server this folder did not start: another folder's (refused, by name), or one started by hand (used).
    const serves = await storageOf(address, options.namespace);
    if (!ours && serves !== null && resolve(serves) !== resolve(options.dir)) {
      throw new DevServerError(
        `port ${options.port} on ${ip} is taken by the embedded server of ${serves}, but this storage folder is ` +
          `${resolve(options.dir)}: its runs would go into the other folder's history. Stop that server (in the ` +
          'project that started it), or give this folder another port (temporal.port in config/workflow.yaml; ' +
          '`new FileCheckpointStorage(dir, { port })` in TypeScript)',
        undefined,
        { next: [{ purpose: 'stop it, in the project that started it', args: ['server', 'stop'] }] },
      );
    }
    if (!ours && serves === null) {
      log(
        `note: using the Temporal server already at ${address}, which was not started from ${resolve(options.dir)}: ` +
          'runs are kept where that server keeps them',
      );
    }
    if (ours && serves === null) await markStorage(address, options.namespace, options.dir);
    if (record && record.address === address && alive(record.pid) && record.tuning !== DEV_SERVER_TUNING) {
      log(
        `The embedded server at ${address} (pid ${record.pid}) was started by an earlier version, without the ` +
          'settings that make each step faster (docs/benchmarks.md). Stop it when no run is in progress (the next ' +
          'command starts it again); ' +
          (record.dbPath
            ? `its history stays in ${record.dbPath}.`
            : 'it keeps history in memory only, so its runs are gone after the stop.'),
      );
    }
    return {
      address,
      uiUrl: record?.uiUrl ?? uiUrl,
      namespace: options.namespace,
      pid: record?.pid ?? null,
      reused: true,
      stop: noop,
    };
  }
  if (await portOpen(ip, options.port)) {
    throw new DevServerError(
      `port ${options.port} on ${ip} is in use by a program that is not a Temporal server: ` +
        'stop it, or set temporal.port in config/workflow.yaml (or TEMPORAL_ADDRESS to use another server)',
    );
  }
  if (uiUrl && (await portOpen(ip, options.uiPort))) {
    throw new DevServerError(
      `the Web UI port ${options.uiPort} on ${ip} is in use by another program: stop it, or set temporal.ui_port in config/workflow.yaml`,
    );
  }

  const cli = await findTemporalCli({ log });
  mkdirSync(options.dir, { recursive: true });
  const dbPath = options.storage === 'file' ? join(options.dir, 'temporal.db') : null;
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(options.port),
    '--namespace',
    options.namespace,
    '--log-level',
    'warn',
    // What a run waits on (a gate), so `pending` can be a visibility query (see workflows/types.ts).
    '--search-attribute',
    `${WAITING_ATTRIBUTE}=Keyword`,
    ...devServerDynamicConfigArgs(),
  ];
  if (dbPath) args.push('--db-filename', dbPath, ...DEV_SERVER_SQLITE_PRAGMAS.flatMap((p) => ['--sqlite-pragma', p]));
  if (uiUrl) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (uiUrl && options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  args.push(...(options.extraArgs ?? []));

  const detached = options.detached ?? true;
  const logPath = logFile(options.dir);
  const fd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cli.path, args, { detached, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const pid = child.pid ?? null;
  log(`Starting the embedded Temporal server (${options.storage}${dbPath ? `: ${dbPath}` : ''}) on ${address} …`);

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  while (!(await temporalHealthy(address, 1_000))) {
    if (exited !== undefined) {
      throw new DevServerError(
        `the Temporal server exited (code ${exited}) before it was ready; its log:\n${tail(logPath)}`,
        logPath,
      );
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new DevServerError(
        `the Temporal server did not become ready within ${options.startTimeoutMs ?? 30_000} ms; log: ${logPath}`,
        logPath,
      );
    }
    await new Promise((r) => setTimeout(r, 150));
  }

  // The folder this server keeps: what tells it from another folder's server on the same port.
  await markStorage(address, options.namespace, options.dir);
  if (detached) {
    child.unref();
    const record: DevServerRecord = {
      pid: pid ?? -1,
      address,
      uiUrl,
      storage: options.storage,
      dbPath,
      startedAt: new Date().toISOString(),
      tuning: DEV_SERVER_TUNING,
    };
    writeFileSync(pidFile(options.dir), JSON.stringify(record, null, 2) + '\n');
    return { address, uiUrl, namespace: options.namespace, pid, reused: false, stop: noop };
  }
  return {
    address,
    uiUrl,
    namespace: options.namespace,
    pid,
    reused: false,
    stop: async () => {
      if (exited !== undefined) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** The namespace data key under which an embedded server records the storage folder it keeps. */
export const STORAGE_KEY = 'agent-team.storage';

/**
 * The storage folder the Temporal server at `address` keeps (recorded by {@link ensureDevServer} in the namespace's
 * data, where `temporal operator namespace describe` shows it too); null when it records none (a server started
 * by hand, or by an earlier version) or cannot be asked.
 */
export async function storageOf(address: string, namespace: string): Promise<string | null> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 2_000 });
    const ns = await connection.workflowService.describeNamespace({ namespace });
    return ns.namespaceInfo?.data?.[STORAGE_KEY] ?? null;
  } catch {
    return null;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** Records `dir` as the folder the server keeps; best effort (without it, only the pid file tells). */
async function markStorage(address: string, namespace: string, dir: string): Promise<void> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 2_000 });
    await connection.workflowService.updateNamespace({
      namespace,
      updateInfo: { data: { [STORAGE_KEY]: resolve(dir) } },
    });
  } catch {
    // an older server, or a namespace not there yet: the pid file still tells this folder's server
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** Stops the background server recorded in `dir`. Returns false when none was running. */
export async function stopDevServer(dir: string): Promise<boolean> {
  const record = readRecord(dir);
  if (!record || !alive(record.pid)) {
    rmSync(pidFile(dir), { force: true });
    return false;
  }
  process.kill(record.pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (alive(record.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(record.pid)) process.kill(record.pid, 'SIGKILL');
  rmSync(pidFile(dir), { force: true });
  return true;
}

export interface DevServerStatus {
  running: boolean;
  healthy: boolean;
  record: DevServerRecord | null;
  /** The storage folder the server that answers keeps, as it records it (null: it records none). */
  serves: string | null;
}

/** The state of the background server recorded in `dir` (and whether anything healthy answers at `address`). */
export async function devServerStatus(dir: string, address: string, namespace = 'default'): Promise<DevServerStatus> {
  const record = existsSync(pidFile(dir)) ? readRecord(dir) : null;
  const at = record?.address ?? address;
  const healthy = await temporalHealthy(at);
  return {
    running: record !== null && alive(record.pid),
    healthy,
    record,
    serves: healthy ? await storageOf(at, namespace) : null,
  };
}
