/**
 * The offline model's fault injection: a fault on the n-th call to an agent (`OFFLINE_LLM_FAULTS`), or a share of
 * calls failing at random from a seeded generator (`OFFLINE_LLM_FAULT_RATE`, `OFFLINE_LLM_SEED`).
 */
import { ConfigError } from '../../shared/errors';

export const FAULT_KINDS = ['fatal', 'transient', 'ratelimit', 'hang', 'stall', 'malformed'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  agent: string;
  /** 1-based: the n-th call to `agent` in this server process. */
  call: number;
  kind: FaultKind;
}

/** Parses `agent:n:kind[,agent:n:kind…]`; throws a ConfigError naming the bad entry. */
export function parseFaults(spec: string | undefined): FaultSpec[] {
  if (!spec || !spec.trim()) return [];
  return spec.split(',').map((raw) => {
    const entry = raw.trim();
    const [agent, n, kind, ...rest] = entry.split(':');
    const call = Number(n);
    if (!agent || rest.length > 0 || !Number.isInteger(call) || call < 1 || !FAULT_KINDS.includes(kind as FaultKind)) {
      throw new ConfigError(
        `OFFLINE_LLM_FAULTS: "${entry}" is not <agent>:<n>:<kind> with n ≥ 1 and kind one of ${FAULT_KINDS.join(', ')}`,
      );
    }
    return { agent, call, kind: kind as FaultKind };
  });
}

/** A small seeded generator (mulberry32): the same seed gives the same sequence of draws. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
