/**
 * Where Temporal is. The standard Temporal client settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TLS, TEMPORAL_PROFILE and the CLI's config file) are read with @temporalio/envconfig,
 * exactly like the `temporal` CLI reads them. When they name no address, the embedded dev server is used
 * (and started when needed).
 */
import type { DataConverter } from '@temporalio/common';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import type { AgentTeamConfig } from '../config';
import { ConfigError, TemporalUnreachableError, errorMessage } from '../shared/errors';
import { tracingClientInterceptors } from './tracing';
import { ensureDevServer, type DevServer, type DevServerOptions } from './dev-server';
import { applyRetention } from './retention';

type ConnectionOptions = ReturnType<typeof loadClientConnectConfig>['connectionOptions'];

export interface TemporalTarget {
  mode: 'embedded' | 'external';
  address: string;
  namespace: string;
  connectionOptions: ConnectionOptions & { address: string };
  /** The Web UI, when known (the embedded server's). */
  uiUrl: string | null;
}

/** The Temporal CLI's client config file, where envconfig looks for it on this machine. */
function clientConfigFile(env: NodeJS.ProcessEnv): string {
  return (
    env.TEMPORAL_CONFIG_FILE ?? join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'temporalio', 'temporal.toml')
  );
}

/**
 * Loads the standard Temporal client settings. envconfig 1.24 throws a TypeError on a config file without
 * any [profile.*] table; such a file configures nothing (the `temporal` CLI accepts it), so it is read as
 * absent. Any other failure is a {@link ConfigError} naming the file.
 */
function loadConnectConfig(env: NodeJS.ProcessEnv = process.env): ReturnType<typeof loadClientConnectConfig> {
  try {
    return loadClientConnectConfig({});
  } catch (err) {
    const file = clientConfigFile(env);
    const text = existsSync(file) ? readFileSync(file, 'utf8') : null;
    if (err instanceof TypeError && text !== null && !/^\s*\[profile/m.test(text)) {
      return loadClientConnectConfig({ disableFile: true });
    }
    throw new ConfigError(`cannot read the Temporal client configuration ${file}: ${errorMessage(err)}`);
  }
}

/** Reads the Temporal settings; no network I/O. */
export function temporalSettings(config: AgentTeamConfig): {
  external: boolean;
  options: ConnectionOptions;
  namespace: string;
} {
  const { connectionOptions, namespace } = loadConnectConfig();
  return {
    external: Boolean(connectionOptions.address),
    options: connectionOptions,
    namespace: namespace ?? config.temporal.namespace,
  };
}

/** Where to find Temporal: as configured (the CLI), the embedded server, or a given cluster. */
export type TemporalChoice =
  | { kind: 'auto' }
  | {
      kind: 'embedded';
      /** Keep the server running after this process (file storage). @default true */
      detached?: boolean;
    }
  | {
      kind: 'cluster';
      /** Overrides of the standard settings (TEMPORAL_ADDRESS etc. and the profile still apply underneath). */
      address?: string;
      namespace?: string;
      apiKey?: string;
      tls?: ConnectionOptions['tls'];
    };

/** The embedded server this configuration describes (storage, folder, ports, namespace). */
export function embeddedServerOptions(
  config: AgentTeamConfig,
  namespace = config.temporal.namespace,
): Pick<DevServerOptions, 'storage' | 'dir' | 'port' | 'uiPort' | 'namespace'> {
  const { checkpointing } = config.workflow;
  return {
    storage: checkpointing.enabled ? checkpointing.storage_type : 'memory',
    dir: config.storageDir,
    port: config.temporal.port,
    uiPort: config.temporal.ui_port,
    namespace,
  };
}

/**
 * Resolves the target. `auto` (the default) uses a configured cluster, else the embedded server; the
 * embedded server is started when needed unless `start` is false. `server` is the embedded server this
 * call started and owns (non-detached), if any: stop it when done.
 */
export async function resolveTemporal(
  config: AgentTeamConfig,
  options: { start?: boolean; log?: (line: string) => void; choice?: TemporalChoice } = {},
): Promise<TemporalTarget & { server: DevServer | null }> {
  const choice = options.choice ?? { kind: 'auto' };
  const settings = choice.kind === 'embedded' ? null : temporalSettings(config);
  if (choice.kind === 'cluster' || (choice.kind === 'auto' && settings?.external)) {
    const explicit: Omit<Extract<TemporalChoice, { kind: 'cluster' }>, 'kind'> = choice.kind === 'cluster'
      ? choice
      : {};
    const address = explicit.address ?? settings?.options.address;
    if (!address) throw new ConfigError('no cluster address: pass one, or set TEMPORAL_ADDRESS (or a profile)');
    return {
      mode: 'external',
      address,
      namespace: explicit.namespace ?? settings?.namespace ?? config.temporal.namespace,
      connectionOptions: {
        ...settings?.options,
        address,
        ...(explicit.apiKey ? { apiKey: explicit.apiKey } : {}),
        ...(explicit.tls !== undefined ? { tls: explicit.tls } : {}),
      },
      uiUrl: null,
      server: null,
    };
  }
  const namespace = settings?.namespace ?? config.temporal.namespace;
  const address = `127.0.0.1:${config.temporal.port}`;
  let uiUrl: string | null = `http://127.0.0.1:${config.temporal.ui_port}`;
  let owned: DevServer | null = null;
  if (options.start !== false) {
    const detached = choice.kind === 'embedded' ? (choice.detached ?? true) : true;
    const server = await ensureDevServer({
      ...embeddedServerOptions(config, namespace),
      detached,
      ...(options.log ? { log: options.log } : {}),
    });
    uiUrl = server.uiUrl;
    if (!detached && !server.reused) owned = server;
  }
  return { mode: 'embedded', address, namespace, connectionOptions: { address }, uiUrl, server: owned };
}

/** How long to wait for a Temporal frontend before giving up with a clear message. */
function connectTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.AGENT_TEAM_CONNECT_TIMEOUT_MS);
  return Number.isInteger(value) && value > 0 ? value : 10_000;
}

