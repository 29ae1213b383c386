/**
 * Signed exports: Ed25519 over an export's checksum, so an importer can tell whether an export comes from a
 * holder of the private key and is unchanged since. A checksum alone only catches accidents: whoever edits an
 * export can recompute it. A signature cannot be recomputed without the private key.
 *
 * Keys are PEM files (what `openssl genpkey -algorithm ed25519` and `checkpoints keygen` write), named by the
 * environment like the encryption keys:
 * - AGENT_TEAM_SIGNING_KEY_FILE: the private key `checkpoints export --sign` signs with;
 * - AGENT_TEAM_VERIFY_KEY_FILE: the public key(s) `checkpoints import` verifies with (one or more PEM blocks;
 *   a private key file works too, its public half is used).
 * The command-line options `--signing-key` and `--verify-key` take precedence over the environment.
 *
 * What is signed: the UTF-8 bytes of `agent-team-export/1 <checksum>`, the checksum being the SHA-256 of the
 * export's canonical content (which import recomputes before it looks at the signature).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ConfigError, UsageError, errorMessage } from '../shared/errors';

export /** The command that makes a key pair, as a next step. */
const keygen = { next: [{ purpose: 'make a pair', args: ['checkpoints', 'keygen', '--out', { placeholder: 'NAME' }] }] };

const SIGNATURE_ALGORITHM = 'ed25519';

/** The signature block of a signed export. */
export interface ExportSignature {
  alg: typeof SIGNATURE_ALGORITHM;
  /** `ed25519:` + the first 16 hex digits of the SHA-256 of the public key (SPKI DER): which key to verify with. */
  keyId: string;
  /** Base64 of the 64-byte signature. */
  value: string;
}

/**
 * What import found:
 * - `signed-valid`: signed, and one of the verify keys checks it;
 * - `signed-invalid`: signed, but the signature does not check with the key it names (altered, or forged);
 * - `signed-unverified`: signed by a key that is not among the verify keys (or none were given);
 * - `unsigned`: no signature.
 */
export type SignatureStatus = 'signed-valid' | 'signed-invalid' | 'signed-unverified' | 'unsigned';

export interface SignatureCheck {
  status: SignatureStatus;
  keyId: string | null;
  /** One line for people. */
  detail: string;
}

function payload(format: string, checksum: string): Buffer {
  return Buffer.from(`${format} ${checksum}`, 'utf8');
}

/** The key id of a public (or private) Ed25519 key. */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const der = pub.export({ type: 'spki', format: 'der' });
  return `${SIGNATURE_ALGORITHM}:${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${what} ${path}: cannot read it (${errorMessage(err)})`);
  }
}

function requireEd25519(key: KeyObject, path: string, what: string): KeyObject {
  if (key.asymmetricKeyType !== SIGNATURE_ALGORITHM) {
    throw new ConfigError(
      `${what} ${path}: an ${key.asymmetricKeyType ?? 'unknown'} key; exports are signed with Ed25519 ` +
        '(`openssl genpkey -algorithm ed25519` makes one too)',
      keygen,
    );
  }
  return key;
}

/** The private key to sign with, from `path` (or AGENT_TEAM_SIGNING_KEY_FILE). */
export function loadSigningKey(path: string | undefined, env: NodeJS.ProcessEnv = process.env): KeyObject {
  const file = path ?? env.AGENT_TEAM_SIGNING_KEY_FILE;
  const what = path ? '--signing-key' : 'AGENT_TEAM_SIGNING_KEY_FILE';
  if (!file) {
    throw new ConfigError(
      '--sign needs a private key: pass --signing-key FILE or set AGENT_TEAM_SIGNING_KEY_FILE',
      keygen,
    );
  }
  const pem = readPem(file, what);
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    const isPublic = /-----BEGIN PUBLIC KEY-----/.test(pem);
    throw new ConfigError(
      isPublic
        ? `${what} ${file}: that is a public key: sign with the private one (e.g. NAME.key beside NAME.pub)`
        : `${what} ${file}: not a PEM private key`,
      keygen,
    );
  }
  return requireEd25519(key, file, what);
}

/**
 * The public keys to verify with, from `path` (or AGENT_TEAM_VERIFY_KEY_FILE): every PEM block of the file.
 * Empty when neither is set.
 */
