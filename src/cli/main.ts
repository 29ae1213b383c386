#!/usr/bin/env node
/**
 * `agent-team`: the command line. Each command parses and validates its input, calls the client module
 * (src/app.ts), prints (JSON with --json), and closes what it opened. Exit codes: 0 success, 1 the run or
 * operation failed, 2 bad usage or configuration (nothing was started or changed).
 */
import { Command, CommanderError, Option } from 'commander';
import { validateTask } from '../config';
import { UsageError } from '../errors';
import { PACKAGE_VERSION, cliVersion, findTemporalCli } from '../temporal/cli-binary';
import {
  action,
  configOption,
  err,
  executeOptions,
  json,
  jsonOption,
  load,
  loadApp,
  loadCheckpoints,
  loadConnection,
  loadDevServer,
  loadOfflineLlm,
  loadReplay,
  noWorkerOption,
  offlineOption,
  openApp,
  out,
  parsePositiveInt,
  parseStatuses,
  portOption,
  progress,
  report,
  RUN_STATUSES,
  type CommonOptions,
  type RunOptions,
  type RunStatus,
  untilStopped,
} from './common';
import { checkpointDetails, checkpointTable } from './format';
import type * as AppModule from '../app';
import { registerLifecycleCommands } from './lifecycle';
/** `resume [id]` and `run --resume id`. */
async function resume(
  checkpointId: string | undefined,
  options: RunOptions & { workflowId?: string; force?: boolean },
): Promise<number> {
  const { decodeCheckpointId } = await loadCheckpoints();
  if (checkpointId !== undefined)
    decodeCheckpointId(checkpointId); // garbled ids fail before any connection
  else if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new UsageError(
      'no checkpoint id given, and no terminal to pick one on: list them with ' +
        '`agent-team checkpoints list --status failed` and pass one, e.g. `agent-team resume cp1_…`',
    );
  }
  const app = await openApp(options);
  try {
    const id = checkpointId ?? (await pickCheckpoint(app, options.workflowId));
    if (options.force) err('! --force: resetting without checking that the workflow code replays the kept history');
    const outcome = await app.resume(id, {
      ...executeOptions(options),
      ...progress(app),
      ...(options.force ? { force: true } : {}),
      onReplayCheck: (r) =>
        err(`✔ Replay check: the ${r.events} events this resume keeps replay against the current workflow code`),
      onReset: (checkpoint, command) =>
        err(
          `↺ Resuming ${checkpoint.workflowId} from step ${checkpoint.step}` +
            `${checkpoint.agent ? ` (after ${checkpoint.agent}, round ${checkpoint.round})` : ' (the entry checkpoint)'}: ` +
            `${checkpoint.step} steps reused, ${checkpoint.usage.totalTokens.toLocaleString('en-US')} tokens not paid again\n` +
            `  same as: ${command}`,
        ),
    });
    return report(outcome, options.json);
  } finally {
    await app.close();
  }
}

/**
 * The interactive picker: a run whose workflow's latest run failed (or any recent run when none did), then
 * one of its checkpoints, newest first. `workflowId` narrows it to one workflow.
 */
