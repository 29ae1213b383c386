/**
 * The cluster's PostgreSQL, from Debian (`initdb` and `pg_ctl`; as the `postgres` user when run as root, since
 * PostgreSQL refuses root), on 127.0.0.1 only, with the Temporal and visibility schemas of a server version.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export class Postgres {
  constructor(
    /** The data folder. */
    readonly data: string,
    readonly port: number,
    private readonly log: (line: string) => void,
  ) {}

  /** PostgreSQL's bin folder: `pg_config --bindir`, else the newest /usr/lib/postgresql/N/bin; installed (as root) when missing. */
  private bin(): string {
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

  /** Runs a PostgreSQL program as the `postgres` user when this process is root. */
  private run(program: string, args: string[]): string {
    const bin = join(this.bin(), program);
    const asRoot = process.getuid?.() === 0;
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
    return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  running(): boolean {
    if (!existsSync(join(this.data, 'PG_VERSION'))) return false;
    try {
      this.run('pg_ctl', ['-D', this.data, 'status']);
      return true;
    } catch {
      return false;
    }
  }

  /** Creates the database cluster (once) and starts it, unless it runs. */
  start(): void {
    if (!existsSync(join(this.data, 'PG_VERSION'))) {
      mkdirSync(this.data, { recursive: true, mode: 0o700 });
      if (process.getuid?.() === 0) {
        const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
        const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
        chownSync(this.data, uid, gid);
        chownSync(join(this.data, '..'), uid, gid);
      }
      this.run('initdb', ['-D', this.data, '-U', 'temporal', '--auth=trust', '--encoding=UTF8', '--no-sync']);
    }
    if (this.running()) return;
    this.run('pg_ctl', [
      '-D',
      this.data,
      '-l',
      join(this.data, 'postgres.log'),
      '-w',
      '-o',
      `-p ${this.port} -k ${this.data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      'start',
    ]);
  }

  /** Stops PostgreSQL: `fast` (what a restart test uses) disconnects every client at once. */
  stop(mode: 'fast' | 'smart' = 'fast'): void {
    if (this.running()) this.run('pg_ctl', ['-D', this.data, '-m', mode, '-w', 'stop']);
  }

  /** Creates the `temporal` and `temporal_visibility` databases (once) and brings their schemas up to `schemaDir`'s. */
  setupSchema(sqlTool: string, schemaDir: string): void {
    const tool = (db: string, ...args: string[]): void => {
      execFileSync(
        sqlTool,
        ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(this.port), '-u', 'temporal', '--db', db, ...args],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
    };
    for (const [db, versioned] of [
      ['temporal', 'temporal'],
      ['temporal_visibility', 'visibility'],
    ] as const) {
      const exists = spawnSync(
        join(this.bin(), 'psql'),
        ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'temporal', '-d', db, '-c', 'select 1'],
        { stdio: 'ignore' },
      );
      if (exists.status !== 0) {
        tool(db, 'create');
        tool(db, 'setup-schema', '-v', '0.0');
      }
      tool(db, 'update-schema', '-d', join(schemaDir, versioned, 'versioned'));
    }
  }
}
