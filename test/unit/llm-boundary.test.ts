import { ApplicationFailure } from '@temporalio/common';
import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { LlmFailureType, classifyLlmError, retryAfterMs } from '../../activities/errors';
import { nextTry } from '../../activities';
import { ledgerJsonSchema, parseLedger } from '../../activities/ledger';
import { parseFaults } from '../../src/llm/offline-server';
import { ConfigError } from '../../src/shared/errors';
import { cliCommand } from '../../src/cli/hints';

const speakers = ['researcher', 'coder'] as [string, ...string[]];
const valid = {
  is_request_satisfied: { reason: 'r', answer: false },
  is_in_loop: { reason: 'r', answer: false },
  is_progress_being_made: { reason: 'r', answer: true },
  next_speaker: { reason: 'r', answer: 'coder' },
  instruction_or_question: { reason: 'r', answer: 'write it' },
};

describe('progress ledger validation', () => {
  it('accepts a valid ledger', () => {
    expect(parseLedger(JSON.stringify(valid), speakers)).toEqual(valid);
  });
  it('names what is wrong', () => {
    expect(() => parseLedger('{nope', speakers)).toThrow('not JSON: "{nope"');
    expect(() =>
      parseLedger(JSON.stringify({ ...valid, next_speaker: { reason: 'r', answer: 'poet' } }), speakers),
    ).toThrow(/next_speaker\.answer: Invalid option: expected one of "researcher"\|"coder"/);
    const { is_in_loop: _missing, ...partial } = valid;
    expect(() => parseLedger(JSON.stringify(partial), speakers)).toThrow(/is_in_loop: Invalid input/);
  });
  it('gives the model a strict JSON schema with the team as the only speakers', () => {
    const schema = ledgerJsonSchema(speakers) as {
      additionalProperties: boolean;
      properties: Record<string, { properties: { answer: { enum?: string[] } } }>;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.next_speaker?.properties.answer.enum).toEqual(['researcher', 'coder']);
    expect(schema).not.toHaveProperty('$schema');
  });
});

describe('LLM error classification', () => {
  const apiError = (status: number, headers: Record<string, string> = {}) =>
    APIError.generate(status, { error: { message: 'boom' } }, 'boom', new Headers(headers));

  it.each([400, 401, 403, 404, 422])('HTTP %i is non-retryable and says what to fix', (status) => {
    const failure = classifyLlmError(apiError(status), 'coder', 2);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe(LlmFailureType.Rejected);
    expect(failure.message).toMatch(
      new RegExp(
        `^coder \\(round 2\\): the LLM endpoint answered HTTP ${status}: .* — .*then resume from the last checkpoint$`,
      ),
    );
    expect(failure.details).toEqual([{ agent: 'coder', round: 2, status }]);
  });

  it.each([408, 409, 429, 500, 502, 503])('HTTP %i is retryable', (status) => {
    const failure = classifyLlmError(apiError(status), 'coder', 2);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.type).toBe(LlmFailureType.Unavailable);
    expect(failure.nextRetryDelay).toBeUndefined();
  });

  it('honours Retry-After as the next retry delay', () => {
    expect(classifyLlmError(apiError(429, { 'retry-after': '3' }), 'a', 1).nextRetryDelay).toBe(3000);
    expect(classifyLlmError(apiError(503, { 'retry-after-ms': '250' }), 'a', 1).nextRetryDelay).toBe(250);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now)).toBe(5000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterMs(new Headers(), now)).toBeUndefined();
  });

  it('treats timeouts and connection failures as retryable', () => {
    expect(classifyLlmError(new APIConnectionTimeoutError(), 'a', 1)).toMatchObject({
      type: LlmFailureType.Timeout,
      nonRetryable: false,
    });
    expect(classifyLlmError(new APIConnectionError({ cause: new Error('ECONNRESET') }), 'a', 1)).toMatchObject({
      type: LlmFailureType.Connection,
      nonRetryable: false,
      message: 'a (round 1): could not reach the LLM endpoint: ECONNRESET',
    });
    expect(classifyLlmError(ApplicationFailure.nonRetryable('x', 'T'), 'a', 1).type).toBe('T');
  });
});