async function pickCheckpoint(app: AppModule.AgentTeamApp, workflowId?: string): Promise<string> {
  const { select } = await import('@inquirer/prompts');
  const scope = workflowId ? { workflowId } : {};
  const unfinished = ['FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELED'] as RunStatus[];
  const failedRuns = await app.checkpoints.list({ ...scope, status: unfinished, limit: 10 });
  // A failed run that was resumed since is done with: offer only workflows whose latest run failed.
  const latest = new Map<string, string>();
  for (const id of new Set(failedRuns.map((c) => c.workflowId))) {
    latest.set(id, (await app.client.workflow.getHandle(id).describe()).runId);
  }
  const failed = failedRuns.filter((c) => latest.get(c.workflowId) === c.runId);
  const all = failed.length > 0 ? failed : await app.checkpoints.list({ ...scope, limit: 10 });
  if (all.length === 0)
    throw new UsageError(`there are no runs with checkpoints${workflowId ? ` for "${workflowId}"` : ''} yet`);
  const runs = [...new Map(all.map((c) => [c.runId, c])).values()];
  const runId = await select({
    message:
      failed.length > 0
        ? 'Resume which run? (failed, not resumed since)'
        : 'Resume which run? (no failed runs; recent runs)',
    choices: runs.map((c) => ({
      name: `${c.workflowId}  run ${c.runId.slice(0, 8)}…  ${c.runStatus.toLowerCase()}  ${c.createdAt ?? ''}`,
      value: c.runId,
    })),
  });
  return select({
    message: 'From which checkpoint? (newest first; the steps before it are reused)',
    choices: all
      .filter((c) => c.runId === runId)
      .map((c) => ({
        name: `step ${c.step}  ${c.agent ?? '(entry)'}${c.kind ? ` ${c.kind}` : ''}  round ${c.round}  ${c.usage.totalTokens} tokens saved`,
        value: c.checkpointId,
      })),
  });
}

const forceOption = (): Option =>
  new Option(
    '--force',
    'resume even if the current workflow code does not replay the history kept up to the checkpoint (it is checked first)',
  );

