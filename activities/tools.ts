/**
 * Tools: what an agent can do besides talk. Each tool call the model asks for is one `callTool` activity, so
 * its result is a checkpoint and its retries are Temporal's. A tool is data the run records (its
 * {@link ToolSpec}: name, description, JSON Schema, side-effect class) plus a handler on the worker: the
 * built-in ones below, tools registered in TypeScript (`ToolDefinition`), and MCP servers' tools (./mcp).
 *
 * The built-in file tools work inside the run's workspace directory only: absolute paths, `..` and symlinks
 * that lead out of it are refused. `run_code` runs a snippet in a subprocess (docs/tools.md says what
 * isolation that gives, and what it does not).
 */
import { spawn } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import type { SideEffects, ToolSettings, ToolSpec } from '../workflows/types';

/** What a handler gets besides its arguments. */
export interface ToolContext {
  /** Stable across this call's retries, new in a resumed run: dedupe side effects on it. */
  idempotencyKey: string;
  settings: ToolSettings;
  /** Aborted when the activity is cancelled. */
  signal: AbortSignal;
}

/** A tool implemented in TypeScript: the built-in ones, and those a library user registers. */
export interface ToolDefinition<Args = unknown> {
  name: string;
  description: string;
  /** Checks (and types) the arguments the model wrote; its JSON Schema is what the model is shown. */
  input: z.ZodType<Args>;
  sideEffects: SideEffects;
  /** The result: text, or anything JSON (sent to the model as JSON). */
  handler: (args: Args, ctx: ToolContext) => Promise<unknown>;
}

/**
 * An error a tool reports. `retryable: true` means a retry may succeed (the call is retried, unless it is
 * destructive); the model sees the message once the attempts are spent. Any other error a handler throws is
 * treated as retryable.
 */
export class ToolError extends Error {
  override readonly name = 'ToolError';
  readonly retryable: boolean;
  constructor(message: string, options: { retryable?: boolean } = {}) {
    super(message);
    this.retryable = options.retryable ?? false;
  }
}

/** The spec a run records for a tool defined in TypeScript. */
export function specOf(
  tool: Pick<ToolDefinition<never>, 'name' | 'description' | 'sideEffects'> & { input: z.ZodType },
  source = 'library',
): ToolSpec {
  const { $schema: _ignored, ...parameters } = z.toJSONSchema(tool.input, { io: 'input' }) as Record<string, unknown>;
  return { name: tool.name, description: tool.description, parameters, sideEffects: tool.sideEffects, source };
}

/**
 * A path inside the workspace, or a ToolError saying why not. The check is done on the real path (symlinks
 * resolved) of the path itself, or of its nearest existing parent when it does not exist yet.
 */
async function inWorkspace(settings: ToolSettings, path: string): Promise<string> {
  if (!settings.workspace) throw new ToolError('no workspace is configured for this run (tools.workspace)');
  if (typeof path !== 'string' || path === '') throw new ToolError('path must be a non-empty relative path');
  if (isAbsolute(path)) throw new ToolError(`"${path}" is an absolute path: give a path relative to the workspace`);
  const root = await realpath(settings.workspace).catch(() => {
    throw new ToolError(`the workspace ${settings.workspace} does not exist`);
  });
  const target = resolve(root, path);
  const inside = (p: string): boolean => p === root || p.startsWith(root + sep);
  if (!inside(target)) throw new ToolError(`"${path}" is outside the workspace`);
  // Follow symlinks: the nearest part of the path that exists must resolve inside too.
  let existing = target;
  for (;;) {
    const real = await realpath(existing).catch(() => null);
    if (real !== null) {
      if (!inside(real)) throw new ToolError(`"${path}" leads out of the workspace (through a symlink)`);
      break;
    }
    // A dangling symlink: where it points does not exist, so it cannot be shown to stay inside.
    if (
      await lstat(existing).then(
        (s) => s.isSymbolicLink(),
        () => false,
      )
    ) {
      throw new ToolError(`"${path}" is a symlink to something that does not exist`);
    }
    existing = dirname(existing);
  }
  return target;
}

/** Files larger than this are refused by read_file (a result over tools.max_result_chars is cut anyway). */
export const MAX_READ_BYTES = 5 * 1024 * 1024;

const readFileTool: ToolDefinition<{ path: string }> = {
  name: 'read_file',
  description: 'Read a text file of the workspace. The path is relative to the workspace.',
  input: z.strictObject({ path: z.string().min(1).describe('path relative to the workspace') }),
  sideEffects: 'none',
  handler: async ({ path }, { settings }) => {
    const file = await inWorkspace(settings, path);
    const info = await stat(file).catch(() => null);
    if (!info) throw new ToolError(`"${path}" does not exist in the workspace`);
    if (!info.isFile()) throw new ToolError(`"${path}" is not a file`);
    if (info.size > MAX_READ_BYTES) {
      throw new ToolError(`"${path}" is ${info.size} bytes: read_file reads files up to ${MAX_READ_BYTES} bytes`);
    }
    return readFile(file, 'utf8');
  },
};

