/**
 * Installs the benchmark's own dependencies (bench/package.json: LangGraph JS, its SQLite checkpointer and
 * better-sqlite3, built from source on first install) when they are missing. (Type-check the bench with
 * `npx tsc -p bench` once they are installed.)
 * They stay out of the project's install: users and CI never pay for them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const dir = __dirname;
const ready =
  existsSync(join(dir, 'node_modules', '@langchain', 'langgraph', 'package.json')) &&
  existsSync(join(dir, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'));
if (!ready) {
  process.stderr.write(
    'bench: installing its dependencies into bench/node_modules (once; better-sqlite3 compiles) …\n',
  );
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
}
