/** The lines `checkpoints import` prints about an export: its signature, each run's replay, the verdict, the restore. */
import type { ImportVerification } from '../../checkpoints/archive';
import type { SignatureCheck } from '../../checkpoints/signing';
import type { Checkpoint } from '../../checkpoints/derive';
import type { ReplayReport } from '../../history/replay';

export const CONFIG_DIFFERS =
  'note: the team configuration (agents, models, prompts, temperature) differs from the exporting side; ' +
  'restored steps are kept as they were, later steps use this configuration';

/** A signature said as plainly as a pass: ✔ vouched for, ⚠ a verify key was given and did not vouch, · unsigned. */
export function signatureLine(signature: SignatureCheck, haveVerifyKeys: boolean): string {
  const mark = signature.status === 'signed-valid' ? '✔' : haveVerifyKeys ? '⚠' : '·';
  return `${mark} ${signature.detail}${mark === '⚠' ? ' (--require-signature refuses such a file)' : ''}`;
}

export function replayLine(run: { runId: string; status: string }, r: ReplayReport): string {
  if (r.compatible)
    return `✔ run ${run.runId} (${run.status.toLowerCase()}, ${r.events} events) replays against this workflow code`;
  return (
    `✖ run ${run.runId} does not replay against this workflow code` +
    (r.divergingEventId ? `: it diverges at event ${r.divergingEventId} (${r.divergingEventType})` : '')
  );
}

export function verificationLine(path: string, v: ImportVerification): string {
  return (
    `${v.compatible ? '✔' : '✖'} ${path}: checksum ok, ${v.signature.status}, ` +
    `${v.runs.length} run(s), ${v.checkpoints.length} checkpoints of ` +
    `${v.workflowId}${v.compatible ? '.' : ', which this code cannot replay: a restore would not be faithful.'}`
  );
}

export function restoreLine(workflowId: string, point: Checkpoint): string {
  return (
    `↺ Restoring ${workflowId} from step ${point.step}` +
    `${point.agent ? ` (after ${point.agent}, round ${point.round})` : ''}: ` +
    `${point.step} steps carried over, ${point.usage.totalTokens.toLocaleString('en-US')} tokens not paid again`
  );
}
