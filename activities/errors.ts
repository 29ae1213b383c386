/**
 * How an LLM call's failure maps onto Temporal's retry machinery. Requests that can never succeed
 * (bad request, auth, unknown model) fail at once, naming the agent, the round, the HTTP status and what
 * to fix; everything that can clear (timeouts, connection resets, 408/409/429/5xx) is retried by the
 * activity's retry policy, waiting at least what the endpoint's Retry-After asks.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';

/** Failure types (ApplicationFailure.type) raised by `callAgent`. */
export const LlmFailureType = {
  /** Non-retryable: the endpoint refused the request (400/401/403/404/422 and other 4xx). */
  Rejected: 'LlmRequestRejected',
  /** Retryable: 408/409/429/5xx. */
  Unavailable: 'LlmUnavailable',
  /** Retryable: no answer within the timeout. */
  Timeout: 'LlmTimeout',
  /** Retryable: the connection failed or was reset. */
  Connection: 'LlmConnectionError',
  /** Retryable: the answer was not a valid progress ledger. */
  InvalidOutput: 'LlmInvalidOutput',
  /** Non-retryable: the workflow asked for an agent the worker does not have. */
  UnknownAgent: 'UnknownAgent',
  /**
   * Non-retryable: nothing listens at a local endpoint that has not answered this worker yet (connection refused on
   * a loopback address): a misconfigured OPENAI_BASE_URL, which no retry fixes.
   */
  Unreachable: 'LlmEndpointUnreachable',
  /**
   * Retryable: an endpoint that answered before refuses connections now (a local model server restarting, an OOM
   * kill, a model reload): an outage like any other, retried with backoff, then resumed automatically.
   */
  Down: 'LlmEndpointDown',
} as const;

const RETRYABLE_STATUS = new Set([408, 409, 429]);

const HINTS: Record<number, string> = {
  400: 'check the model settings and prompt in config/workflow.yaml',
  401: 'check OPENAI_API_KEY',
  403: 'check that OPENAI_API_KEY may use this model',
  404: 'check the model name in config/workflow.yaml and OPENAI_BASE_URL',
  422: 'check the model settings and prompt in config/workflow.yaml',
};

/** Reads Retry-After (seconds or an HTTP date) or retry-after-ms; undefined when absent or unusable. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  const ms = Number(headers?.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The system error under a failed connection (`ECONNREFUSED` and its address), if any. */
function socketError(err: unknown): { code: string; address?: string; port?: number } | undefined {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const { code, address, port } = e as { code?: unknown; address?: unknown; port?: unknown };
    if (typeof code === 'string' && code.startsWith('E')) {
      return {
        code,
        ...(typeof address === 'string' ? { address } : {}),
        ...(typeof port === 'number' ? { port } : {}),
      };
    }
  }
  return undefined;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** What the caller knows of the endpoint when a call fails. */
export interface EndpointHistory {
  /**
   * The endpoint answered before (a response of any status in this worker, or the check before start): a refused
   * connection is then an outage, not a misconfiguration. @default false
   */
  answered?: boolean;
}

/**
 * Turns whatever the `openai` client threw into the ApplicationFailure Temporal should see. `baseURL` names the
 * endpoint in messages. A refused connection to a loopback address of an endpoint that never answered means
 * nothing listens there: a configuration problem that no retry fixes, so it fails at once. Once the endpoint has
 * answered, a refused connection is a server going away for a while (a restart), retried like any other outage.
 */
export function classifyLlmError(
  err: unknown,
  agent: string,
  round: number,
  baseURL?: string,
  endpoint: EndpointHistory = {},
): ApplicationFailure {
  const where = `${agent} (round ${round})`;
  if (err instanceof APIConnectionTimeoutError) {
    return ApplicationFailure.retryable(`${where}: the LLM call timed out`, LlmFailureType.Timeout);
  }
  const socket = err instanceof APIConnectionError ? socketError(err) : undefined;
  const url = baseURL ?? `${socket?.address}:${socket?.port ?? '?'}`;
  if (socket?.code === 'ECONNREFUSED' && endpoint.answered) {
    return ApplicationFailure.create({
      message: `${where}: the LLM endpoint ${url} is down (connection refused)`,
      type: LlmFailureType.Down,
      details: [{ agent, round, url }],
    });
  }
  if (socket?.code === 'ECONNREFUSED' && socket.address && LOOPBACK.test(socket.address)) {
    return ApplicationFailure.create({
      message:
        `${where}: nothing listens at ${url} (connection refused), and it has not answered this worker yet: ` +
        'check OPENAI_BASE_URL, then resume from the last checkpoint',
      type: LlmFailureType.Unreachable,
      nonRetryable: true,
      details: [{ agent, round, url }],
    });
  }
  if (err instanceof APIConnectionError) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return ApplicationFailure.retryable(
      `${where}: could not reach the LLM endpoint${cause}`,
      LlmFailureType.Connection,
    );
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const status = err.status;
    // The client's message starts with the status again ("400 bad request"): say it once.
    const detail = `${where}: the LLM endpoint answered HTTP ${status}: ${err.message.replace(new RegExp(`^${status}\\s+`), '')}`;
    if (RETRYABLE_STATUS.has(status) || status >= 500) {
      const delay = retryAfterMs(err.headers);
      return ApplicationFailure.create({
        message: detail,
        type: LlmFailureType.Unavailable,
        details: [{ agent, round, status }],
        ...(delay !== undefined ? { nextRetryDelay: delay } : {}),
      });
    }
    const hint = HINTS[status] ?? 'fix the request and resume the run';
    return ApplicationFailure.create({
      message: `${detail} — ${hint}, then resume from the last checkpoint`,
      type: LlmFailureType.Rejected,
      nonRetryable: true,
      details: [{ agent, round, status }],
    });
  }
  if (err instanceof ApplicationFailure) return err;
  const message = err instanceof Error ? err.message : String(err);
  return ApplicationFailure.retryable(`${where}: ${message}`, LlmFailureType.Connection);
}
