/**
 * The cluster's binaries: the Temporal server, its SQL tool and the Web UI server, built once from their Go
 * modules (`GOTOOLCHAIN=auto` fetches the Go a module needs) at the versions docker-compose.yml pins, and
 * cached under `<cache>/temporal-server-<version>/bin` and `<cache>/temporal-ui-<version>/bin`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { cacheDir, PACKAGE_ROOT } from '../../src/shared/package';

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

/** Where the server binaries of `version` are cached. */
export const serverBinDir = (version: string): string => join(cacheDir(), `temporal-server-${version}`, 'bin');

const goEnv = (bin?: string): NodeJS.ProcessEnv => ({
  ...process.env,
  GOTOOLCHAIN: 'auto',
  GOFLAGS: '-mod=mod',
  ...(bin ? { GOBIN: bin } : {}),
});

/** Builds (once) and returns the paths of temporal-server and temporal-sql-tool. */
export function serverBinaries(version: string, log: (line: string) => void): { server: string; sqlTool: string } {
  const dir = serverBinDir(version);
  const server = join(dir, 'server');
  const sqlTool = join(dir, 'sql');
  if (existsSync(server) && existsSync(sqlTool)) return { server, sqlTool };
  if (spawnSync('go', ['version']).status !== 0) {
    throw new Error('the Go toolchain is needed to build the Temporal server (`go` is not on PATH): install Go');
  }
  const started = Date.now();
  log(`Building Temporal server ${version} and its SQL tool from the Go module (cached in ${dir}) …`);
  execFileSync(
    'go',
    ['install', `go.temporal.io/server/cmd/server@v${version}`, `go.temporal.io/server/cmd/tools/sql@v${version}`],
    { stdio: ['ignore', 'inherit', 'inherit'], env: goEnv(dir) },
  );
  log(`  built in ${Math.round((Date.now() - started) / 1000)} s`);
  return { server, sqlTool };
}

/** Builds (once) and returns the Web UI server (`go install github.com/temporalio/ui-server/v2/cmd/server`). */
export function uiBinary(version: string, log: (line: string) => void): string {
  const dir = join(cacheDir(), `temporal-ui-${version}`, 'bin');
  const binary = join(dir, 'server');
  if (existsSync(binary)) return binary;
  const started = Date.now();
  log(`Building the Temporal Web UI server ${version} from the Go module (cached in ${dir}) …`);
  execFileSync('go', ['install', `github.com/temporalio/ui-server/v2/cmd/server@v${version}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: goEnv(dir),
  });
  log(`  built in ${Math.round((Date.now() - started) / 1000)} s`);
  return binary;
}

/** The PostgreSQL schema folder of the server module `version`, from the Go module cache. */
export function postgresSchemaDir(version: string): string {
  const out = execFileSync('go', ['mod', 'download', '-json', `go.temporal.io/server@v${version}`], {
    env: goEnv(),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return join((JSON.parse(out) as { Dir: string }).Dir, 'schema', 'postgresql', 'v12');
}
