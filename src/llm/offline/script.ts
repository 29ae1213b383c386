/**
 * What the offline model answers, deterministically: the orchestrator plans, then its progress ledgers call each
 * team member once in roster order (the roster is read from the `next_speaker` enum of the request's json_schema)
 * and declare the task done when all have spoken; members answer in their role, calling the tools they are offered
 * first. Pure functions of the request.
 */
import type { FaultKind } from './faults';

export interface ChatMessage {
  role: string;
  name?: string;
  content?: unknown;
  tool_calls?: { id: string; function: { name: string; arguments: string } }[];
}

export interface OfferedTool {
  function?: { name?: string; parameters?: { properties?: Record<string, { type?: string }>; required?: string[] } };
}

export interface ChatRequest {
  model?: string;
  messages?: ChatMessage[];
  tools?: OfferedTool[];
  stream?: boolean;
  response_format?: { type?: string; json_schema?: { schema?: Record<string, unknown> } };
}

export const tokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));
export const text = (content: unknown): string =>
  typeof content === 'string' ? content : JSON.stringify(content ?? '');

function speakersOf(req: ChatRequest): string[] {
  const schema = req.response_format?.json_schema?.schema as
    { properties?: { next_speaker?: { properties?: { answer?: { enum?: unknown } } } } } | undefined;
  const list = schema?.properties?.next_speaker?.properties?.answer?.enum;
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
}

/** The text of the last user message (the step's own question). */
export function lastUserText(messages: ChatMessage[]): string {
  return text([...messages].reverse().find((m) => m.role === 'user')?.content);
}

/** The note a person gave the orchestrator, as the ledger prompt carries it (activities/prompts.ts). */
export const notePattern = /A person adds a note for you to take into account from now on: ([^\n]*)/;

/** The messages people sent a running run (`tell`), as a plan or ledger prompt carries them (activities/prompts.ts). */
export const messagePattern = /A person \([^)]*\) sends the team a message: ([^\n]*)/g;

/** How the task starts in a follow-up turn, and an earlier turn's question, as the prompts write them. */
const followUpPrefix = 'The person follows up (the task now):\n';
const earlierPrefix = 'Earlier in this conversation the person asked:\n';

/** The task (a follow-up's, in a later turn of a conversation), its first line. */
export function taskOf(messages: ChatMessage[]): string {
  const users = messages.filter((m) => m.role === 'user').map((m) => text(m.content));
  const task =
    users.find((t) => t.startsWith(followUpPrefix)) ??
    users.find((t) => !t.startsWith(earlierPrefix) && !t.startsWith(summaryPrefix));
  return (
    (task ?? '')
      .replace(/^The task:\n/, '')
      .replace(followUpPrefix, '')
      .split('\n')[0]
      ?.slice(0, 120) ?? ''
  );
}

const summaryPrefix = 'The conversation so far, in summary:\n';

/**
 * What a follow-up's request carries of the conversation's earlier turns: each question's first line, and
 * `(summary)` for the summary of the first ones.
 */
export function earlierTurnsOf(messages: ChatMessage[]): string[] {
  return messages
    .filter((m) => m.role === 'user')
    .map((m) => text(m.content))
    .flatMap((t) =>
      t.startsWith(summaryPrefix)
        ? ['(summary)']
        : t.startsWith(earlierPrefix)
          ? [t.slice(earlierPrefix.length).split('\n')[0]!.slice(0, 120)]
          : [],
    );
}

function pad(answer: string, chars: number | undefined): string {
  if (!chars || answer.length >= chars) return answer;
  const filler = ' Further detail: the trade-offs above hold across input sizes and implementations.';
  let out = answer;
  while (out.length < chars) out += filler;
  return out.slice(0, chars);
}

/** A tool call the offline model makes. */
export interface OfflineToolCall {
  name: string;
  args: Record<string, unknown>;
}