describe('OFFLINE_LLM_FAULTS', () => {
  it('parses agent:n:kind lists', () => {
    expect(parseFaults('coder:1:fatal, orchestrator:3:stall')).toEqual([
      { agent: 'coder', call: 1, kind: 'fatal' },
      { agent: 'orchestrator', call: 3, kind: 'stall' },
    ]);
    expect(parseFaults('')).toEqual([]);
  });
  it.each(['coder:0:fatal', 'coder:x:fatal', 'coder:1:explode', 'coder:1', ':1:fatal', 'coder:1:fatal:extra'])(
    'rejects %s',
    (spec) => {
      expect(() => parseFaults(spec)).toThrow(ConfigError);
    },
  );
});

describe('a refused connection to a local endpoint', () => {
  const refused = (address: string): APIConnectionError =>
    new APIConnectionError({
      cause: Object.assign(new TypeError('fetch failed'), {
        cause: Object.assign(new Error(`connect ECONNREFUSED ${address}:9`), {
          code: 'ECONNREFUSED',
          address,
          port: 9,
        }),
      }),
    });

  it('fails the step at once (non-retryable), naming the endpoint, when it never answered', () => {
    const failure = classifyLlmError(refused('127.0.0.1'), 'coder', 2, 'http://127.0.0.1:9/v1');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe(LlmFailureType.Unreachable);
    expect(failure.message).toBe(
      'coder (round 2): nothing listens at http://127.0.0.1:9/v1 (connection refused), and it has not answered this ' +
        'worker yet: check OPENAI_BASE_URL, then resume from the last checkpoint',
    );
  });

  it('is an outage, retried, once the endpoint has answered (a local server restarting)', () => {
    const failure = classifyLlmError(refused('127.0.0.1'), 'coder', 2, 'http://127.0.0.1:9/v1', { answered: true });
    expect(failure.nonRetryable).toBe(false);
    expect(failure.type).toBe(LlmFailureType.Down);
    expect(failure.message).toBe(
      'coder (round 2): the LLM endpoint http://127.0.0.1:9/v1 is down (connection refused)',
    );
  });

  it('is retried when the endpoint is remote (a load balancer restarting)', () => {
    const failure = classifyLlmError(refused('10.1.2.3'), 'coder', 2, 'http://10.1.2.3:9/v1');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.type).toBe(LlmFailureType.Connection);
  });
});

describe('the next try, as the worker logs it', () => {
  const policy = { initialInterval: 1_000, backoffCoefficient: 2, maximumInterval: 30_000, maximumAttempts: 4 };
  const down = ApplicationFailure.create({ message: 'down', type: LlmFailureType.Down });
  it.each([
    [1, 'next try in 1 s (attempt 2 of 4)'],
    [2, 'next try in 2 s (attempt 3 of 4)'],
    [3, 'next try in 4 s (attempt 4 of 4)'],
    [4, 'that was its last try (4 of 4)'],
  ])('after attempt %d: %s', (attempt, words) => {
    expect(nextTry({ attempt, retryPolicy: policy }, down)).toBe(words);
  });
  it('caps the wait at maximumInterval and honours Retry-After', () => {
    expect(nextTry({ attempt: 9, retryPolicy: { ...policy, maximumAttempts: 0 } }, down)).toBe(
      'next try in 30 s (attempt 10)',
    );
    const limited = ApplicationFailure.create({ message: '429', nextRetryDelay: 7_000 });
    expect(nextTry({ attempt: 1, retryPolicy: policy }, limited)).toBe('next try in 7 s (attempt 2 of 4)');
  });
  it('says a non-retryable failure is not retried', () => {
    expect(nextTry({ attempt: 1, retryPolicy: policy }, ApplicationFailure.nonRetryable('400'))).toBe(
      'not retried (it cannot succeed as it is)',
    );
  });
});

describe('hints name the command as the user runs it', () => {
  it.each([
    [{ npm_lifecycle_event: 'start', npm_package_name: 'durable-agent-team' }, 'npm start --'],
    [{ npm_command: 'exec' }, 'npx agent-team'],
    [{}, 'agent-team'],
  ])('%j → %s', (env, command) => expect(cliCommand(env)).toBe(command));
});
