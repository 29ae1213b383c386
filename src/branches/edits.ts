/**
 * What a fork changes at its fork point, applied to the input that seeds it and checked before anything starts:
 * a recorded answer replaced (any agent step, the plan, the final answer; a progress ledger only with a valid
 * ledger), the task, a note for the orchestrator's next ledger, and the team from the fork on (a configuration
 * file's, or one agent's model). Everything here is pure: a refused edit is a {@link UsageError} (exit 2).
 */
import { parseLedger } from '../../activities/ledger';
import { ORCHESTRATOR, InvalidTeamInput } from '../../workflows/input';
import { initialState } from '../../workflows/state';
import type { ForkOrigin, RecordedToolResult, StepResult, TeamInput } from '../../workflows/types';
import { teamInputFor, validateTask, type AgentTeamConfig } from '../config';
import type { Checkpoint } from '../checkpoints/derive';
import { UsageError } from '../shared/errors';

export interface ForkEdits {
  /** Replace recorded answers, by step number (up to the fork point). */
  answers?: { step: number; text: string }[];
  /** A new task from the fork on. */
  task?: string;
  /** A note the orchestrator reads at its next progress ledger. */
  note?: string;
  /** A new team definition from the fork on (models, prompts, tools, gates, budget): a loaded configuration. */
  config?: AgentTeamConfig;
  /** Another model for an agent from the fork on (after `config`, when both are given). */
  models?: Record<string, string>;
  /**
   * How the fork's tool calls run (default `replay`: a branch changes nothing outside; see docs/branches.md):
   * `replay` answers calls the source made after the fork point with its results, and runs other calls only to
   * read-only tools; `live` runs every call.
   */
  tools?: 'live' | 'replay';
}

/** Parses `<step>=<text>` (the text already read from `@file` by the caller). */
export function parseAnswerEdit(value: string): { step: number; text: string } {
  const m = /^(\d+)=([\s\S]*)$/.exec(value);
  if (!m) throw new UsageError(`--answer "${value.slice(0, 40)}": expected <step>=<text> or <step>=@<file>`);
  return { step: Number(m[1]), text: m[2]! };
}

/** Parses `<agent>=<model>`. */
export function parseModelEdit(value: string): [string, string] {
  const m = /^([^=]+)=(.+)$/.exec(value);
  if (!m) throw new UsageError(`--model "${value.slice(0, 40)}": expected <agent>=<model>`);
  return [m[1]!.trim(), m[2]!.trim()];
}

function speakersOf(input: TeamInput): [string, ...string[]] {
  const names = (input.team?.agents ?? []).map((a) => a.name).filter((n) => n !== ORCHESTRATOR);
  return (names.length ? names : ['researcher', 'coder', 'analyst']) as [string, ...string[]];
}

const label = (s: StepResult, step: number): string =>
  s.kind === 'agent' ? `step ${step} (${s.agent})` : `step ${step} (${s.kind === 'final' ? 'final answer' : s.kind})`;

/** Replaces a recorded answer of the seed; returns what was changed, as people read it. */
function editAnswer(
  input: TeamInput,
  fork: Checkpoint,
  edit: { step: number; text: string },
  replaced: { step: number; content: string }[],
): string {
  const steps = input.restore!.steps;
  if (!Number.isInteger(edit.step) || edit.step < 1 || edit.step > fork.step) {
    throw new UsageError(
      `--answer ${edit.step}=…: the fork keeps steps 1 to ${fork.step}; only their answers can be edited` +
        (fork.step === 0 ? ' (this is the entry checkpoint: there are none)' : ''),
    );
  }
  const original = steps[edit.step - 1]!;
  if (original.kind === 'tool')
    throw new UsageError(
      `--answer ${edit.step}=…: step ${edit.step} is a tool call's result, not an answer: edit the agent's answer after it`,
    );
  if (original.toolCalls?.length)
    throw new UsageError(
      `--answer ${edit.step}=…: step ${edit.step} asked for tools; edit the agent's answer after the calls`,
    );
  if (!edit.text.trim()) throw new UsageError(`--answer ${edit.step}=…: the new answer is empty`);
  const edited: StepResult = { ...original, content: edit.text };
  if (original.kind === 'ledger') {
    try {
      edited.ledger = parseLedger(edit.text, speakersOf(input));
    } catch (err) {
      throw new UsageError(
        `--answer ${edit.step}=…: step ${edit.step} is a progress ledger, and the new one is not valid: ` +
          (err instanceof Error ? err.message : String(err)),
      );
    }
  }
  steps[edit.step - 1] = edited;
  replaced.push({ step: edit.step, content: original.content });
  return `answer of ${label(original, edit.step)}`;
}

/**
 * The input of a fork of `checkpoint`: `seed` (the source's input and its steps up to the checkpoint) with the
 * edits applied, and where it came from. Checked as the workflow will check it (the seed is folded with the
 * workflow's own reducer), so a refused fork starts nothing. The steps are all in it: one too large to start
 * with is made to name its source instead (`piecedWhenLarge`).
 */
export function forkInput(
  seed: TeamInput,
  checkpoint: Checkpoint,
  edits: ForkEdits = {},
  recorded: RecordedToolResult[] = [],
): TeamInput {
  let input: TeamInput = structuredClone(seed);
  const changed: string[] = [];
  const replaced: { step: number; content: string }[] = [];
  for (const edit of edits.answers ?? []) changed.push(editAnswer(input, checkpoint, edit, replaced));
  if (edits.task !== undefined) {
    input.task = validateTask(edits.task);
    changed.push('task');
  }
  if (edits.config) {
    // The team and the run's settings from the new configuration; the task and the seed stay.
    const { task: _task, ...settings } = teamInputFor(input.task, edits.config);
    input = { ...input, ...settings };
    changed.push('team configuration');
  }
  for (const [agent, model] of Object.entries(edits.models ?? {})) {
    const agents = input.team?.agents;
    const found = agents?.find((a) => a.name === agent);
    if (!found) {
      throw new UsageError(
        `--model ${agent}=…: the run has no agent "${agent}"` +
          (agents ? ` (its agents: ${agents.map((a) => a.name).join(', ')})` : ' (it was started without a team)'),
      );
    }
    found.model = model;
    changed.push(`model of ${agent}: ${model}`);
  }
  const note = edits.note?.trim();
  if (edits.note !== undefined && !note) throw new UsageError('--note is empty');
  if (note) changed.push('note for the orchestrator');
  const origin: ForkOrigin = {
    checkpointId: checkpoint.checkpointId,
    workflowId: checkpoint.workflowId,
    runId: checkpoint.runId,
    step: checkpoint.step,
    edits: changed,
    ...(note ? { note } : {}),
    // The first replacement of a step is what the source had.
    ...(replaced.length
      ? { replaced: replaced.filter((r, i) => replaced.findIndex((x) => x.step === r.step) === i) }
      : {}),
    tools: edits.tools ?? 'replay',
    ...((edits.tools ?? 'replay') === 'replay' && recorded.length ? { recordedTools: recorded } : {}),
  };
  input.fork = origin;
  try {
    initialState(input);
  } catch (err) {
    if (err instanceof InvalidTeamInput) throw new UsageError(`the fork would not start: ${err.message}`);
    throw err;
  }
  return input;
}