/** The JavaScript the offline coder runs: a small sort with its own check, and the idempotency key it ran under. */
function snippet(delayMs: number): string {
  return (
    (delayMs ? `await new Promise((resolve) => setTimeout(resolve, ${delayMs}));\n` : '') +
    'const xs = [5, 3, 8, 1, 9, 2];\n' +
    'const sorted = [...xs].sort((a, b) => a - b);\n' +
    "console.log(`sorted ${xs.join(',')} -> ${sorted.join(',')}`);\n" +
    'console.log(`idempotency key: ${process.env.AGENT_TEAM_IDEMPOTENCY_KEY}`);\n'
  );
}

/**
 * The tool calls the offline model makes, deterministically, when a member's request offers tools: in its first
 * round trip, run_code (a snippet), list_files (the workspace), write_file (notes) and any other offered tool
 * (its required arguments filled in) at once; then read_file on the first two files (or symlinks) listed; then it
 * answers, quoting each tool result's start.
 */
export function toolCallsFor(req: ChatRequest, agent: string, task: string, toolDelayMs: number): OfflineToolCall[] {
  const offered = new Map(
    (req.tools ?? []).flatMap((t) => (t.function?.name ? [[t.function.name, t.function] as const] : [])),
  );
  if (offered.size === 0) return [];
  const messages = req.messages ?? [];
  let lastUser = messages.length - 1;
  while (lastUser >= 0 && messages[lastUser]!.role !== 'user') lastUser--;
  const turn = messages.slice(lastUser + 1);
  const called = turn.flatMap((m) => (m.tool_calls ?? []).map((c) => c.function.name));
  if (called.length === 0) {
    const calls: OfflineToolCall[] = [];
    for (const [name, fn] of offered) {
      if (name === 'read_file') continue;
      if (name === 'run_code') calls.push({ name, args: { language: 'javascript', code: snippet(toolDelayMs) } });
      else if (name === 'list_files') calls.push({ name, args: { path: '.' } });
      else if (name === 'write_file')
        calls.push({ name, args: { path: `${agent}-notes.md`, content: `# Notes by ${agent}\n\nTask: ${task}\n` } });
      else {
        const args: Record<string, unknown> = {};
        for (const key of fn.parameters?.required ?? []) {
          const type = fn.parameters?.properties?.[key]?.type;
          args[key] = type === 'number' || type === 'integer' ? 1 : type === 'boolean' ? true : task;
        }
        calls.push({ name, args });
      }
    }
    return calls;
  }
  if (offered.has('read_file') && called.includes('list_files') && !called.includes('read_file')) {
    const listing = turn.find((m) => m.role === 'tool' && / {2}(\d+ bytes|\(symlink\))/.test(text(m.content)));
    const files = text(listing?.content)
      .split('\n')
      .flatMap((line) => /^(.+?) {2}(?:\d+ bytes|\(symlink\))$/.exec(line)?.[1] ?? [])
      .slice(0, 2);
    return files.map((path) => ({ name: 'read_file', args: { path } }));
  }
  return [];
}

/** What this turn's tools returned, in a line each, for the offline model's answer. */
function toolResults(messages: ChatMessage[]): string {
  const results = messages
    .filter((m) => m.role === 'tool')
    .map((m) => text(m.content).replace(/\s+/g, ' ').slice(0, 120));
  return results.length ? ` Tool results: ${results.map((r) => `[${r}]`).join(' ')}` : '';
}