function unreachable(target: TemporalTarget, err: unknown): TemporalUnreachableError {
  const cause = `cannot reach Temporal at ${target.address} (namespace ${target.namespace}): ${errorMessage(err)}`;
  if (target.mode === 'external') {
    return new TemporalUnreachableError(
      `${cause} — check TEMPORAL_ADDRESS / the profile (and TLS / API key settings), or unset them to use the ` +
        'embedded server',
      target.address,
    );
  }
  return new TemporalUnreachableError(cause, target.address, {
    next: [{ purpose: 'start the embedded server', args: ['server', 'start'] }],
  });
}

/** A client for the target; fails with a clear message after 10 s instead of hanging. */
export async function connectClient(target: TemporalTarget, dataConverter?: DataConverter): Promise<Client> {
  // (Outside the try: a bad trace setting is a configuration error, not an unreachable server.)
  const interceptors = await tracingClientInterceptors();
  try {
    const connection = await Connection.connect({ ...target.connectionOptions, connectTimeout: connectTimeoutMs() });
    return new Client({
      connection,
      namespace: target.namespace,
      ...(dataConverter ? { dataConverter } : {}),
      ...(interceptors ? { interceptors } : {}),
    });
  } catch (err) {
    throw unreachable(target, err);
  }
}

/** The worker's native connection to the target. */
export async function connectWorker(target: TemporalTarget): Promise<NativeConnection> {
  try {
    return await Promise.race([
      NativeConnection.connect(target.connectionOptions),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`no answer within ${connectTimeoutMs()} ms`)), connectTimeoutMs()).unref(),
      ),
    ]);
  } catch (err) {
    throw unreachable(target, err);
  }
}

/**
 * Starts the embedded server of this configuration (or finds it running) and applies `cleanup_after_days` as its
 * namespace's retention: `agent-team server start`. Refused ({@link ConfigError}) when a cluster is configured.
 */
export async function startEmbeddedServer(
  config: AgentTeamConfig,
  log: (line: string) => void = () => {},
): Promise<DevServer> {
  const settings = temporalSettings(config);
  if (settings.external) {
    throw new ConfigError(
      `a cluster is configured (${settings.options.address}): there is no embedded server to start`,
    );
  }
  const server = await ensureDevServer({ ...embeddedServerOptions(config, settings.namespace), log });
  const target: TemporalTarget = {
    mode: 'embedded',
    address: server.address,
    namespace: settings.namespace,
    connectionOptions: { address: server.address },
    uiUrl: server.uiUrl,
  };
  const client = await connectClient(target);
  try {
    await applyRetention(client, target.namespace, config.workflow.checkpointing.cleanup_after_days, 'embedded', log);
  } finally {
    await client.connection.close();
  }
  return server;
}
