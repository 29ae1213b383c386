/**
 * The chat messages for each kind of step. The team's conversation is sent as assistant messages carrying
 * the speaking agent's `name`, the multi-agent convention of the Chat Completions API.
 */
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { StepRequest, TeamMessage } from '../workflows/types';

type Member = { name: string; description: string };

function roster(team: readonly Member[]): string {
  return team.map((a) => `- ${a.name}: ${a.description}`).join('\n');
}

function conversation(transcript: readonly TeamMessage[]): ChatCompletionMessageParam[] {
  return transcript
    .filter((m) => m.asked === undefined && m.kind !== 'summary')
    .map((m) => ({
      role: 'assistant' as const,
      name: m.agent,
      content: m.kind === 'agent' && m.instruction ? `(asked: ${m.instruction})\n${m.content}` : m.content,
    }));
}

/** The earlier turns of a conversation (a follow-up's transcript starts with them): each question, then its answer. */
function earlierTurns(transcript: readonly TeamMessage[]): ChatCompletionMessageParam[] {
  return transcript
    .filter((m) => m.asked !== undefined || m.kind === 'summary')
    .flatMap((m): ChatCompletionMessageParam[] =>
      m.kind === 'summary'
        ? [{ role: 'user', content: `${SUMMARY}${m.content}` }]
        : [
            { role: 'user', content: `${EARLIER_TURN}${m.asked}` },
            { role: 'assistant', name: m.agent, content: m.content },
          ],
    );
}

/** How the summary of a conversation's earlier turns starts (the offline model reads it). */
export const SUMMARY = 'The conversation so far, in summary:\n';

/** How an earlier turn's question starts (the offline model reads it). */
export const EARLIER_TURN = 'Earlier in this conversation the person asked:\n';
/** How the task starts in a follow-up turn (the first turn's starts with "The task:"). */
export const FOLLOW_UP = 'The person follows up (the task now):\n';

/** Builds the messages for one step; `prompt` is the speaker's system prompt, `members` whom the orchestrator may direct. */
export function buildMessages(
  req: StepRequest,
  transcript: readonly TeamMessage[],
  prompt: string,
  members: readonly Member[],
): ChatCompletionMessageParam[] {
  const system: ChatCompletionMessageParam = { role: 'system', content: prompt };
  // In a follow-up, the conversation's earlier turns come before the task they led to.
  const earlier = earlierTurns(transcript);
  const task: ChatCompletionMessageParam = {
    role: 'user',
    content: `${earlier.length ? FOLLOW_UP : 'The task:\n'}${req.task}`,
  };
  switch (req.kind) {
    case 'plan':
      return [
        system,
        ...earlier,
        task,
        ...conversation(transcript),
        {
          role: 'user',
          content:
            heardFrom(req) +
            (req.feedback
              ? `A reviewer asked for changes to the plan: ${req.feedback}\nWrite a revised plan that follows their feedback.\n`
              : req.messages?.some((m) => m.interrupt)
                ? 'A person interrupted the team with the message above. Write a revised plan that follows it.\n'
                : req.replan
                  ? 'The team has stalled. Reflect on what went wrong and write a revised plan.\n'
                  : 'Write a short step-by-step plan for the team.\n') +
            `The team:\n${roster(members)}`,
        },
      ];
    case 'ledger':
      return [
        system,
        ...earlier,
        task,
        ...conversation(transcript),
        {
          role: 'user',
          content:
            `Round ${req.round}. Judge the team's progress and decide who speaks next.\nThe team:\n${roster(members)}\n` +
            (req.note ? `A person adds a note for you to take into account from now on: ${req.note}\n` : '') +
            heardFrom(req) +
            'Answer with the progress ledger as JSON: is the request satisfied, is the team in a loop, is progress ' +
            'being made, the next speaker, and the instruction or question for them, each with a reason.',
        },
      ];
    case 'agent':
      return [
        system,
        ...earlier,
        task,
        ...conversation(transcript),
        { role: 'user', content: req.instruction ?? '' },
        // This turn's tool calls so far, each followed by its results (the Chat Completions tool protocol).
        ...(req.toolTurn ?? []).flatMap((exchange): ChatCompletionMessageParam[] => [
          {
            role: 'assistant',
            content: null,
            tool_calls: exchange.calls.map((c) => ({
              id: c.id,
              type: 'function' as const,
              function: { name: c.name, arguments: c.arguments },
            })),
          },
          ...exchange.calls.map((c) => ({
            role: 'tool' as const,
            tool_call_id: c.id,
            content: exchange.results[c.id]?.content ?? '(no result)',
          })),
        ]),
      ];
    case 'tool':
      throw new Error('a tool step has no chat messages');
    case 'summary':
      return [
        system,
        ...earlier,
        {
          role: 'user',
          content:
            'The conversation above has grown long. Summarise it for the team in a few paragraphs: what the person ' +
            'asked in each turn, what the team answered, and the facts and decisions the next turn may need. The ' +
            `person now asks:\n${req.task}`,
        },
      ];
    case 'final':
      return [
        system,
        ...earlier,
        task,
        ...conversation(transcript),
        {
          role: 'user',
          content:
            (req.cutShort
              ? `${req.cutShortBy === 'budget' ? 'The budget ran out' : 'The round limit was reached'} before the task ` +
                'was complete. Write the best final answer you can from what the team produced, and say what is missing.'
              : 'The task is complete. Write the final answer to the user from what the team produced.') +
            (req.feedback ? `\nA reviewer asked for changes to your previous final answer: ${req.feedback}` : ''),
        },
      ];
  }
}

/** The messages people sent the run since the orchestrator last read any, one line each (see `agent-team tell`). */
function heardFrom(req: StepRequest): string {
  return (req.messages ?? [])
    .map((m) => `A person (${m.by ?? 'unnamed'}) sends the team a message: ${m.text.replace(/\s+/g, ' ')}\n`)
    .join('');
}
