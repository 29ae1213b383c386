/**
 * The spec's checkpoint API, end to end: a run that fails mid-way, its checkpoints, the state at the last
 * one, and a resume that reuses every completed step.
 *
 *   npx tsx examples/checkpoints.ts
 *
 * It uses an in-memory Temporal server of its own and the offline model (with a fault injected into the
 * coder's first call), so it needs no API key and leaves nothing behind.
 */
import OpenAI from 'openai';
import { InMemoryCheckpointStorage, WorkflowBuilder, analyst, coder, orchestrator, researcher } from '../src';
import { parseFaults, startOfflineLlm } from '../src/testing';

async function main(): Promise<void> {
  // An OpenAI-compatible endpoint whose first coder call fails with HTTP 400 (a non-retryable error).
  const llm = await startOfflineLlm({ faults: parseFaults('coder:1:fatal') });
  const workflow = new WorkflowBuilder()
    .addAgent(orchestrator, 'orchestrator')
    .addAgent(researcher, 'researcher')
    .addAgent(coder, 'coder')
    .addAgent(analyst, 'analyst')
    .withCheckpointing(new InMemoryCheckpointStorage())
    .withLlm({ openai: new OpenAI({ baseURL: llm.baseURL, apiKey: 'offline', maxRetries: 0 }) })
    .build();
  try {
    const failed = await workflow.run('Compare quicksort and mergesort');
    console.log(`first run: ${failed.status} — ${failed.error?.message}`);

    const checkpoints = await workflow.listCheckpoints({ workflowId: failed.workflowId });
    for (const c of checkpoints) console.log(`  step ${c.step}  ${c.agent ?? '(entry)'}  ${c.checkpointId}`);

    const last = checkpoints[0]!;
    const { state } = await workflow.loadCheckpoint(last.checkpointId);
    console.log(
      `state at step ${last.step}: round ${state.round}, next speaker ${state.lastLedger?.next_speaker.answer}`,
    );

    // The fault only hits the first coder call, so the resumed run's coder call succeeds.
    const resumed = await workflow.run(null, { checkpointId: last.checkpointId });
    console.log(
      `resumed: ${resumed.status}; reused ${resumed.reusedSteps} steps, executed ${resumed.executedSteps}, ` +
        `saved ${resumed.savedUsage.totalTokens} tokens in ${resumed.savedUsage.llmCalls} LLM calls`,
    );
    console.log(resumed.result?.answer);
  } finally {
    await workflow.close();
    await llm.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
