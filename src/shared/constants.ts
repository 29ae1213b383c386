/**
 * Names other programs see: the workflow type (for `temporal workflow start --type` and visibility queries)
 * and the execution statuses, as this project and Temporal's visibility store spell them.
 */
export { WORKFLOW_TYPE } from '../../workflows/types';

/** Every status a run can have, as `checkpoints list --status` takes them (lower case there) and `--json` prints them. */
export const RUN_STATUSES = [
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELED',
  'TERMINATED',
  'TIMED_OUT',
  'CONTINUED_AS_NEW',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The statuses of a run that has closed (everything but RUNNING). */
export type ClosedStatus = Exclude<RunStatus, 'RUNNING'>;
export const CLOSED_STATUSES = RUN_STATUSES.filter((s): s is ClosedStatus => s !== 'RUNNING');

/** How a visibility query names a status (`ExecutionStatus = "TimedOut"`). */
export const VISIBILITY_STATUS: Readonly<Record<RunStatus, string>> = {
  RUNNING: 'Running',
  COMPLETED: 'Completed',
  FAILED: 'Failed',
  CANCELED: 'Canceled',
  TERMINATED: 'Terminated',
  TIMED_OUT: 'TimedOut',
  CONTINUED_AS_NEW: 'ContinuedAsNew',
};
