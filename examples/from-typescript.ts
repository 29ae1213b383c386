import {
  WorkflowBuilder,
  FileCheckpointStorage,
  orchestrator,
  researcher,
  coder,
  analyst,
} from 'durable-agent-team';

async function main(): Promise<void> {
  const workflow = new WorkflowBuilder()
    .addAgent(orchestrator, 'orchestrator')
    .addAgent(researcher, 'researcher')
    .addAgent(coder, 'coder')
    .addAgent(analyst, 'analyst')
    .withCheckpointing(new FileCheckpointStorage('./checkpoints'))
    .build();
  try {
    // A run: status, result, steps, usage, checkpoints.
    const result = await workflow.run('Compare quicksort and mergesort');
    console.log(result.status, result.workflowId);
    // Its checkpoints, newest first, and the team's state at one.
    const checkpoints = await workflow.listCheckpoints({
      workflowId: result.workflowId,
    });
    const { state } = await workflow.loadCheckpoint(checkpoints[3]!.shortId);
    console.log(`at ${checkpoints[3]!.shortId}: round ${state.round}`);
    // Resume from it: the steps before it are reused, not sent again.
    const resumed = await workflow.run(null, {
      checkpointId: checkpoints[3]!.shortId,
    });
    console.log(resumed.status, `${resumed.reusedSteps} steps reused`);
  } finally {
    await workflow.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
