/**
 * The progress ledger's schema, validated with zod at the boundary where the LLM's JSON enters the system,
 * and sent to the model as `response_format: json_schema` (strict), with the team's names as the only
 * allowed `next_speaker` values.
 */
import { z } from 'zod';
import type { ProgressLedger } from '../workflows/types';

const flag = z.strictObject({ reason: z.string(), answer: z.boolean() });

/** The zod schema of a progress ledger for a team whose speakers are `speakers`. */
export function ledgerSchema(speakers: readonly [string, ...string[]]) {
  return z.strictObject({
    is_request_satisfied: flag,
    is_in_loop: flag,
    is_progress_being_made: flag,
    next_speaker: z.strictObject({ reason: z.string(), answer: z.enum(speakers) }),
    instruction_or_question: z.strictObject({ reason: z.string(), answer: z.string() }),
  });
}

/** The JSON Schema sent to the model (OpenAI structured outputs). */
export function ledgerJsonSchema(speakers: readonly [string, ...string[]]): Record<string, unknown> {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(ledgerSchema(speakers)) as Record<string, unknown>;
  return schema;
}

/** Parses and validates the model's answer; throws an Error saying exactly what is wrong. */
export function parseLedger(content: string, speakers: readonly [string, ...string[]]): ProgressLedger {
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch {
    throw new Error(`not JSON: ${JSON.stringify(content.slice(0, 120))}`);
  }
  const parsed = ledgerSchema(speakers).safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(issues);
  }
  return parsed.data;
}
