/** `resume [checkpointId]` (and `run --resume`): reset a run to a checkpoint and follow the new run. */
import { Option, type Command } from 'commander';
import type { Hints } from '../hints';
import { kindLabel } from '../../../workflows/labels';
import { parseCheckpointId } from '../../checkpoints/ids';
import { oneLine } from '../../shared/util';
import type { AgentTeamClient } from '../../client';
import { UsageError } from '../../shared/errors';
import {
  action,
  configOption,
  detachOption,
  liveOption,
  err,
  executeOptions,
  jsonOption,
  noWorkerOption,
  offlineOption,
  preflight,
  withClient,
  type ExecuteFlags,
} from '../common';
import { followRun } from '../session';

export const forceOption = (): Option =>
  new Option(
    '--force',
    'resume even if the current workflow code does not replay the history kept up to the checkpoint (it is checked first)',
  );

export const repeatSideEffectsOption = (): Option =>
  new Option(
    '--repeat-side-effects',
    'resume even though destructive tool calls made after the checkpoint run again (they are listed, and refused without this)',
  );

export async function resume(
  checkpointId: string | undefined,
  options: ExecuteFlags & {
    workflowId?: string;
    force?: boolean;
    detach?: boolean;
    live?: boolean;
    repeatSideEffects?: boolean;
  },
  hints: Hints,
): Promise<number> {
  if (checkpointId !== undefined)
    parseCheckpointId(checkpointId); // a damaged id fails before any connection
  else if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new UsageError('no checkpoint id given, and no terminal to pick one on: pass one', {
      next: [
        { purpose: 'list them', args: ['checkpoints', 'list', '--status', 'failed'] },
        { purpose: 'then resume one', args: ['resume', { placeholder: '<workflowId>@<step>' }] },
      ],
    });
  }
  const config = await preflight(options);
  return withClient(config, async (client) => {
    const id = checkpointId ?? (await pickCheckpoint(client, options.workflowId));
    if (options.force) err('! --force: resetting without checking that the workflow code replays the kept history');
    return followRun(client, hints, options, (follow) =>
      client.runs.resume(id, {
        ...executeOptions(options),
        ...follow,
        ...(options.force ? { force: true } : {}),
        ...(options.repeatSideEffects ? { repeatSideEffects: true } : {}),
      }),
    );
  });
}

/**
 * The interactive picker: a run whose workflow's latest run failed (or any recent run when none did), then
 * one of its checkpoints, newest first. `workflowId` narrows it to one workflow.
 */
async function pickCheckpoint(client: AgentTeamClient, workflowId?: string): Promise<string> {
  const { select } = await import('@inquirer/prompts');
  const { unfinishedOnly, runs } = await client.checkpoints.resumeCandidates(workflowId);
  if (runs.length === 0)
    throw new UsageError(`there are no runs with checkpoints${workflowId ? ` for "${workflowId}"` : ''} yet`);
  const runId = await select({
    message: unfinishedOnly
      ? // Unfinished: failed, cancelled, terminated or timed out (each choice says which).
        'Resume which run? (unfinished, not resumed since)'
      : 'Resume which run? (none unfinished: the most recent)',
    choices: runs.map((r) => ({
      name: `${r.workflowId} · ${r.status.toLowerCase()} · ${r.checkpoints[0]?.step ?? 0} steps · ${oneLine(r.task, 40)}`,
      value: r.runId,
      description: `run ${r.runId}, created ${r.createdAt ?? '?'}`,
    })),
  });
  return select({
    message: 'From which checkpoint? (newest first; the steps before it are reused)',
    choices: runs
      .find((r) => r.runId === runId)!
      .checkpoints.map((c) => ({
        name:
          `@${c.step}  ${c.agent && c.kind ? `after ${c.agent} ${kindLabel({ kind: c.kind, ...(c.replan ? { replan: true } : {}) })}` : 'the entry checkpoint (before any step)'}` +
          `  round ${c.round}  ${c.usage.totalTokens.toLocaleString('en-US')} tokens saved`,
        value: c.checkpointId,
      })),
  });
}

export function registerResume(program: Command): void {
  program
    .command('resume')
    .summary('resume a run from a checkpoint (or pick one)')
    .description(
      'Resume a run from a checkpoint: reset it there and run on; the steps before it are reused, not re-sent. ' +
        'Without an id, pick one interactively',
    )
    .argument('[checkpointId]', 'a checkpoint id from `checkpoints list` or `run` (default: pick on the terminal)')
    .option('-w, --workflow-id <id>', 'without a checkpoint id: pick among the checkpoints of this workflow only')
    .addOption(forceOption())
    .addOption(repeatSideEffectsOption())
    .addOption(detachOption())
    .addOption(liveOption())
    .addOption(offlineOption())
    .addOption(noWorkerOption())
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(
        async (
          checkpointId: string | undefined,
          options: ExecuteFlags & { workflowId?: string; detach?: boolean },
          hints: Hints,
        ) => {
          if (checkpointId !== undefined && options.workflowId !== undefined) {
            throw new UsageError(
              'give either a checkpoint id or --workflow-id (to pick among its checkpoints), not both',
            );
          }
          return resume(checkpointId, options, hints);
        },
      ),
    );
}
