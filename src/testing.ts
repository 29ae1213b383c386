/**
 * `durable-agent-team/testing`: the offline model, an OpenAI-compatible HTTP server that answers deterministically,
 * logs every request and injects faults on the n-th call to an agent, for tests and demos that must not touch the
 * internet (docs/configuration.md, "The offline model").
 */
export {
  FAULT_KINDS,
  parseFaults,
  readOfflineLlmLog,
  startOfflineLlm,
  type FaultKind,
  type FaultSpec,
  type OfflineLlmLogEntry,
  type OfflineLlmOptions,
  type OfflineLlmServer,
} from './llm/offline-server';
