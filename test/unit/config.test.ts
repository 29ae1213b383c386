import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultTeam, loadConfig, parseConfig, teamInputFor } from '../../src/config';
import { ConfigError } from '../../src/shared/errors';
import { DEFAULT_SETTINGS } from '../../workflows/types';

const dir = mkdtempSync(join(tmpdir(), 'config-test-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('the shipped config/workflow.yaml equals the built-in defaults', () => {
    const shipped = loadConfig(join(__dirname, '../../config/workflow.yaml'));
    const builtIn = parseConfig({});
    expect({ ...shipped, source: null, agents: undefined }).toEqual({ ...builtIn, agents: undefined });
    expect(teamInputFor('t', shipped)).toEqual({
      task: 't',
      ...DEFAULT_SETTINGS,
      team: { agents: defaultTeam(), temperature: 0 },
      mcpServers: [],
      session: { idleTimeout: null },
      continueAsNewAfterEvents: 10_000,
      // The prices of the team's models, from the shipped snapshot.
      pricing: { 'gpt-4o-mini': { input: 0.15, cachedInput: 0.075, output: 0.6 } },
    });
    expect(shipped.team.map((a) => a.name)).toEqual(['orchestrator', 'researcher', 'coder', 'analyst']);
  });

  it('an agent naming an MCP server that is not configured, or a tool nobody has, is refused naming both', () => {
    expect(() => parseConfig({ agents: { orchestrator: {}, coder: { tools: ['mcp:kb'] } } }, 'w.yaml')).toThrow(
      'invalid configuration in w.yaml:\n  - agents.coder.tools: no MCP server named "kb" under mcp_servers',
    );
    expect(() =>
      parseConfig({
        mcp_servers: { kb: { command: 'x', url: 'http://h/mcp' } },
        agents: { orchestrator: {}, coder: {} },
      }),
    ).toThrow('mcp_servers.kb: give a command (stdio) or a url (streamable HTTP), one of them');
    const ok = parseConfig({
      mcp_servers: { kb: { url: 'http://127.0.0.1:3000/mcp' } },
      agents: { orchestrator: {}, coder: { tools: ['mcp:kb', 'run_code'] } },
    });
    expect(teamInputFor('t', ok)).toMatchObject({
      mcpServers: [{ name: 'kb', url: 'http://127.0.0.1:3000/mcp' }],
      team: { tools: [{ name: 'run_code', sideEffects: 'idempotent', source: 'builtin' }] },
    });
  });

  it('the shipped file can be edited in place: one-line values parse', () => {
    const shipped = readFileSync(join(__dirname, '../../config/workflow.yaml'), 'utf8');
    const edited = shipped
      .replace('storage_type: file', 'storage_type: memory')
      .replace('max_rounds: 10', 'max_rounds: 4');
    expect(edited).not.toBe(shipped);
    const config = loadConfig(file('edited.yaml', edited));
    expect(config.workflow.checkpointing.storage_type).toBe('memory');
    expect(config.workflow.max_rounds).toBe(4);
  });

  it('resolves storage_path against the working directory', () => {
    expect(parseConfig({ workflow: { checkpointing: { storage_path: 'cp' } } }, null, '/srv/app').storageDir).toBe(
      '/srv/app/cp',
    );
  });

  it.each([
    ['unknown key', 'workflow:\n  max_round: 5\n', 'workflow: unknown key "max_round"'],
    [
      'wrong type',
      'workflow:\n  max_rounds: ten\n',
      'workflow.max_rounds: Invalid input: expected number, received string',
    ],
    [
      'negative max_rounds',
      'workflow:\n  max_rounds: -1\n',
      'workflow.max_rounds: Too small: expected number to be >=1',
    ],
    [
      'storage_type redis',
      'workflow:\n  checkpointing:\n    storage_type: redis\n',
      'workflow.checkpointing.storage_type: must be "file" or "memory", got "redis" (for shared, external storage point TEMPORAL_ADDRESS at a Temporal cluster',
    ],
    ['top-level unknown key', 'wokflow: {}\n', 'unknown key "wokflow"'],
    [
      'bad agent name',
      'agents:\n  Bad Name: {description: x}\n  orchestrator: {}\n',
      'agents.Bad Name: agent names are lower-case words',
    ],
    ['no orchestrator', 'agents:\n  researcher: {}\n', 'agents: the team needs an "orchestrator"'],
    [
      'new agent without description',
      'agents:\n  orchestrator: {}\n  poet: {}\n',
      'agents.poet: a description is required',
    ],
  ])('rejects %s, naming the field', (_name, yaml, message) => {
    const path = file(`${_name.replace(/\W/g, '_')}.yaml`, yaml);
    expect(errorOf(() => loadConfig(path)).message).toContain(message);
  });

  it('rejects malformed YAML and a missing file', () => {
    expect(errorOf(() => loadConfig(file('bad.yaml', 'workflow: [1, 2\n'))).message).toMatch(/is not valid YAML/);
    expect(errorOf(() => loadConfig(join(dir, 'nope.yaml'))).message).toBe(
      `config file not found: ${join(dir, 'nope.yaml')}`,
    );
    expect(errorOf(() => loadConfig(file('dup.yaml', 'llm: {}\nllm: {}\n'))).message).toMatch(/is not valid YAML/);
  });

  it('adds a fifth agent from config alone', () => {
    const config = parseConfig({
      agents: { orchestrator: {}, researcher: {}, poet: { description: 'Writes verse.', model: 'm' } },
    });
    expect(config.team.map((a) => [a.name, a.model])).toEqual([
      ['orchestrator', 'gpt-4o-mini'],
      ['researcher', 'gpt-4o-mini'],
      ['poet', 'm'],
    ]);
    expect(config.team[2]?.prompt).toContain('Writes verse.');
  });

  it('reads $AGENT_TEAM_CONFIG when no path is given', () => {
    const path = file('env.yaml', 'workflow:\n  max_rounds: 7\n');
    expect(loadConfig(undefined, { AGENT_TEAM_CONFIG: path }).workflow.max_rounds).toBe(7);
  });
});
