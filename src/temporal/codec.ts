/**
 * Encryption at rest: a Temporal payload codec (AES-256-GCM) that every client and worker of this project
 * applies when a key is configured, so the Temporal server stores prompts, answers and tasks only encrypted.
 *
 * Keys come from the environment:
 * - AGENT_TEAM_ENCRYPTION_KEY (base64 of 32 bytes) and AGENT_TEAM_ENCRYPTION_KEY_ID (default "default"), or
 * - AGENT_TEAM_ENCRYPTION_KEY_FILE: a JSON file {"current": "<id>", "keys": {"<id>": "<base64>", …}}; older
 *   keys stay listed after a rotation, so payloads written with them still decrypt.
 * Each encrypted payload records the id of its key (metadata `encryption-key-id`).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { ConfigError, DecryptionError, errorMessage } from '../shared/errors';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined): string => new TextDecoder().decode(b ?? new Uint8Array());

export interface EncryptionKeys {
  /** The id new payloads are encrypted with. */
  current: string;
  keys: Map<string, Buffer>;
}

function keyFrom(base64: string, where: string): Buffer {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== 32) {
    throw new ConfigError(
      `${where} must be the base64 of exactly 32 bytes (it decodes to ${key.length}); make one with: openssl rand -base64 32`,
    );
  }
  return key;
}

/** The keys configured in the environment, or null when encryption is off. */
export function encryptionKeysFromEnv(env: NodeJS.ProcessEnv = process.env): EncryptionKeys | null {
  const file = env.AGENT_TEAM_ENCRYPTION_KEY_FILE;
  const single = env.AGENT_TEAM_ENCRYPTION_KEY;
  if (file && single) {
    throw new ConfigError('set AGENT_TEAM_ENCRYPTION_KEY or AGENT_TEAM_ENCRYPTION_KEY_FILE, not both');
  }
  if (single) {
    const id = env.AGENT_TEAM_ENCRYPTION_KEY_ID?.trim() || 'default';
    return { current: id, keys: new Map([[id, keyFrom(single, 'AGENT_TEAM_ENCRYPTION_KEY')]]) };
  }
  if (!file) return null;
  let parsed: { current?: unknown; keys?: unknown };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as typeof parsed;
  } catch (err) {
    throw new ConfigError(`AGENT_TEAM_ENCRYPTION_KEY_FILE ${file}: ${errorMessage(err)}`);
  }
  const keys = new Map<string, Buffer>();
  if (!parsed.keys || typeof parsed.keys !== 'object') {
    throw new ConfigError(
      `AGENT_TEAM_ENCRYPTION_KEY_FILE ${file}: expected {"current": "<id>", "keys": {"<id>": "<base64>"}}`,
    );
  }
  for (const [id, value] of Object.entries(parsed.keys as Record<string, unknown>)) {
    if (typeof value !== 'string')
      throw new ConfigError(`AGENT_TEAM_ENCRYPTION_KEY_FILE ${file}: key "${id}" is not a string`);
    keys.set(id, keyFrom(value, `AGENT_TEAM_ENCRYPTION_KEY_FILE ${file}: key "${id}"`));
  }
  const current = typeof parsed.current === 'string' ? parsed.current : '';
  if (!keys.has(current)) {
    throw new ConfigError(
      `AGENT_TEAM_ENCRYPTION_KEY_FILE ${file}: "current" must name one of its keys (${[...keys.keys()].join(', ')})`,
    );
  }
  return { current, keys };
}

/** AES-256-GCM over the whole serialized payload (metadata included), with a fresh 96-bit IV per payload. */
export class AesGcmCodec implements PayloadCodec {
  constructor(private readonly keys: EncryptionKeys) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keys.keys.get(this.keys.current)!;
    return payloads.map((payload) => {
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(CIPHER, key, iv);
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      return {
        metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID]: utf8(this.keys.current) },
        data: Buffer.concat([iv, body, cipher.getAuthTag()]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (text(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
      const id = text(payload.metadata?.[KEY_ID]);
      const key = this.keys.keys.get(id);
      if (!key) {
        throw new DecryptionError(
          `a payload is encrypted with key id "${id}", which is not configured here (known: ${[...this.keys.keys.keys()].join(', ')}); ` +
            'set AGENT_TEAM_ENCRYPTION_KEY_FILE with that key listed',
        );
      }
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES)
        throw new DecryptionError(`a payload with key id "${id}" is too short to be ciphertext`);
      const decipher = createDecipheriv(CIPHER, key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new DecryptionError(
          `cannot decrypt a payload with key id "${id}": the configured key for that id is not the one it was encrypted with`,
        );
      }
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

/** The data converter options for this environment: the codec when a key is configured, else none. */
export function dataConverterFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): { payloadCodecs: PayloadCodec[] } | undefined {
  const keys = encryptionKeysFromEnv(env);
  return keys ? { payloadCodecs: [new AesGcmCodec(keys)] } : undefined;
}
