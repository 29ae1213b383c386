/**
 * The question a waiting run asks, put to the person at the terminal (`run`, `resume`, `follow`), with
 * @inquirer/prompts on stderr (stdout stays for the answer or --json). The prompt closes by itself when the
 * run is answered elsewhere (`signal`). Ctrl-C at the prompt detaches, as anywhere else in a run.
 */
import type { HumanRequest } from '../../workflows/types';
import type { AnswerInput } from '../client';

export async function promptAnswer(request: HumanRequest, signal: AbortSignal): Promise<AnswerInput | undefined> {
  const { input, number, select } = await import('@inquirer/prompts');
  const context = { output: process.stderr, signal, clearPromptOnDone: false };
  try {
    if (request.kind === 'budget') {
      const decision = await select(
        {
          message: 'Your answer',
          choices: [
            { name: 'add to the budget', value: 'add_budget' as const },
            { name: 'stop: the orchestrator writes its final answer now', value: 'stop' as const },
          ],
        },
        context,
      );
      if (decision === 'stop') return { decision };
      const addUsd = await number(
        { message: 'Add how many US dollars?', min: 0.0001, step: 'any', required: true },
        context,
      );
      return { decision, addUsd };
    }
    const decision = await select(
      {
        message: 'Your answer',
        choices: [
          { name: 'approve', value: 'approve' as const },
          { name: 'revise: ask the orchestrator for changes', value: 'revise' as const },
          { name: 'reject: end the run (CANCELED)', value: 'reject' as const },
        ],
      },
      context,
    );
    if (decision === 'revise') {
      const feedback = await input(
        {
          message: 'What should change?',
          required: true,
          validate: (v) => (v.trim().length > 0 && v.length <= 4000) || 'say what to change (up to 4000 characters)',
        },
        context,
      );
      return { decision, feedback: feedback.trim() };
    }
    if (decision === 'reject') {
      const reason = await input({ message: 'Why? (recorded in the run’s history; optional)' }, context);
      return { decision, ...(reason.trim() ? { reason: reason.trim() } : {}) };
    }
    return { decision };
  } catch (e) {
    // Answered elsewhere: the prompt was closed for us.
    if (e instanceof Error && e.name === 'AbortPromptError') return undefined;
    // Ctrl-C at the prompt (the terminal is raw, so no SIGINT came): detach, as Ctrl-C does anywhere in a run.
    if (e instanceof Error && e.name === 'ExitPromptError') {
      process.kill(process.pid, 'SIGINT');
      return undefined;
    }
    throw e;
  }
}