export function loadVerifyKeys(
  path: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  warn: (line: string) => void = () => {},
): KeyObject[] {
  const file = path ?? env.AGENT_TEAM_VERIFY_KEY_FILE;
  const what = path ? '--verify-key' : 'AGENT_TEAM_VERIFY_KEY_FILE';
  if (!file) return [];
  const pem = readPem(file, what);
  const blocks = pem.match(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g) ?? [];
  if (blocks.length === 0) throw new ConfigError(`${what} ${file}: no PEM key in it`);
  if (blocks.some((b) => b.includes('PRIVATE KEY')))
    warn(
      `note: ${what} ${file} holds a private key; only its public half is used. The importing side needs only ` +
        'the public key (NAME.pub): whoever holds the private one can also sign',
    );
  return blocks.map((block) => {
    let key: KeyObject;
    try {
      key = createPublicKey(block);
    } catch (err) {
      throw new ConfigError(`${what} ${file}: not a PEM public key (${errorMessage(err)})`);
    }
    return requireEd25519(key, file, what);
  });
}

/** Signs an export's checksum. */
export function signChecksum(format: string, checksum: string, key: KeyObject): ExportSignature {
  return {
    alg: SIGNATURE_ALGORITHM,
    keyId: keyIdOf(key),
    value: sign(null, payload(format, checksum), key).toString('base64'),
  };
}

/** Checks an export's signature (the checksum itself already recomputed from the content) against `keys`. */
export function checkSignature(
  format: string,
  checksum: string,
  signature: ExportSignature | undefined,
  keys: KeyObject[],
): SignatureCheck {
  if (!signature) return { status: 'unsigned', keyId: null, detail: 'unsigned' };
  const key = keys.find((k) => keyIdOf(k) === signature.keyId);
  if (!key) {
    return {
      status: 'signed-unverified',
      keyId: signature.keyId,
      detail:
        keys.length === 0
          ? `signed by ${signature.keyId}, not checked: no verify key (--verify-key FILE or AGENT_TEAM_VERIFY_KEY_FILE)`
          : `signed by ${signature.keyId}, which is none of the verify keys (${keys.map(keyIdOf).join(', ')})`,
    };
  }
  const ok = verify(null, payload(format, checksum), key, Buffer.from(signature.value, 'base64'));
  return ok
    ? { status: 'signed-valid', keyId: signature.keyId, detail: `signature valid (${signature.keyId})` }
    : {
        status: 'signed-invalid',
        keyId: signature.keyId,
        detail: `signature invalid: the content is not what ${signature.keyId} signed (changed after signing, or forged)`,
      };
}

/** A new Ed25519 key pair, PEM encoded (private key PKCS#8, public key SPKI). */
export function generateSigningKeys(): { privateKey: string; publicKey: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync(SIGNATURE_ALGORITHM);
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

/**
 * Writes a new key pair: `<name>.key` (the private key, mode 0600) and `<name>.pub` (the public key). Refuses, writing
 * nothing, a name that is a folder, a folder that does not exist, or files that exist already.
 */
export function writeKeyPair(out: string): { keyId: string; privateKey: string; publicKey: string } {
  const name = out.replace(/\.(key|pub)$/, '');
  if (!name.trim() || /[\\/]$/.test(name) || basename(name).startsWith('.'))
    throw new UsageError(`--out "${out}" must name the pair, e.g. --out keys/team (writes team.key and team.pub)`);
  if (!existsSync(dirname(name))) throw new UsageError(`--out: the folder ${dirname(name)} does not exist`);
  const files = { privateKey: `${name}.key`, publicKey: `${name}.pub` };
  const present = Object.values(files).filter((f) => existsSync(f));
  if (present.length > 0)
    throw new UsageError(
      `${present.join(' and ')} already exist${present.length === 1 ? 's' : ''}: nothing written (pick another --out)`,
    );
  const pair = generateSigningKeys();
  try {
    writeFileSync(files.privateKey, pair.privateKey, { mode: 0o600, flag: 'wx' });
    writeFileSync(files.publicKey, pair.publicKey, { mode: 0o644, flag: 'wx' });
  } catch (e) {
    throw new UsageError(`cannot write the key pair: ${errorMessage(e)}`, { cause: e });
  }
  return { keyId: pair.keyId, ...files };
}