export function buildProgram(): Command {
  const program = new Command('agent-team')
    .description(
      'A team of LLM agents (orchestrator, researcher, coder, analyst) running as a durable Temporal workflow.\n' +
        'Temporal history is the checkpoint store and the audit trail.',
    )
    .version(PACKAGE_VERSION)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();

  program
    .command('run')
    .description(
      'Run the team on a task and print the final answer (starts the embedded server and a worker as needed)',
    )
    .argument('[task...]', 'what the team should do (quote it, or pass the words)')
    .option('--workflow-id <id>', 'workflow id for the run (default: agent-team-<time>-<random>)')
    .option('--resume <checkpointId>', 'instead of a new run, resume from this checkpoint (same as `resume <id>`)')
    .addOption(forceOption())
    .addOption(offlineOption())
    .addOption(noWorkerOption())
    .addOption(configOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nExamples:\n  agent-team run "Compare quicksort and mergesort"\n  agent-team run "Compare quicksort and mergesort" --offline --json\n' +
        '  agent-team run --resume cp1_…',
    )
    .action(
      action(
        async (words: string[], options: RunOptions & { workflowId?: string; resume?: string; force?: boolean }) => {
          if (options.force && options.resume === undefined)
            throw new UsageError('--force goes with --resume <checkpointId>');
          if (options.resume !== undefined) {
            if (words.length > 0) throw new UsageError('give either a task or --resume <checkpointId>, not both');
            return resume(options.resume, options);
          }
          if (words.length === 0) throw new UsageError("missing required argument 'task' (or --resume <checkpointId>)");
          const task = validateTask(words.join(' '));
          if (options.workflowId !== undefined && !options.workflowId.trim()) {
            throw new UsageError('--workflow-id must not be empty');
          }
          const app = await openApp(options);
          try {
            const outcome = await app.runTask(task, {
              ...(options.workflowId ? { workflowId: options.workflowId } : {}),
              ...executeOptions(options),
              ...progress(app),
            });
            return report(outcome, options.json);
          } finally {
            await app.close();
          }
        },
      ),
    );

  program
    .command('resume')
    .description(
      'Resume a run from a checkpoint: reset it there and run on; the steps before it are reused, not re-sent. ' +
        'Without an id, pick one interactively',
    )
    .argument('[checkpointId]', 'a checkpoint id from `checkpoints list` or `run` (default: pick on the terminal)')
    .option('-w, --workflow-id <id>', 'without a checkpoint id: pick among the checkpoints of this workflow only')
    .addOption(forceOption())
    .addOption(offlineOption())
    .addOption(noWorkerOption())
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(async (checkpointId: string | undefined, options: RunOptions & { workflowId?: string }) => {
        if (checkpointId !== undefined && options.workflowId !== undefined) {
          throw new UsageError(
            'give either a checkpoint id or --workflow-id (to pick among its checkpoints), not both',
          );
        }
        return resume(checkpointId, options);
      }),
    );

  program
    .command('replay')
    .description(
      "Replay a run's history against the workflow code: exit 0 when compatible, 1 naming the first diverging event " +
        '(old runs and their checkpoints stay resumable only while this passes)',
    )
    .argument(
      '<workflowIdOrFile>',
      'a workflow id (its latest run, or --run-id), or a history JSON file (`temporal workflow show --output json`)',
    )
    .option('-r, --run-id <runId>', 'with a workflow id: this run instead of the latest')
    .option(
      '--workflows <path>',
      "replay against this workflows module instead of the project's (e.g. a candidate version)",
    )
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(async (target: string, options: CommonOptions & { runId?: string; workflows?: string }) => {
        const { existsSync } = await import('node:fs');
        const { resolve } = await import('node:path');
        const replay = await loadReplay();
        if (options.workflows && !existsSync(options.workflows))
          throw new UsageError(`--workflows: no such file ${options.workflows}`);
        const workflowsPath = options.workflows ? resolve(options.workflows) : undefined;
        const { installRuntime } = await loadApp();
        let report: Awaited<ReturnType<typeof replay.replayHistory>>;
        if (existsSync(target)) {
          const history = replay.readHistoryFile(target); // validated before anything native starts
          installRuntime(err);
          report = await replay.replayHistory(history, target, workflowsPath ? { workflowsPath } : {});
        } else {
          const app = await openApp(options);
          try {
            const history = await replay.fetchRunHistory(app.client, target, options.runId);
            installRuntime(err);
            report = await replay.replayHistory(
              history,
              `${target}${options.runId ? ` run ${options.runId}` : ''}`,
              workflowsPath ? { workflowsPath } : {},
            );
          } finally {
            await app.close();
          }
        }
        const code = workflowsPath ?? 'the current workflow code';
        if (options.json) json(report);
        else if (report.compatible) err(`✔ ${report.source}: ${report.events} events replay against ${code}`);
        else
          err(
            `✖ ${report.source} does not replay against ${code}` +
              (report.divergingEventId
                ? `: it diverges at event ${report.divergingEventId} (${report.divergingEventType})`
                : '') +
              `\n  ${report.message ?? ''}`,
          );
        return report.compatible ? 0 : 1;
      }),
    );

  const checkpoints = program
    .command('checkpoints')
    .description('List and inspect checkpoints: the points after each completed agent step, kept in Temporal history');
  checkpoints
    .command('list')
    .description('List checkpoints, newest first: of one workflow (all its runs), or of the most recent runs')
    .option('-w, --workflow-id <id>', 'only this workflow (every run in its reset chain)')
    .option(
      '--status <list>',
      `only runs in these states (comma-separated: ${RUN_STATUSES.join(', ').toLowerCase()})`,
      parseStatuses,
    )
    .option('--limit <n>', 'at most this many runs (default 20)', parsePositiveInt)
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(async (options: CommonOptions & { workflowId?: string; status?: RunStatus[]; limit?: number }) => {
        const app = await openApp(options);
        try {
          let skipped = 0;
          const list = await app.checkpoints.list({
            onUndecryptable: () => void skipped++,
            ...(options.workflowId ? { workflowId: options.workflowId } : {}),
            ...(options.status ? { status: options.status } : {}),
            ...(options.limit ? { limit: options.limit } : {}),
          });
          if (options.json) json(list);
          else err(list.length ? checkpointTable(list) : 'No checkpoints (no matching runs).');
          if (skipped)
            err(
              `note: ${skipped} encrypted run(s) skipped: set AGENT_TEAM_ENCRYPTION_KEY (or _KEY_FILE) to list them too`,
            );
        } finally {
          await app.close();
        }
      }),
    );
  checkpoints
    .command('show')
    .description('Show one checkpoint: where it is, what it saved, and the full team state at that point')
    .argument('<checkpointId>', 'a checkpoint id')
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(async (checkpointId: string, options: CommonOptions) => {
        const { decodeCheckpointId, resetCommand } = await loadCheckpoints();
        decodeCheckpointId(checkpointId); // a garbled id is a usage error before any connection
        const app = await openApp(options);
        try {
          const checkpoint = await app.checkpoints.load(checkpointId);
          const command = resetCommand({ namespace: app.target.namespace, ...checkpoint });
          const ui = app.webUiUrl(checkpoint.workflowId, checkpoint.runId);
          if (options.json) json({ ...checkpoint, resetCommand: command, webUi: ui });
          else out(checkpointDetails(checkpoint, command, ui));
        } finally {
          await app.close();
        }
      }),
    );

  registerLifecycleCommands(program, checkpoints);

  program
    .command('worker')
    .description('Run a long-lived worker that executes agent steps for any run on the task queue (Ctrl-C to stop)')
    .addOption(offlineOption())
    .option('--task-queue <name>', 'task queue to poll (default: temporal.task_queue from the config)')
    .addOption(configOption())
    .action(
      action(async (options: CommonOptions & { offline?: boolean; taskQueue?: string }) => {
        const config = load(options);
        const { AgentTeamApp } = await loadApp();
        const app = await AgentTeamApp.open(config, { log: err });
        try {
          const taskQueue = options.taskQueue ?? app.taskQueue;
          const hosted = await app.createWorker({ offline: options.offline ?? false, taskQueue });
          err(
            `Worker polling task queue "${taskQueue}" on ${app.target.address}, namespace ${app.target.namespace} (Ctrl-C to stop)`,
          );
          await hosted.run();
          err('Worker stopped.');
        } finally {
          await app.close();
        }
      }),
    );

  const server = program
    .command('server')
    .description('Manage the embedded Temporal server (the Temporal CLI dev server, in the background)');
  server
    .command('start')
    .description('Start the embedded server (or confirm it is running); it keeps running until `server stop`')
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(async (options: CommonOptions) => {
        const config = load(options);
        const { temporalSettings } = await loadConnection();
        const { ensureDevServer } = await loadDevServer();
        const settings = temporalSettings(config);
        if (settings.external)
          throw new UsageError(
            `a cluster is configured (${settings.options.address}): there is no embedded server to start`,
          );
        const { checkpointing } = config.workflow;
        const s = await ensureDevServer({
          storage: checkpointing.enabled ? checkpointing.storage_type : 'memory',
          dir: config.storageDir,
          port: config.temporal.port,
          uiPort: config.temporal.ui_port,
          namespace: settings.namespace,
          log: err,
        });
        // Opening the app applies checkpointing.cleanup_after_days as the namespace retention.
        await (await (await loadApp()).AgentTeamApp.open(config, { temporal: { kind: 'embedded' }, log: err })).close();
        if (options.json)
          json({ address: s.address, uiUrl: s.uiUrl, pid: s.pid, reused: s.reused, storageDir: config.storageDir });
        else
          err(
            `${s.reused ? 'Already running' : 'Started'}: ${s.address}${s.uiUrl ? `, Web UI ${s.uiUrl}` : ''}${s.pid ? ` (pid ${s.pid})` : ''}`,
          );
      }),
    );
  server
    .command('stop')
    .description('Stop the embedded server started from this storage folder')
    .addOption(configOption())
    .action(
      action(async (options: CommonOptions) => {
        const config = load(options);
        const { stopDevServer } = await loadDevServer();
        err(
          (await stopDevServer(config.storageDir))
            ? 'Stopped.'
            : `No embedded server recorded in ${config.storageDir}.`,
        );
      }),
    );
  server
    .command('status')
    .description('Show whether the embedded server is running and healthy (exit 1 when not)')
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(async (options: CommonOptions) => {
        const config = load(options);
        const { devServerStatus } = await loadDevServer();
        const status = await devServerStatus(config.storageDir, `127.0.0.1:${config.temporal.port}`);
        let cli: string | null = null;
        try {
          cli = cliVersion((await findTemporalCli({ install: false })).path);
        } catch {
          cli = null;
        }
        if (options.json) json({ ...status, storageDir: config.storageDir, temporalCli: cli });
        else {
          const r = status.record;
          err(
            `${status.healthy ? '● healthy' : '○ not answering'} at ${r?.address ?? `127.0.0.1:${config.temporal.port}`}` +
              (r
                ? ` — pid ${r.pid} (${status.running ? 'running' : 'gone'}), ${r.storage}${r.dbPath ? ` ${r.dbPath}` : ''}, since ${r.startedAt}`
                : '') +
              (r?.uiUrl ? `\n  Web UI: ${r.uiUrl}` : '') +
              `\n  Temporal CLI: ${cli ?? 'not installed yet (installed on first use, or `npm run setup:temporal`)'}`,
          );
        }
        return status.healthy ? 0 : 1;
      }),
    );

  program
    .command('codec-server')
    .description(
      'Serve /encode and /decode for the Temporal Web UI and CLI, so they show encrypted payloads decoded ' +
        '(uses the key from AGENT_TEAM_ENCRYPTION_KEY or AGENT_TEAM_ENCRYPTION_KEY_FILE)',
    )
    .addOption(portOption(8888))
    .option('--host <host>', 'address to listen on (0.0.0.0 in a container)', '127.0.0.1')
    .option(
      '--ui-origin <url>',
      'the Web UI origin allowed by CORS (default: the embedded UI, http://127.0.0.1:<ui_port>)',
    )
    .option('--token <token>', 'require `Authorization: Bearer <token>` (default: $AGENT_TEAM_CODEC_TOKEN)')
    .addOption(configOption())
    .addHelpText(
      'after',
      '\nThen: temporal workflow show -w <id> --codec-endpoint http://127.0.0.1:8888\n' +
        '  and in the Web UI: Settings → Codec Server → http://127.0.0.1:8888',
    )
    .action(
      action(async (options: CommonOptions & { port: number; host: string; uiOrigin?: string; token?: string }) => {
        const config = load(options);
        const { encryptionKeysFromEnv } = await import('../codec');
        const { startCodecServer } = await import('../codec-server');
        const keys = encryptionKeysFromEnv();
        if (!keys)
          throw new UsageError('no key: set AGENT_TEAM_ENCRYPTION_KEY (or AGENT_TEAM_ENCRYPTION_KEY_FILE) first');
        const token = options.token ?? process.env.AGENT_TEAM_CODEC_TOKEN;
        const uiOrigin = options.uiOrigin ?? `http://127.0.0.1:${config.temporal.ui_port}`;
        const server = await startCodecServer({
          keys,
          port: options.port,
          host: options.host,
          uiOrigin,
          ...(token ? { token } : {}),
        });
        err(
          `Codec server on ${server.url} (key id "${keys.current}", CORS for ${uiOrigin}${token ? ', bearer token required' : ''}); Ctrl-C to stop`,
        );
        await untilStopped();
        await server.close();
      }),
    );

  program
    .command('llm-server')
    .description('Run the offline OpenAI-compatible model server on its own (for workers in other processes)')
    .addOption(portOption(8787))
    .addHelpText(
      'after',
      '\nEnvironment: OFFLINE_LLM_LOG, OFFLINE_LLM_FAULTS, OFFLINE_LLM_LATENCY_MS, OFFLINE_LLM_ANSWER_CHARS (see README).',
    )
    .action(
      action(async (options: { port: number }) => {
        const { offlineLlmOptionsFromEnv, startOfflineLlm } = await loadOfflineLlm();
        const server = await startOfflineLlm({ ...offlineLlmOptionsFromEnv(), port: options.port });
        err(`Offline model listening: OPENAI_BASE_URL=${server.baseURL} (Ctrl-C to stop)`);
        await untilStopped();
        await server.close();
      }),
    );

  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  // `agent-team … | head`: a reader that stops early is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode =
        e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
      return;
    }
    throw e;
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    err(`agent-team: error: ${(e as Error).message}`);
    process.exitCode = 1;
  });
}
