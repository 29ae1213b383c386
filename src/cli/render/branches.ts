/** The lines of forks: what a fork starts from, and the tree of a workflow's forks. */
import type { Checkpoint } from '../../checkpoints/derive';
import type { ForkNode, ForkTree } from '../../client/branches';

export function forkLine(checkpoint: Checkpoint, edits: string[]): string {
  return (
    `⑂ Forking ${checkpoint.shortId}: ${checkpoint.step} step${checkpoint.step === 1 ? '' : 's'} reused, ` +
    `${checkpoint.usage.totalTokens.toLocaleString('en-US')} tokens not paid again` +
    (edits.length ? `; edited: ${edits.join(', ')}` : '; no edits')
  );
}

/** The tree as lines: the workflow, then each fork indented under what it came from. */
export function forkTree(tree: ForkTree): string {
  const lines = [
    tree.origin ? `${tree.workflowId}  (a fork of ${tree.origin.workflowId}@${tree.origin.step})` : tree.workflowId,
  ];
  const walk = (nodes: ForkNode[], indent: string): void => {
    nodes.forEach((n, i) => {
      const last = i === nodes.length - 1;
      const edits = n.origin.edits.length ? n.origin.edits.join(', ') : 'no edits';
      lines.push(
        `${indent}${last ? '└─' : '├─'} ${n.workflowId}  ${n.status.toLowerCase()}  from @${n.origin.step}  ${edits}`,
      );
      walk(n.forks, indent + (last ? '   ' : '│  '));
    });
  };
  walk(tree.forks, '');
  if (tree.forks.length === 0) lines.push('  (no forks)');
  return lines.join('\n');
}
