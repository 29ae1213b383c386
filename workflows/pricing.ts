/**
 * What steps cost: USD per million tokens by model (the run's price table, in its input), and how people read it.
 *
 * No I/O, no clock, no randomness: bundled into the workflow sandbox.
 */
import type { ModelPrice, TokenUsage } from './types';

/** The price of a model: its own entry, or, for a dated version an endpoint reports (`gpt-4o-2024-08-06`), its base's. */
function priceOf(model: string, pricing: Record<string, ModelPrice>): ModelPrice | undefined {
  return pricing[model] ?? pricing[model.replace(/-\d{4}-\d{2}-\d{2}$/, '')];
}

/** What a step cost in USD: its tokens at the run's prices for its model (0 for a model without a price). */
export function costOf(usage: TokenUsage, model: string, pricing: Record<string, ModelPrice>): number {
  const price = priceOf(model, pricing);
  if (!price) return 0;
  const cached = Math.min(usage.cachedPromptTokens ?? 0, usage.promptTokens);
  return (
    ((usage.promptTokens - cached) * price.input + cached * price.cachedInput + usage.completionTokens * price.output) /
    1_000_000
  );
}

/** Whether a model has a price in the table (a USD budget needs every model's). */
export const isPriced = (model: string, pricing: Record<string, ModelPrice>): boolean =>
  priceOf(model, pricing) !== undefined;

/** USD as people read it: 6 decimals under a cent, 4 under a dollar, else 2. */
export const formatUsd = (usd: number): string => `$${usd.toFixed(usd < 0.01 ? 6 : usd < 1 ? 4 : 2)}`;
