/**
 * Where a team's checkpoints (Temporal history) live, as the library's `withCheckpointing` takes it: a folder (the
 * embedded Temporal dev server, SQLite in it), memory (a dev server this process owns), or a cluster.
 */
import { resolve as resolvePath } from 'node:path';
import { configDefaults, loadConfig, type RawConfig } from './config';
import type { TemporalChoice } from './temporal/connection';
import { alive, freePort, readRecord } from './temporal/dev-server';

/** Where checkpoints (Temporal history) live. */
export interface CheckpointStorage {
  /** @internal how AgentTeamApp reaches Temporal for this storage */
  resolve(): Promise<{ choice: TemporalChoice; config: Partial<RawConfig> }>;
}

export interface EmbeddedServerOptions {
  /**
   * gRPC port of the embedded server. @default for file storage: the port of the server this folder started (its
   * pid file records it), else the project's `temporal.port` (config/workflow.yaml or AGENT_TEAM_CONFIG, when it
   * keeps checkpoints in this same folder), else 7233; for memory storage: a free port
   */
  port?: number;
  /** Web UI port. @default as `port`, with `temporal.ui_port` and 8233 (file storage); a free port (memory storage) */
  uiPort?: number;
  /** @default the project's `temporal.namespace`, else 'default' */
  namespace?: string;
}

/**
 * History persisted in `<dir>/temporal.db` (SQLite) by the embedded Temporal dev server, which keeps running
 * in the background (like `agent-team run`), so the CLI and later processes see the same checkpoints. A folder and
 * its server belong together: a server that another folder started on the port is refused by name (give this one
 * another `port`), and the CLI in the same project reaches the same server.
 */
export class FileCheckpointStorage implements CheckpointStorage {
  constructor(
    readonly dir: string,
    readonly options: EmbeddedServerOptions = {},
  ) {}

  async resolve(): Promise<{ choice: TemporalChoice; config: Partial<RawConfig> }> {
    const defaults = configDefaults().temporal;
    const dir = resolvePath(this.dir);
    // The server this folder started, where it still runs.
    const record = readRecord(dir);
    const running = record && alive(record.pid) ? record : null;
    const portOf = (url: string | null | undefined): number | undefined => {
      const port = Number(/:(\d+)(?:\/|$)/.exec(url ?? '')?.[1]);
      return Number.isInteger(port) && port > 0 ? port : undefined;
    };
    // The project's settings, when its configuration keeps checkpoints in this folder too.
    const config = loadConfig();
    const project = resolvePath(config.storageDir) === dir ? config.temporal : null;
    return {
      choice: { kind: 'embedded', detached: true },
      config: {
        workflow: { checkpointing: { storage_type: 'file', storage_path: dir } } as RawConfig['workflow'],
        temporal: {
          port: this.options.port ?? portOf(running?.address) ?? project?.port ?? defaults.port,
          ui_port: this.options.uiPort ?? portOf(running?.uiUrl) ?? project?.ui_port ?? defaults.ui_port,
          namespace: this.options.namespace ?? project?.namespace ?? defaults.namespace,
        } as RawConfig['temporal'],
      },
    };
  }
}

/** History in memory, in an embedded Temporal dev server that this workflow object owns and stops on close(). */
export class InMemoryCheckpointStorage implements CheckpointStorage {
  constructor(readonly options: EmbeddedServerOptions & { dir?: string } = {}) {}

  async resolve(): Promise<{ choice: TemporalChoice; config: Partial<RawConfig> }> {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    return {
      choice: { kind: 'embedded', detached: false },
      config: {
        workflow: {
          checkpointing: {
            storage_type: 'memory',
            storage_path: this.options.dir ?? mkdtempSync(join(tmpdir(), 'agent-team-')),
          },
        } as RawConfig['workflow'],
        temporal: {
          port: this.options.port ?? (await freePort()),
          ui_port: this.options.uiPort ?? (await freePort()),
          namespace: this.options.namespace ?? configDefaults().temporal.namespace,
        } as RawConfig['temporal'],
      },
    };
  }
}

/**
 * History in an existing Temporal cluster (self-hosted on PostgreSQL/Cassandra, or Temporal Cloud).
 * Unset fields come from the standard settings: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
 * TLS variables, TEMPORAL_PROFILE and the Temporal CLI's config file.
 */
export class ClusterCheckpointStorage implements CheckpointStorage {
  constructor(readonly options: Omit<Extract<TemporalChoice, { kind: 'cluster' }>, 'kind'> = {}) {}

  async resolve(): Promise<{ choice: TemporalChoice; config: Partial<RawConfig> }> {
    return { choice: { kind: 'cluster', ...this.options }, config: {} };
  }
}
