/**
 * OpenTelemetry traces of real runs, exported by OTLP over HTTP to a receiver this test runs: one trace per
 * run, a span per step attempt carrying the step's agent, round, kind, tokens and attempt; a retry; a resume.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunOutcome } from '../../src';
import { cleanEnv, cli, writeConfig } from '../cli-helpers';
import { testAddress, uniqueId } from '../helpers';

const TASK = 'Compare quicksort and mergesort';
const dir = (): string => process.env.AGENT_TEAM_TEST_DIR as string;

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  status?: { code?: number };
  attributes: Record<string, string | number | boolean>;
}

/** An OTLP/HTTP (JSON) trace receiver: what a collector would get. */
class Receiver {
  readonly spans: Span[] = [];
  private server!: Server;
  endpoint = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const parsed = JSON.parse(body) as {
          resourceSpans: { scopeSpans: { spans: (Omit<Span, 'attributes'> & { attributes?: OtlpAttribute[] })[] }[] }[];
        };
        for (const rs of parsed.resourceSpans)
          for (const ss of rs.scopeSpans)
            for (const span of ss.spans) this.spans.push({ ...span, attributes: attributesOf(span.attributes ?? []) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** The spans of the traces that hold the start or a run of this workflow. */
  traceOf(workflowId: string): Span[] {
    // (Other client calls, such as the DescribeWorkflow calls of `resume`, are traces of their own.)
    const ids = new Set(
      this.spans
        .filter((s) => s.attributes.temporalWorkflowId === workflowId && /^(Start|Run)Workflow:/.test(s.name))
        .map((s) => s.traceId),
    );
    return this.spans.filter((s) => ids.has(s.traceId));
  }
}

type OtlpAttribute = { key: string; value: Record<string, unknown> };
function attributesOf(list: OtlpAttribute[]): Span['attributes'] {
  const out: Span['attributes'] = {};
  for (const { key, value } of list) {
    const v = value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue;
    out[key] = typeof v === 'string' && value.intValue !== undefined ? Number(v) : (v as string | number | boolean);
  }
  return out;
}

/** The steps of a trace's activity spans, in order: "step agent kind attempt". */
const stepsOf = (spans: Span[]): string[] =>
  spans
    .filter((s) => s.name === 'RunActivity:callAgent')
    .map((s) => s.attributes)
    .sort(
      (a, b) =>
        Number(a['agent_team.step']) - Number(b['agent_team.step']) ||
        Number(a['agent_team.attempt']) - Number(b['agent_team.attempt']),
    )
    .map((a) => `${a['agent_team.step']} ${a['agent_team.agent']} ${a['agent_team.kind']} ${a['agent_team.attempt']}`);

describe('OpenTelemetry traces', () => {
  const receiver = new Receiver();
  let config: string;
  const env = (more: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv =>
    cleanEnv({
      TEMPORAL_ADDRESS: testAddress(),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_SERVICE_NAME: 'agent-team-test',
      ...more,
    });

  beforeAll(async () => {
    await receiver.start();
    config = writeConfig(
      dir(),
      `temporal:\n  task_queue: ${uniqueId('otel')}\nllm:\n  initial_retry_ms: 50\n  max_retry_ms: 100\n`,
    );
  });
  afterAll(() => receiver.stop());

  it('a run is one trace: the start, the workflow, and a span per step with its agent, round, kind and tokens', async () => {
    const workflowId = uniqueId('traced');
    const r = await cli(['run', TASK, '--offline', '--json', '--workflow-id', workflowId, '--config', config], env());
    expect(r.code).toBe(0);
    const outcome = JSON.parse(r.stdout) as RunOutcome;
    const spans = receiver.traceOf(workflowId);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parent = (s: Span): string => byId.get(s.parentSpanId ?? '')?.name ?? '(root)';
    const start = spans.find((s) => s.name === 'StartWorkflow:agentTeamWorkflow')!;
    const workflow = spans.find((s) => s.name === 'RunWorkflow:agentTeamWorkflow')!;
    expect(parent(start)).toBe('(root)');
    expect(parent(workflow)).toBe('StartWorkflow:agentTeamWorkflow');
    const steps = spans.filter((s) => s.name === 'RunActivity:callAgent');
    expect(steps.map(parent)).toEqual(steps.map(() => 'StartActivity:callAgent'));
    expect(spans.filter((s) => s.name === 'StartActivity:callAgent').map(parent)).toEqual(
      steps.map(() => 'RunWorkflow:agentTeamWorkflow'),
    );
    expect(stepsOf(spans)).toEqual(outcome.steps.map((s) => `${s.step} ${s.agent} ${s.kind} 1`));
    // Each step's span carries what the step's result in history says.
    for (const step of outcome.steps) {
      const a = steps.find((s) => s.attributes['agent_team.step'] === step.step)!.attributes;
      expect(a).toMatchObject({
        'agent_team.round': step.round,
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.usage.input_tokens': step.usage.promptTokens,
        'gen_ai.usage.output_tokens': step.usage.completionTokens,
        temporalWorkflowId: workflowId,
        run_id: outcome.runId,
      });
    }
  });

  it('a retried step has a span per attempt, the failed one marked as an error', async () => {
    const workflowId = uniqueId('retried');
    const r = await cli(
      ['run', TASK, '--offline', '--json', '--workflow-id', workflowId, '--config', config],
      env({ OFFLINE_LLM_FAULTS: 'researcher:1:transient' }),
    );
    expect(r.code).toBe(0);
    const spans = receiver.traceOf(workflowId);
    expect(stepsOf(spans).filter((s) => s.startsWith('3 '))).toEqual(['3 researcher agent 1', '3 researcher agent 2']);
    const attempts = spans.filter((s) => s.attributes['agent_team.step'] === 3);
    expect(attempts.find((s) => s.attributes['agent_team.attempt'] === 1)!.status?.code).toBe(2); // ERROR
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
  });

  it('a resumed run traces only the steps it executes, in the trace of the run it resumes', async () => {
    const workflowId = uniqueId('resumed');
    const failed = await cli(
      ['run', TASK, '--offline', '--json', '--workflow-id', workflowId, '--config', config],
      env({ OFFLINE_LLM_FAULTS: 'coder:1:fatal' }),
    );
    expect(failed.code).toBe(1);
    const before = stepsOf(receiver.traceOf(workflowId));
    expect(before).toEqual([
      '1 orchestrator plan 1',
      '2 orchestrator ledger 1',
      '3 researcher agent 1',
      '4 orchestrator ledger 1',
      '5 coder agent 1',
    ]);
    const resumed = await cli(['resume', `${workflowId}@4`, '--offline', '--json', '--config', config], env());
    expect(resumed.code).toBe(0);
    const outcome = JSON.parse(resumed.stdout) as RunOutcome;
    const spans = receiver.traceOf(workflowId).filter((s) => s.attributes.run_id === outcome.runId);
    expect(stepsOf(spans)).toEqual([
      '5 coder agent 1',
      '6 orchestrator ledger 1',
      '7 analyst agent 1',
      '8 orchestrator ledger 1',
      '9 orchestrator final 1',
    ]);
    // A reset keeps the run's start header, so the resumed run joins the first run's trace: one trace per
    // workflow, a RunWorkflow span per run, both children of the one StartWorkflow.
    const all = receiver.traceOf(workflowId);
    expect(new Set(all.map((s) => s.traceId)).size).toBe(1);
    const starts = all.filter((s) => s.name === 'StartWorkflow:agentTeamWorkflow');
    expect(starts).toHaveLength(1);
    const runs = all.filter((s) => s.name === 'RunWorkflow:agentTeamWorkflow');
    expect(runs.map((s) => s.parentSpanId)).toEqual([starts[0]!.spanId, starts[0]!.spanId]);
  });

  it('a collector that is down costs the spans, not the command; console spans go to stderr; a bad setting is exit 2', async () => {
    const down = await cli(
      ['run', TASK, '--offline', '--json', '--config', config],
      env({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }),
    );
    expect(down.code).toBe(0);
    expect((JSON.parse(down.stdout) as RunOutcome).status).toBe('COMPLETED');
    expect(down.stderr).toContain('note: traces could not be sent (');
    const consoled = await cli(
      ['run', TASK, '--offline', '--json', '--config', config],
      cleanEnv({ TEMPORAL_ADDRESS: testAddress(), OTEL_TRACES_EXPORTER: 'console' }),
    );
    expect(consoled.code).toBe(0);
    const outcome = JSON.parse(consoled.stdout) as RunOutcome; // stdout is the result alone
    const lines = consoled.stderr.split('\n').filter((l) => l.startsWith('{"trace":'));
    const names = lines.map((l) => (JSON.parse(l) as { name: string }).name);
    expect(names.filter((n) => n === 'RunActivity:callAgent')).toHaveLength(outcome.steps.length);
    for (const [variable, value, message] of [
      ['OTEL_TRACES_EXPORTER', 'otpl', 'OTEL_TRACES_EXPORTER: "otpl" is not an exporter this project has'],
      ['OTEL_EXPORTER_OTLP_ENDPOINT', 'not-a-url', 'OTEL_EXPORTER_OTLP_ENDPOINT: "not-a-url" is not an http(s) URL'],
    ] as const) {
      const bad = await cli(
        ['checkpoints', 'list', '--config', config],
        cleanEnv({ TEMPORAL_ADDRESS: testAddress(), [variable]: value }),
      );
      expect(bad.stderr).toContain(message);
      expect(bad.code).toBe(2);
    }
  });
});