const listFilesTool: ToolDefinition<{ path?: string | undefined }> = {
  name: 'list_files',
  description: 'List a directory of the workspace (one level): each entry with its kind and size.',
  input: z.strictObject({ path: z.string().optional().describe('directory relative to the workspace; default "."') }),
  sideEffects: 'none',
  handler: async ({ path }, { settings }) => {
    const dir = await inWorkspace(settings, path ?? '.');
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => {
      throw new ToolError(`"${path ?? '.'}" is not a directory of the workspace`);
    });
    const lines: string[] = [];
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name)).slice(0, 500)) {
      if (e.isDirectory()) lines.push(`${e.name}/`);
      else if (e.isFile()) lines.push(`${e.name}  ${(await stat(join(dir, e.name))).size} bytes`);
      else lines.push(`${e.name}  (${e.isSymbolicLink() ? 'symlink' : 'other'})`);
    }
    return lines.length ? lines.join('\n') : '(empty)';
  },
};

const writeFileTool: ToolDefinition<{ path: string; content: string }> = {
  name: 'write_file',
  description: 'Write a text file in the workspace (replacing it if it exists). The path is relative to the workspace.',
  input: z.strictObject({
    path: z.string().min(1).describe('path relative to the workspace'),
    content: z.string().describe('the whole new content'),
  }),
  sideEffects: 'destructive',
  handler: async ({ path, content }, { settings }) => {
    const file = await inWorkspace(settings, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
    return `wrote ${Buffer.byteLength(content)} bytes to ${relative(await realpath(settings.workspace!), file)}`;
  },
};

const runCodeTool: ToolDefinition<{ language: 'javascript' | 'python'; code: string }> = {
  name: 'run_code',
  description:
    'Run a JavaScript (Node.js) or Python 3 snippet and get its exit code, stdout and stderr. It runs in an empty ' +
    'scratch directory, with a time and a memory limit, no network restrictions, and no access to secrets.',
  input: z.strictObject({
    language: z.enum(['javascript', 'python']),
    code: z.string().min(1).describe('the program; print what you want to see'),
  }),
  // Its designed effect is its output: the scratch directory is removed after. Code that reaches further (the
  // network, files outside) is not contained: class it `destructive` under tools.side_effects if yours may.
  sideEffects: 'idempotent',
  handler: async ({ language, code }, { settings, idempotencyKey, signal }) => {
    const scratch = await mkdtemp(join(tmpdir(), 'agent-team-run-'));
    try {
      const limitMb = settings.runCodeMemoryMb;
      const [command, args, file] =
        language === 'javascript'
          ? [process.execPath, [`--max-old-space-size=${limitMb}`, 'main.mjs'], 'main.mjs']
          : [
              'python3',
              [
                '-I',
                '-c',
                `import resource, runpy\nlimit = ${limitMb} * 1024 * 1024\n` +
                  `resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\nrunpy.run_path('main.py', run_name='__main__')`,
              ],
              'main.py',
            ];
      await writeFile(join(scratch, file), code);
      return await runProcess(command, args, {
        cwd: scratch,
        // Nothing inherited but PATH: no API keys, no credentials.
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: scratch,
          TMPDIR: scratch,
          LANG: 'C.UTF-8',
          AGENT_TEAM_IDEMPOTENCY_KEY: idempotencyKey,
        },
        timeoutMs: settings.timeoutMs,
        maxChars: settings.maxResultChars,
        signal,
      });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  },
};

/** Runs a program to its end (or its time limit), in a process group of its own so that the limit ends all of it. */
function runProcess(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; maxChars: number; signal: AbortSignal },
): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const started = Date.now();
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '' };
    const take = (key: 'stdout' | 'stderr') => (d: Buffer) => {
      if (out[key].length <= options.maxChars) out[key] += d.toString('utf8');
    };
    child.stdout.on('data', take('stdout'));
    child.stderr.on('data', take('stderr'));
    let killedFor: string | null = null;
    const kill = (why: string): void => {
      killedFor ??= why;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(
      () => kill(`time limit of ${options.timeoutMs} ms`),
      Math.max(100, options.timeoutMs - 500),
    );
    const onAbort = (): void => kill('cancelled');
    options.signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new ToolError(`could not start ${command}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      const how = killedFor ? `killed (${killedFor})` : signal ? `killed by ${signal}` : `exit code ${code}`;
      resolvePromise(
        `${how} after ${Date.now() - started} ms\n--- stdout ---\n${out.stdout}` +
          (out.stderr ? `--- stderr ---\n${out.stderr}` : ''),
      );
    });
  });
}

/** The built-in tools, by name: none is offered to an agent unless the configuration lists it. */
export const BUILTIN_TOOLS: readonly ToolDefinition<never>[] = [
  readFileTool,
  listFilesTool,
  writeFileTool,
  runCodeTool,
] as unknown as ToolDefinition<never>[];

export const BUILTIN_TOOL_NAMES = BUILTIN_TOOLS.map((t) => t.name);
