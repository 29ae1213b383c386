/**
 * The codec server: the Temporal Web UI and CLI call it to show encrypted payloads decoded
 * (`temporal … --codec-endpoint URL`, the UI's "Codec Server" setting or `--ui-codec-endpoint`).
 * POST /encode and /decode take and return `{"payloads": [...]}` in protobuf JSON. CORS answers only the
 * configured UI origin; with a token, every POST must carry `Authorization: Bearer <token>`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import { errorMessage } from '../shared/errors';
import { AesGcmCodec, type EncryptionKeys } from './codec';

export interface CodecServerOptions {
  keys: EncryptionKeys;
  /** @default 8888 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** The Web UI's origin, the only one CORS allows (e.g. http://127.0.0.1:8233). */
  uiOrigin?: string;
  /** When set, POSTs need `Authorization: Bearer <token>`. */
  token?: string;
}

export interface CodecServer {
  url: string;
  /** Requests answered so far, per endpoint. */
  served: { encode: number; decode: number };
  close(): Promise<void>;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const codec = new AesGcmCodec(options.keys);
  const served = { encode: 0, decode: 0 };
  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const origin = req.headers.origin;
    if (origin && options.uiOrigin && origin === options.uiOrigin) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('access-control-allow-headers', 'content-type, authorization, x-namespace');
      res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
      res.setHeader('vary', 'origin');
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204);
      res.end();
      return;
    }
    const path = (req.url ?? '').split('?')[0]!.replace(/\/+$/, '');
    if (req.method !== 'POST' || (!path.endsWith('/encode') && !path.endsWith('/decode'))) {
      send(res, 404, { error: 'POST /encode or /decode' });
      return;
    }
    if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
      send(res, 401, { error: 'missing or wrong bearer token' });
      return;
    }
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      void (async () => {
        try {
          const body = JSON.parse(raw) as { payloads?: JsonPayload[] };
          if (!Array.isArray(body.payloads)) throw new Error('expected {"payloads": [...]}');
          const payloads = body.payloads.map(fromJson);
          const encode = path.endsWith('/encode');
          const out = encode ? await codec.encode(payloads) : await codec.decode(payloads);
          served[encode ? 'encode' : 'decode'] += 1;
          send(res, 200, { payloads: out.map(toJson) });
        } catch (err) {
          send(res, 400, { error: errorMessage(err) });
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8888, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    served,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
