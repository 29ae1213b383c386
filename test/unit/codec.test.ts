/** Encryption at rest: the AES-256-GCM payload codec and the keys read from the environment. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmCodec, ENCRYPTED_ENCODING, encryptionKeysFromEnv } from '../../src/temporal/codec';
import { ConfigError, DecryptionError } from '../../src/shared/errors';

const key = (): string => randomBytes(32).toString('base64');
const payload = defaultPayloadConverter.toPayload({ task: 'secret plan' });

describe('AesGcmCodec', () => {
  const keys = encryptionKeysFromEnv({ AGENT_TEAM_ENCRYPTION_KEY: key(), AGENT_TEAM_ENCRYPTION_KEY_ID: 'k1' })!;

  it('round-trips a payload, hiding it and naming its key id', async () => {
    const codec = new AesGcmCodec(keys);
    const [encoded] = await codec.encode([payload]);
    expect(Buffer.from(encoded!.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(encoded!.metadata!['encryption-key-id']!).toString()).toBe('k1');
    expect(Buffer.from(encoded!.data!).toString('latin1')).not.toContain('secret plan');
    const [decoded] = await codec.decode([encoded!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual({ task: 'secret plan' });
  });

  it('uses a fresh IV for every payload', async () => {
    const codec = new AesGcmCodec(keys);
    const [a, b] = await codec.encode([payload, payload]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('refuses the wrong key, an unknown key id and tampered data with a DecryptionError', async () => {
    const [encoded] = await new AesGcmCodec(keys).encode([payload]);
    const wrong = encryptionKeysFromEnv({ AGENT_TEAM_ENCRYPTION_KEY: key(), AGENT_TEAM_ENCRYPTION_KEY_ID: 'k1' })!;
    await expect(new AesGcmCodec(wrong).decode([encoded!])).rejects.toThrow(/not the one it was encrypted with/);
    const other = encryptionKeysFromEnv({ AGENT_TEAM_ENCRYPTION_KEY: key(), AGENT_TEAM_ENCRYPTION_KEY_ID: 'k2' })!;
    await expect(new AesGcmCodec(other).decode([encoded!])).rejects.toThrow(/key id "k1", which is not configured/);
    const tampered = Buffer.from(encoded!.data!);
    tampered[20] = tampered[20]! ^ 1;
    await expect(new AesGcmCodec(keys).decode([{ ...encoded!, data: tampered }])).rejects.toBeInstanceOf(
      DecryptionError,
    );
  });

  it('decrypts with an older key after a rotation (a key file)', async () => {
    const old = key();
    const [encoded] = await new AesGcmCodec(
      encryptionKeysFromEnv({ AGENT_TEAM_ENCRYPTION_KEY: old, AGENT_TEAM_ENCRYPTION_KEY_ID: '2026-11' })!,
    ).encode([payload]);
    const file = join(mkdtempSync(join(tmpdir(), 'keys-')), 'keys.json');
    writeFileSync(file, JSON.stringify({ current: '2027-01', keys: { '2026-11': old, '2027-01': key() } }));
    const rotated = encryptionKeysFromEnv({ AGENT_TEAM_ENCRYPTION_KEY_FILE: file })!;
    expect(rotated.current).toBe('2027-01');
    const [decoded] = await new AesGcmCodec(rotated).decode([encoded!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual({ task: 'secret plan' });
  });

  it('leaves payloads that are not encrypted as they are', async () => {
    expect(await new AesGcmCodec(keys).decode([payload])).toEqual([payload]);
  });
});

describe('encryptionKeysFromEnv', () => {
  it('is off without a key', () => expect(encryptionKeysFromEnv({})).toBeNull());
  it.each([
    [{ AGENT_TEAM_ENCRYPTION_KEY: 'c2hvcnQ=' }, /base64 of exactly 32 bytes \(it decodes to 5\)/],
    [{ AGENT_TEAM_ENCRYPTION_KEY: key(), AGENT_TEAM_ENCRYPTION_KEY_FILE: '/x' }, /not both/],
    [{ AGENT_TEAM_ENCRYPTION_KEY_FILE: '/nonexistent/keys.json' }, /AGENT_TEAM_ENCRYPTION_KEY_FILE \/nonexistent/],
  ])('refuses %j', (env, message) => {
    expect(() => encryptionKeysFromEnv(env)).toThrow(ConfigError);
    expect(() => encryptionKeysFromEnv(env)).toThrow(message);
  });
});
