/** Signed exports: a signature checks only with the key that made it, over exactly the content it was made for. */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EXPORT_FORMAT,
  checksumOf as exportChecksum,
  readExportFile,
  type ExportFile,
} from '../../src/checkpoints/archive';
import {
  generateSigningKeys,
  keyIdOf,
  loadSigningKey,
  loadVerifyKeys,
  signChecksum,
} from '../../src/checkpoints/signing';
import { ConfigError, UsageError } from '../../src/shared/errors';
import { fixtureExport, scratchWriter } from './fixtures';

const write = scratchWriter('signing-test-');
const checksumOf = (file: Pick<ExportFile, 'manifest' | 'runs'>): string => exportChecksum(file.manifest, file.runs);

const ours = generateSigningKeys();
const theirs = generateSigningKeys();
const ourKey = createPrivateKey(ours.privateKey);
const ourPublic = write('ours.pub', ours.publicKey);
const bothPublic = write('both.pub', theirs.publicKey + ours.publicKey);

/** The fixture export, signed with `key` (unsigned without). */
async function exportFile(key = ourKey as typeof ourKey | null): Promise<ExportFile> {
  const file = await fixtureExport();
  return key ? { ...file, signature: signChecksum(EXPORT_FORMAT, file.checksum, key) } : file;
}

/** The file with every agent's answer changed and the checksum recomputed: what a forger does. */
function forged(file: ExportFile): ExportFile {
  const runs = JSON.parse(JSON.stringify(file.runs)) as ExportFile['runs'];
  let changed = 0;
  for (const event of runs[0]!.history.events as {
    activityTaskCompletedEventAttributes?: { result: { payloads: { data: string }[] } };
  }[]) {
    const payload = event.activityTaskCompletedEventAttributes?.result.payloads[0];
    if (!payload) continue;
    const result = JSON.parse(Buffer.from(payload.data, 'base64').toString()) as { kind: string; content: string };
    if (result.kind !== 'agent') continue;
    result.content = 'Forged: ' + result.content;
    payload.data = Buffer.from(JSON.stringify(result)).toString('base64');
    changed++;
  }
  expect(changed).toBe(3);
  return { ...file, runs, checksum: checksumOf({ manifest: file.manifest, runs }) };
}

function refusal(path: string, options: Parameters<typeof readExportFile>[1]): string {
  try {
    readExportFile(path, options);
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  throw new Error('expected a UsageError');
}

describe('signed exports', () => {
  it('reports signed-valid with the right public key, signed-unverified without one, unsigned for an unsigned file', async () => {
    const signed = write('signed.json', JSON.stringify(await exportFile()));
    const valid = readExportFile(signed, { verifyKeys: loadVerifyKeys(bothPublic), requireSignature: true });
    expect(valid.signature).toMatchObject({ status: 'signed-valid', keyId: ours.keyId });
    expect(readExportFile(signed).signature).toMatchObject({ status: 'signed-unverified', keyId: ours.keyId });
    expect(
      readExportFile(signed, { verifyKeys: loadVerifyKeys(write('theirs.pub', theirs.publicKey)) }).signature.detail,
    ).toContain(`signed by ${ours.keyId}, which is none of the verify keys (${theirs.keyId})`);
    const unsigned = write('unsigned.json', JSON.stringify(await exportFile(null)));
    expect(readExportFile(unsigned, { verifyKeys: loadVerifyKeys(ourPublic) }).signature.status).toBe('unsigned');
  });

  it('refuses a forged export (answers changed, checksum recomputed) whether it keeps the signature or drops it', async () => {
    const original = await exportFile();
    const keep = write('forged.json', JSON.stringify(forged(original)));
    // With the key to check it, a kept signature is invalid: refused even without --require-signature.
    expect(refusal(keep, { verifyKeys: loadVerifyKeys(ourPublic) })).toBe(
      `${keep}: signature invalid: the content is not what ${ours.keyId} signed (changed after signing, or forged); nothing was imported`,
    );
    // Dropping the signature makes it unsigned, which --require-signature refuses.
    const { signature: _dropped, ...rest } = forged(original);
    const drop = write('forged-unsigned.json', JSON.stringify(rest));
    expect(refusal(drop, { verifyKeys: loadVerifyKeys(ourPublic), requireSignature: true })).toBe(
      `${drop}: --require-signature: unsigned; nothing was imported (export it with \`checkpoints export --sign\`)`,
    );
    // Re-signing with another key is signed-unverified, which --require-signature refuses too.
    const resigned = forged(original);
    resigned.signature = signChecksum(EXPORT_FORMAT, resigned.checksum, createPrivateKey(theirs.privateKey));
    const other = write('forged-resigned.json', JSON.stringify(resigned));
    expect(refusal(other, { verifyKeys: loadVerifyKeys(ourPublic), requireSignature: true })).toMatch(
      /--require-signature: signed by ed25519:[0-9a-f]{16}, which is none of the verify keys/,
    );
    // A signature moved onto another export does not check either.
    const moved = {
      ...(await exportFile(null)),
      signature: signChecksum(EXPORT_FORMAT, 'sha256:' + '0'.repeat(64), ourKey),
    };
    expect(refusal(write('moved.json', JSON.stringify(moved)), { verifyKeys: loadVerifyKeys(ourPublic) })).toMatch(
      /signature invalid/,
    );
  });

  it('refuses a malformed signature block by the schema, naming the field', async () => {
    const file = { ...(await exportFile()), signature: { alg: 'rsa', keyId: 'x', value: 'y' } };
    expect(refusal(write('bad-sig.json', JSON.stringify(file)), {})).toMatch(
      /not an agent-team export: signature\.alg/,
    );
  });

  it('reads keys from the options or the environment, and names what is wrong with them', () => {
    const keyFile = write('ours.key', ours.privateKey);
    expect(keyIdOf(loadSigningKey(undefined, { AGENT_TEAM_SIGNING_KEY_FILE: keyFile }))).toBe(ours.keyId);
    expect(loadVerifyKeys(undefined, { AGENT_TEAM_VERIFY_KEY_FILE: keyFile }).map(keyIdOf)).toEqual([ours.keyId]);
    expect(loadVerifyKeys(undefined, {})).toEqual([]);
    expect(() => loadSigningKey(undefined, {})).toThrow(/--sign needs a private key: pass --signing-key FILE/);
    expect(() => loadSigningKey(ourPublic, {})).toThrow(ConfigError);
    expect(() => loadSigningKey(ourPublic, {})).toThrow(/that is a public key: sign with the private one/);
    const warnings: string[] = [];
    expect(loadVerifyKeys(keyFile, {}, (w) => warnings.push(w)).map(keyIdOf)).toEqual([ours.keyId]);
    expect(warnings).toEqual([expect.stringContaining('holds a private key; only its public half is used')]);
    expect(() => loadSigningKey(join(tmpdir(), 'agent-team-no-such-dir', 'nope.key'), {})).toThrow(
      /--signing-key .*nope\.key: cannot read it/,
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    expect(() => loadSigningKey(write('rsa.key', rsa.toString()), {})).toThrow(
      /an rsa key; exports are signed with Ed25519/,
    );
    expect(() => loadVerifyKeys(write('empty.pub', 'hello'), {})).toThrow(/no PEM key in it/);
  });
});
