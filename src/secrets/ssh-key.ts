// Ed25519 SSH key pairs from node:crypto, in the formats OpenSSH reads: the private key as an unencrypted
// "openssh-key-v1" PEM (OpenSSH 9.2 does not load a PKCS#8 Ed25519 key), the public key as an authorized_keys
// line. Used for the backup keys kept in an environment's encrypted store. Pure except for the CSPRNG.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';

const KEY_TYPE = 'ssh-ed25519';
const MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');

/** SSH wire format: a uint32 length, then the bytes. */
function sshString(value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

const publicBlob = (raw: Buffer) => Buffer.concat([sshString(KEY_TYPE), sshString(raw)]);

/** The 32-byte seed and 32-byte public key of an Ed25519 key given as PKCS#8 DER. */
function rawKeys(pkcs8: Buffer): { seed: Buffer; pub: Buffer } {
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  // Ed25519 PKCS#8 and SPKI DER end with the 32 raw bytes (RFC 8410).
  return { seed: pkcs8.subarray(pkcs8.length - 32), pub: spki.subarray(spki.length - 32) };
}

function wrap(base64: string, width = 70): string {
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += width) lines.push(base64.slice(i, i + width));
  return lines.join('\n');
}

/** A new Ed25519 key as OpenSSH writes it (`ssh-keygen -t ed25519 -N ''`), with its comment. */
export function generateSshKey(comment: string): string {
  const { privateKey } = generateKeyPairSync('ed25519', {
    privateKeyEncoding: { format: 'der', type: 'pkcs8' },
    publicKeyEncoding: { format: 'der', type: 'spki' },
  });
  const { seed, pub } = rawKeys(privateKey);
  const check = randomBytes(4);
  let secret = Buffer.concat([
    check,
    check,
    sshString(KEY_TYPE),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  // Padded with 1, 2, 3... to the cipher's block size (8 for "none").
  const pad = (8 - (secret.length % 8)) % 8;
  secret = Buffer.concat([secret, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const body = Buffer.concat([
    MAGIC,
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(publicBlob(pub)),
    sshString(secret),
  ]);
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${wrap(body.toString('base64'))}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

/** Reads the public half and comment back out of a key written by generateSshKey (or an unencrypted ssh-keygen key). */
export function sshPublicKey(privateKey: string): string {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(privateKey);
  if (!m?.[1]) throw new Error('not an OpenSSH private key');
  const body = Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
  if (!body.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not an openssh-key-v1 key');
  let at = MAGIC.length;
  const next = (): Buffer => {
    const n = body.readUInt32BE(at);
    const v = body.subarray(at + 4, at + 4 + n);
    at += 4 + n;
    return v;
  };
  const cipher = next().toString();
  next(); // kdf name
  next(); // kdf options
  at += 4; // number of keys (1)
  const blob = next();
  let comment = '';
  if (cipher === 'none') {
    const secret = next();
    // check ints, key type, public key, private key, then the comment
    let s = 8;
    const field = () => {
      const n = secret.readUInt32BE(s);
      const v = secret.subarray(s + 4, s + 4 + n);
      s += 4 + n;
      return v;
    };
    field();
    field();
    field();
    comment = field().toString('utf8');
  }
  const type = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString();
  return `${type} ${blob.toString('base64')}${comment ? ` ${comment}` : ''}`;
}

export const wellFormedSshKey = (value: string): boolean => {
  try {
    return sshPublicKey(value).startsWith(`${KEY_TYPE} `);
  } catch {
    return false;
  }
};
