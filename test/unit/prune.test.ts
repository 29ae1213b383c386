/** Pruning's pure parts: ages and the visibility query. */
import { parseAge, pruneQuery } from '../../src/checkpoints/prune';
import { UsageError } from '../../src/shared/errors';
import { workflowIdClause } from '../../src/shared/util';

describe('parseAge', () => {
  it.each([
    ['30d', 30 * 86_400_000],
    ['12h', 12 * 3_600_000],
    ['90m', 90 * 60_000],
    ['45s', 45_000],
    ['2w', 2 * 604_800_000],
    ['1.5h', 5_400_000],
    ['0', 0],
    [' 7d ', 7 * 86_400_000],
  ])('%s', (text, ms) => expect(parseAge(text)).toBe(ms));

  it.each(['', '7', 'd', '-1d', '3 days', '1y'])('refuses "%s"', (text) => {
    expect(() => parseAge(text)).toThrow(UsageError);
  });
});

describe('pruneQuery', () => {
  const before = new Date('2026-11-01T00:00:00Z');
  it('selects closed runs of the team that closed before the cut, never running ones', () => {
    const q = pruneQuery({ before });
    expect(q).toBe(
      'WorkflowType = "agentTeamWorkflow" AND ExecutionStatus IN ("Completed", "Failed", "Canceled", "Terminated", ' +
        '"TimedOut", "ContinuedAsNew") AND CloseTime < "2026-11-01T00:00:00.000Z"',
    );
    expect(q).not.toContain('Running');
  });
  it('narrows to statuses and a workflow id, quoting what it is given', () => {
    expect(pruneQuery({ before, statuses: ['FAILED', 'TIMED_OUT'], workflowId: "it's (a) team" })).toBe(
      'WorkflowType = "agentTeamWorkflow" AND ExecutionStatus IN ("Failed", "TimedOut") AND ' +
        'CloseTime < "2026-11-01T00:00:00.000Z" AND WorkflowId = "it\'s (a) team"',
    );
  });
  it('finds an id with " or \\ by the part before it (SQL visibility matches no literal holding them)', () => {
    expect(pruneQuery({ before, workflowId: 'a "b" \\c' })).toMatch(/ AND WorkflowId STARTS_WITH "a "$/);
    expect(pruneQuery({ before, workflowId: '"quoted"' })).not.toContain('WorkflowId');
    const { matches } = workflowIdClause('a "b" \\c');
    expect([matches('a "b" \\c'), matches('a "b" \\cd'), matches('a ')]).toEqual([true, false, false]);
  });
});
