/**
 * Runs carried between servers: an export (a run's history, or its whole reset chain, with a manifest, a checksum
 * and optionally a signature) and a restore (a new run here, seeded with the steps up to a checkpoint of an export:
 * they are folded, not executed again). An export is read and checked by `checkExport` before a restore.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import {
  exportWorkflow,
  pickRestorePoint,
  restoreInput,
  type CheckedExport,
  type ExportFile,
} from '../checkpoints/archive';
import { IncompatibleCodeError } from '../shared/errors';
import { derivedWorkflowId } from '../temporal/names';
import type { ClientContext } from './context';
import type { ExecuteOptions } from './events';
import { reuseOf, type RestoreOutcome } from './outcome';
import type { RunsClient } from './runs';

export class ArchiveClient {
  constructor(
    private readonly ctx: ClientContext,
    private readonly runs: RunsClient,
  ) {}

  /** The export of a workflow's run (its latest, or `runId`), or of every run of its reset chain (`allRuns`). */
  export(
    workflowId: string,
    options: { runId?: string; allRuns?: boolean; signingKey?: KeyObject } = {},
  ): Promise<ExportFile> {
    return this.ctx.lookup(workflowId, options.runId, () =>
      exportWorkflow(this.ctx.temporal, this.ctx.namespace, this.ctx.config, workflowId, options),
    );
  }

  /**
   * Starts a new run from a checkpoint of a checked export (`which`: a checkpoint id it lists, or `latest`) and
   * follows it. Refused, with nothing started, when the export's runs do not replay against this workflow code
   * (the restore would not be faithful) or `which` is not one of its checkpoints.
   */
  async restore(
    checked: CheckedExport,
    which: string,
    options: ExecuteOptions & { workflowId?: string } = {},
  ): Promise<RestoreOutcome> {
    const checkpoint = pickRestorePoint(checked.loaded, which);
    if (!checked.verification.compatible) {
      throw new IncompatibleCodeError(
        `${checked.loaded.path}: a run of the export does not replay against this workflow code, so a restore ` +
          'would not be faithful: nothing was imported',
      );
    }
    const input = await restoreInput(this.ctx.temporal, checked.loaded, checkpoint);
    const workflowId =
      options.workflowId ?? derivedWorkflowId(checkpoint.workflowId, `-restored-${randomBytes(3).toString('hex')}`);
    const outcome = await this.runs.execute(input, { ...options, workflowId });
    return { ...outcome, restoredFrom: checkpoint, ...reuseOf(checkpoint, outcome.steps.length) };
  }
}
