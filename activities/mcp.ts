/**
 * MCP servers' tools, through the official SDK (`@modelcontextprotocol/sdk`): a stdio command or a streamable
 * HTTP URL. The tool list is read once, when a run starts (the `listMcpTools` activity: history records it, so
 * a run's tools cannot change under it); each call is a `callTool` activity like any tool, with the call's
 * idempotency key in `_meta`. A worker keeps one connection per server and reconnects after a failure (a
 * server process that died mid-call is started again by the retry).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { McpServerSpec, SideEffects, ToolSpec } from '../workflows/types';
import { ToolError } from './tools';

type Annotations = { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean } | undefined;

/**
 * The side-effect class from MCP's annotations: read-only is `none`; idempotent is `idempotent`; anything else
 * may change the world each time it runs (MCP's default: not read-only, destructive) and is `destructive`.
 */
export function sideEffectsOf(annotations: Annotations): SideEffects {
  if (annotations?.readOnlyHint) return 'none';
  if (annotations?.idempotentHint) return 'idempotent';
  return 'destructive';
}

/** The name an agent sees: `<server>__<tool>`, within the 64 characters of [a-zA-Z0-9_-] the APIs accept. */
export const mcpToolName = (server: string, tool: string): string =>
  `${server}__${tool}`.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);

const key = (s: McpServerSpec): string => JSON.stringify([s.name, s.command, s.args, s.url, s.env, s.cwd]);

export function createMcpClients() {
  const clients = new Map<string, Promise<Client>>();

  async function open(server: McpServerSpec): Promise<Client> {
    const client = new Client({ name: 'durable-agent-team', version: '1' });
    const transport = server.url
      ? new StreamableHTTPClientTransport(new URL(server.url))
      : new StdioClientTransport({
          command: server.command!,
          args: server.args ?? [],
          // The SDK's safe default environment (PATH, HOME…), not the worker's secrets, plus what is configured.
          env: { ...getDefaultEnvironment(), ...(server.env ?? {}) },
          ...(server.cwd ? { cwd: server.cwd } : {}),
          stderr: 'ignore',
        });
    await client.connect(transport);
    return client;
  }

  /** The worker's connection to `server` (opened on first use; dropped when it fails, so the next use reopens). */
  function clientFor(server: McpServerSpec): Promise<Client> {
    const k = key(server);
    let client = clients.get(k);
    if (!client) {
      client = open(server);
      clients.set(k, client);
      client.then(
        (c) => {
          c.onclose = () => {
            if (clients.get(k) === client) clients.delete(k);
          };
        },
        () => clients.delete(k),
      );
    }
    return client;
  }

  const where = (s: McpServerSpec): string =>
    `MCP server "${s.name}" (${s.url ?? [s.command, ...(s.args ?? [])].join(' ')})`;

  /** Every tool of these servers, as a run records them. */
  async function listTools(servers: readonly McpServerSpec[]): Promise<ToolSpec[]> {
    const specs: ToolSpec[] = [];
    for (const server of servers) {
      let client: Client;
      try {
        client = await clientFor(server);
      } catch (err) {
        throw new Error(`cannot reach ${where(server)}: ${err instanceof Error ? err.message : String(err)}`);
      }
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : {});
        for (const tool of page.tools) {
          specs.push({
            name: mcpToolName(server.name, tool.name),
            description: tool.description ?? tool.title ?? tool.name,
            parameters: tool.inputSchema as Record<string, unknown>,
            sideEffects: sideEffectsOf(tool.annotations),
            source: `mcp:${server.name}`,
            remoteName: tool.name,
          });
        }
        cursor = page.nextCursor;
      } while (cursor);
    }
    return specs;
  }

  /**
   * Calls a tool. An error the server reports (`isError`) is the tool's answer: a ToolError the agent sees, not
   * retried. A failed connection (the server gone, mid-call or before) is retryable: the next attempt reconnects.
   */
  async function call(
    server: McpServerSpec,
    tool: string,
    args: Record<string, unknown>,
    idempotencyKey: string,
    options: { signal: AbortSignal; timeoutMs: number },
  ): Promise<string> {
    const client = await clientFor(server).catch((err: unknown) => {
      throw new Error(`cannot reach ${where(server)}: ${err instanceof Error ? err.message : String(err)}`);
    });
    let result: Awaited<ReturnType<Client['callTool']>>;
    try {
      result = await client.callTool({ name: tool, arguments: args, _meta: { idempotencyKey } }, undefined, {
        signal: options.signal,
        timeout: options.timeoutMs,
      });
    } catch (err) {
      clients.delete(key(server));
      await client.close().catch(() => {});
      throw new Error(`${where(server)}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const parts = (result.content as { type: string; text?: string }[] | undefined) ?? [];
    const text = parts.map((p) => (p.type === 'text' ? (p.text ?? '') : `[${p.type}]`)).join('\n');
    const out = text || (result.structuredContent ? JSON.stringify(result.structuredContent) : '');
    if (result.isError) throw new ToolError(`${where(server)} reported an error: ${out}`);
    return out;
  }

  async function closeAll(): Promise<void> {
    const all = [...clients.values()];
    clients.clear();
    await Promise.allSettled(all.map(async (c) => (await c).close()));
  }

  return { listTools, call, closeAll };
}
