/**
 * Encryption at rest: with a key configured, Temporal stores no plaintext of the task or the answers, the
 * CLI still lists, shows, resumes and exports, a wrong or missing key is a clear error, rotated keys still
 * decrypt, and the codec server lets Temporal's own tools show payloads decoded.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunOutcome } from '../../src';
import { startCodecServer, type CodecServer } from '../../src/temporal/codec-server';
import { encryptionKeysFromEnv } from '../../src/temporal/codec';
import { parseFaults, startOfflineLlm } from '../../src/llm/offline-server';
import { cleanEnv, cli, temporal, temporalJson, writeConfig } from '../cli-helpers';
import { testAddress, uniqueId } from '../helpers';

const TASK = 'Compare quicksort and mergesort';
/** Text that must never appear in plaintext: the task, and words of each member's answer. */
const SECRETS = ['quicksort and mergesort', 'Key facts', 'Reference code', 'Analysis: on random data'];
const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;
const key = (): string => randomBytes(32).toString('base64');

/** Every string in the raw history, and every base64 field decoded. */
function plaintextOf(json: string): string {
  const parts: string[] = [json];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (/^[A-Za-z0-9+/]+=*$/.test(v) && v.length % 4 === 0) parts.push(Buffer.from(v, 'base64').toString('utf8'));
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(JSON.parse(json));
  return parts.join('\n');
}

describe('encryption at rest (AGENT_TEAM_ENCRYPTION_KEY)', () => {
  const k1 = key();
  let env: NodeJS.ProcessEnv;
  let config: string;
  let outcome: RunOutcome;
  let raw: string;

  beforeAll(async () => {
    env = cleanEnv({
      TEMPORAL_ADDRESS: testAddress(),
      AGENT_TEAM_ENCRYPTION_KEY: k1,
      AGENT_TEAM_ENCRYPTION_KEY_ID: 'k1',
    });
    config = writeConfig(dir(), `temporal:\n  task_queue: ${uniqueId('tq')}\n`);
    const run = await cli(['run', TASK, '--offline', '--json', '--config', config], env);
    expect(run.code).toBe(0);
    outcome = JSON.parse(run.stdout) as RunOutcome;
    raw = await temporalJson('show', testAddress(), outcome.workflowId);
  });

  it('the server stores no plaintext of the task or of any answer; the CLI reads it all', async () => {
    expect(outcome.result?.answer).toContain(TASK);
    expect(plaintextOf(raw)).toContain('binary/encrypted');
    const stored = plaintextOf(raw);
    for (const secret of SECRETS) expect(stored).not.toContain(secret);
    // and the same search finds them when the payloads are plaintext (the check can fail)
    const plain = await cli(
      ['run', TASK, '--offline', '--json', '--config', config],
      cleanEnv({ TEMPORAL_ADDRESS: testAddress() }),
    );
    const plainRun = JSON.parse(plain.stdout) as RunOutcome;
    const plainRaw = await temporalJson('show', testAddress(), plainRun.workflowId);
    for (const secret of SECRETS) expect(plaintextOf(plainRaw)).toContain(secret);

    const at4 = outcome.checkpoints.find((c) => c.step === 4)!;
    const shown = await cli(['checkpoints', 'show', at4.checkpointId, '--json', '--config', config], env);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ step: 4, state: { task: TASK, steps: 4 } });
    const listed = await cli(['checkpoints', 'list', '-w', outcome.workflowId, '--json', '--config', config], env);
    expect(JSON.parse(listed.stdout)).toHaveLength(10);
    const file = join(dir(), `${uniqueId('enc-export')}.json`);
    expect((await cli(['checkpoints', 'export', outcome.workflowId, '-o', file, '--config', config], env)).code).toBe(
      0,
    );
    expect((await cli(['checkpoints', 'import', file, '--verify-only', '--config', config], env)).code).toBe(0);
  });

  it('a missing or wrong key is a clear error (exit 2), never garbage', async () => {
    const cp = outcome.checkpoints[1]!.checkpointId;
    const none = await cli(
      ['checkpoints', 'show', cp, '--config', config],
      cleanEnv({ TEMPORAL_ADDRESS: testAddress() }),
    );
    expect(none.stderr).toContain('this run is encrypted and no key is configured here');
    expect(none.code).toBe(2);
    const wrong = await cli(['checkpoints', 'show', cp, '--config', config], {
      ...env,
      AGENT_TEAM_ENCRYPTION_KEY: key(),
    });
    expect(wrong.stderr).toContain(
      'cannot decrypt a payload with key id "k1": the configured key for that id is not the one',
    );
    expect(wrong.code).toBe(2);
    const bad = await cli(['checkpoints', 'show', cp, '--config', config], {
      ...env,
      AGENT_TEAM_ENCRYPTION_KEY: 'c2hvcnQ=',
    });
    expect(bad.stderr).toContain('AGENT_TEAM_ENCRYPTION_KEY must be the base64 of exactly 32 bytes (it decodes to 5)');
    expect(bad.code).toBe(2);
  });

  it('after a rotation (a key file listing the old key), old runs still decrypt and resume under the new key', async () => {
    const keyFile = join(dir(), `${uniqueId('keys')}.json`);
    writeFileSync(keyFile, JSON.stringify({ current: 'k2', keys: { k1, k2: key() } }));
    const rotated = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), AGENT_TEAM_ENCRYPTION_KEY_FILE: keyFile });
    const at4 = outcome.checkpoints.find((c) => c.step === 4)!;
    const resumed = await cli(['resume', at4.checkpointId, '--offline', '--json', '--config', config], rotated);
    expect(resumed.code).toBe(0);
    const r = JSON.parse(resumed.stdout) as RunOutcome;
    expect(r).toMatchObject({ status: 'COMPLETED', executedSteps: 5 });
    const history = await temporalJson('show', testAddress(), outcome.workflowId, r.runId);
    expect(plaintextOf(history)).toContain('k2'); // new payloads name the new key id
    for (const secret of SECRETS) expect(plaintextOf(history)).not.toContain(secret);
  });

  describe('the codec server', () => {
    let server: CodecServer;
    const uiOrigin = 'http://127.0.0.1:8233';
    beforeAll(async () => {
      const keys = encryptionKeysFromEnv({ AGENT_TEAM_ENCRYPTION_KEY: k1, AGENT_TEAM_ENCRYPTION_KEY_ID: 'k1' })!;
      server = await startCodecServer({ keys, port: 0, uiOrigin, token: 'sesame' });
    });
    afterAll(async () => server?.close());

    it('lets `temporal workflow show --codec-endpoint` show the payloads decoded', async () => {
      const shown = await temporal([
        'workflow',
        'show',
        '--address',
        testAddress(),
        '-w',
        outcome.workflowId,
        '-r',
        outcome.runId,
        '-o',
        'json',
        '--codec-endpoint',
        server.url,
        '--codec-auth',
        'Bearer sesame',
      ]);
      expect(shown.code).toBe(0);
      expect(plaintextOf(shown.stdout)).toContain('quicksort and mergesort');
    });

    it('answers CORS for the UI origin only, and requires the token', async () => {
      const preflight = (origin: string) =>
        fetch(`${server.url}/decode`, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST' },
        });
      expect((await preflight(uiOrigin)).headers.get('access-control-allow-origin')).toBe(uiOrigin);
      expect((await preflight('http://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
      const unauth = await fetch(`${server.url}/decode`, { method: 'POST', body: '{"payloads":[]}' });
      expect(unauth.status).toBe(401);
      const ok = await fetch(`${server.url}/decode`, {
        method: 'POST',
        headers: { authorization: 'Bearer sesame', 'content-type': 'application/json' },
        body: '{"payloads":[]}',
      });
      expect(await ok.json()).toEqual({ payloads: [] });
    });
  });
});

