/** The examples in examples/ run as documented (so the README never points at a broken one). */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/temporal/dev-server';
import { cleanEnv, collect, spawnCli } from '../cli-helpers';

const ROOT = join(__dirname, '../..');

it('examples/checkpoints.ts fails a run, lists its checkpoints and resumes reusing every completed step', async () => {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', join(__dirname, '../../examples/checkpoints.ts')], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { code, stdout, stderr } = await collect(child);
  expect(stderr).toBe('');
  expect(stdout).toMatch(/^first run: FAILED — coder \(round 2\): the LLM endpoint answered HTTP 400/);
  expect(stdout.match(/^ {2}step \d /gm)).toHaveLength(5);
  expect(stdout).toContain('state at step 4: round 2, next speaker coder');
  expect(stdout).toContain('resumed: COMPLETED; reused 4 steps, executed 5, saved 1163 tokens in 4 LLM calls');
  expect(code).toBe(0);
});

/** Builds dist/ when a source is newer (the package's entry point is the build, as for anyone who installs it). */
function freshBuild(): void {
  const newest = (dir: string): number =>
    readdirSync(join(ROOT, dir), { recursive: true })
      .filter((f) => String(f).endsWith('.ts'))
      .reduce((m, f) => Math.max(m, statSync(join(ROOT, dir, String(f))).mtimeMs), 0);
  const built = join(ROOT, 'dist/src/index.js');
  const stale =
    !existsSync(built) || statSync(built).mtimeMs < Math.max(...['src', 'workflows', 'activities'].map(newest));
  if (stale) execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'ignore' });
}

describe("the README's TypeScript snippet runs as printed (examples/from-typescript.ts)", () => {
  const snippet = readFileSync(join(ROOT, 'examples/from-typescript.ts'), 'utf8');
  const tsx = join(ROOT, 'node_modules/.bin/tsx');
  const projects: string[] = [];

  /** A project folder whose config gives the embedded server free ports (a developer's own may hold 7233). */
  async function project(): Promise<string> {
    const dir = mkdtempSync(join(process.env.AGENT_TEAM_TEST_DIR as string, 'project-'));
    mkdirSync(join(dir, 'config'));
    writeFileSync(
      join(dir, 'config/workflow.yaml'),
      `temporal:\n  port: ${await freePort()}\n  ui_port: ${await freePort()}\n`,
    );
    projects.push(dir);
    return dir;
  }

  beforeAll(() => freshBuild(), 120_000);
  afterAll(async () => {
    // Each project's embedded server keeps running after the snippet (like `agent-team run`): stop it.
    for (const dir of projects) {
      const stopped = await collect(spawnCli(['server', 'stop'], cleanEnv(), dir));
      expect(stopped.stdout).toContain('Stopped.');
    }
  });

  const expectRan = (res: { code: number | null; stdout: string; stderr: string }): void => {
    if (res.code !== 0) throw new Error(res.stderr);
    expect(res.stdout).toMatch(/^COMPLETED \S+\nat \S+@6: round 3\nCOMPLETED 6 steps reused\n$/);
  };

  it('runs from the checkout (the package imports itself by name)', async () => {
    const dir = await project();
    expectRan(await collect(spawn(tsx, [join(ROOT, 'examples/from-typescript.ts')], { cwd: dir, env: cleanEnv() })));
  }, 120_000);

  it('runs in a new project that installed the package', async () => {
    const dir = await project();
    execFileSync('npm', ['init', '-y'], { cwd: dir, stdio: 'ignore' });
    execFileSync('npm', ['install', ROOT, '--no-audit', '--no-fund', '--ignore-scripts'], {
      cwd: dir,
      stdio: 'ignore',
    });
    writeFileSync(join(dir, 'demo.ts'), snippet);
    expectRan(await collect(spawn(tsx, ['demo.ts'], { cwd: dir, env: cleanEnv() })));
    // The layers below have entry points of their own (package.json `exports`), and nothing else is reachable.
    const layers =
      "const c = require('durable-agent-team/client'), w = require('durable-agent-team/worker');" +
      "const f = require('durable-agent-team/workflows'), t = require('durable-agent-team/testing');" +
      'console.log([typeof c.AgentTeamClient, typeof w.createAgentTeamWorker, f.WORKFLOW_TYPE, typeof t.startOfflineLlm].join(" "));' +
      "try { require('durable-agent-team/dist/src/library'); } catch (e) { console.log(e.code); }";
    const required = await collect(spawn(process.execPath, ['-e', layers], { cwd: dir, env: cleanEnv() }));
    expect(required.stdout).toBe('function function agentTeamWorkflow function\nERR_PACKAGE_PATH_NOT_EXPORTED\n');
  }, 120_000);
});