/** The deterministic answer for one request. */
export function answer(
  req: ChatRequest,
  agent: string,
  kind: string,
  fault: FaultKind | null,
  answerChars?: number,
  turns?: number,
): string {
  const messages = req.messages ?? [];
  const task = taskOf(messages);
  const spoken = messages.filter((m) => m.role === 'assistant' && m.name && m.name !== 'orchestrator');
  const isLedger = kind === 'ledger' || req.response_format?.type === 'json_schema';
  if (isLedger) {
    if (fault === 'malformed') return 'Sure! Here is the ledger: {is_request_satisfied: maybe';
    const speakers = speakersOf(req);
    const said = new Set(spoken.map((m) => m.name));
    // Each member once, in roster order; with `turns` above the roster's size, round-robin until that many.
    const pending =
      speakers.find((s) => !said.has(s)) ??
      (spoken.length < (turns ?? 0) ? speakers[spoken.length % speakers.length] : undefined);
    const last = spoken[spoken.length - 1]?.name ?? speakers[0] ?? 'researcher';
    const stalled = fault === 'stall';
    const next = stalled ? last : (pending ?? last);
    const done = !stalled && pending === undefined;
    return JSON.stringify({
      is_request_satisfied: {
        reason: done ? 'Every teammate has contributed and the answer is complete.' : 'Contributions are missing.',
        answer: done,
      },
      is_in_loop: { reason: stalled ? 'The same request is being repeated.' : 'No repetition.', answer: stalled },
      is_progress_being_made: {
        reason: stalled ? 'The last turn added nothing new.' : 'Each turn adds new material.',
        answer: !stalled,
      },
      next_speaker: { reason: `${next} covers the next part of the plan.`, answer: next },
      instruction_or_question: {
        reason: 'Keeps the plan moving.',
        answer: `As the ${next}, contribute your part on: ${task}`,
      },
    });
  }
  if (kind === 'plan') {
    const last = text(messages[messages.length - 1]?.content);
    const feedback = /A reviewer asked for changes to the plan: (.*)/.exec(last)?.[1];
    const replan = last.includes('stalled') || feedback !== undefined;
    const earlier = earlierTurnsOf(messages);
    return (
      `${replan ? 'Revised plan' : 'Plan'} for "${task}"` +
      (earlier.length ? ` (following up ${earlier.map((t) => `"${t}"`).join(', ')})` : '') +
      ':\n' +
      (feedback ? `0. as the reviewer asked: ${feedback}\n` : '') +
      '1. researcher: gather the facts and trade-offs.\n2. coder: write reference implementations.\n' +
      '3. analyst: compare them with numbers.\n4. orchestrator: write the final answer.'
    );
  }
  if (kind === 'summary') {
    // The earlier questions, and the start of each answer (or of the summary before them).
    const lines = messages.flatMap((m) => {
      const t = text(m.content);
      if (m.role === 'user' && t.startsWith(summaryPrefix))
        return [`Earlier: ${t.slice(summaryPrefix.length, summaryPrefix.length + 100)}`];
      if (m.role === 'user' && t.startsWith(earlierPrefix))
        return [`Asked: ${t.slice(earlierPrefix.length).split('\n')[0]!.slice(0, 80)}`];
      if (m.role === 'assistant') return [`Answered: ${t.replace(/\s+/g, ' ').slice(0, 80)}`];
      return [];
    });
    const now = /The person now asks:\n([^\n]*)/.exec(lastUserText(messages))?.[1]?.slice(0, 120) ?? task;
    return `Summary of the conversation before "${now}":\n${lines.join('\n')}`;
  }
  if (kind === 'final') {
    const last = text(messages[messages.length - 1]?.content);
    const cut = last.includes('round limit')
      ? 'the round limit was reached'
      : last.includes('budget ran out')
        ? 'the budget ran out'
        : null;
    const feedback = /A reviewer asked for changes to your previous final answer: (.*)/.exec(last)?.[1];
    const who = [...new Set(spoken.map((m) => m.name))].join(', ') || 'nobody';
    return (
      `Final answer on "${task}"${cut ? ` (incomplete: ${cut})` : ''}${feedback ? ` (revised as asked: ${feedback})` : ''}: ` +
      `drawing on ${who}, the team's findings are summarised above. ` +
      spoken.map((m) => `[${m.name}] ${text(m.content).split('\n').slice(-1)[0]?.slice(0, 80)}`).join(' ')
    );
  }
  const roleLine: Record<string, string> = {
    researcher:
      'Key facts: both are comparison sorts; one is in-place with O(n log n) average time, the other stable with O(n log n) worst case and O(n) extra memory.',
    coder:
      'Reference code: function sort(xs) { return xs.length < 2 ? xs : merge(sort(left), sort(right)); } with tests for empty, sorted and reversed input.',
    analyst:
      'Analysis: on random data the in-place variant is usually faster by constant factors; the stable one wins on worst-case guarantees and linked data.',
  };
  return pad(
    `${agent} on "${task}": ${roleLine[agent] ?? 'My contribution addresses the instruction in full.'}` +
      toolResults(messages),
    answerChars,
  );
}