describe('secrets: the LLM and Temporal API keys appear nowhere', () => {
  it('not in history, memo, search attributes, the audit trail, exports or any output', async () => {
    const llmKey = `sk-test-${randomBytes(12).toString('hex')}`;
    const temporalKey = `tk-test-${randomBytes(12).toString('hex')}`;
    const llm = await startOfflineLlm({ faults: parseFaults('analyst:1:fatal') });
    try {
      const config = writeConfig(dir(), `temporal:\n  task_queue: ${uniqueId('tq')}\n`);
      const env = cleanEnv({
        TEMPORAL_ADDRESS: testAddress(),
        TEMPORAL_API_KEY: temporalKey,
        TEMPORAL_TLS: 'false', // the dev server has no TLS; the key is still sent with every call
        OPENAI_API_KEY: llmKey,
        OPENAI_BASE_URL: llm.baseURL,
        AGENT_TEAM_LOG_LEVEL: 'DEBUG',
      });
      const outputs: string[] = [];
      const run = await cli(['run', TASK, '--json', '--config', config], env);
      outputs.push(run.stdout, run.stderr);
      expect(run.code).toBe(1); // the analyst's call fails (HTTP 400): error paths are scanned too
      const failed = JSON.parse(run.stdout) as RunOutcome;
      const last = failed.checkpoints.at(-1)!.checkpointId;
      const resumed = await cli(['resume', last, '--json', '--config', config], env);
      outputs.push(resumed.stdout, resumed.stderr);
      expect(resumed.code).toBe(0);
      for (const args of [
        ['history', failed.workflowId, '--json', '--full'],
        ['timeline', failed.workflowId, '--format', 'html'],
        ['checkpoints', 'show', last, '--json'],
        ['checkpoints', 'export', failed.workflowId, '--all-runs'],
      ]) {
        const r = await cli([...args, '--config', config], env);
        expect([args[0], r.code]).toEqual([args[0], 0]);
        outputs.push(r.stdout, r.stderr);
      }
      for (const runId of [failed.runId, (JSON.parse(resumed.stdout) as RunOutcome).runId]) {
        const shown = await temporalJson('show', testAddress(), failed.workflowId, runId);
        const described = await temporalJson('describe', testAddress(), failed.workflowId, runId);
        outputs.push(plaintextOf(shown), plaintextOf(described));
      }
      const everything = outputs.join('\n');
      expect(everything).toContain(failed.workflowId); // the scan covers real output
      expect(everything).not.toContain(llmKey);
      expect(everything).not.toContain(temporalKey);
    } finally {
      await llm.close();
    }
  });
});
