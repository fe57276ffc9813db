// An SSH host public key as the spec holds it (`<type> <base64>`), checked, and its fingerprint; what a first
// contact returned, beside what the spec pins. Pure.
import { createHash } from 'node:crypto';

/** Host key types OpenSSH 9 offers; DSA is gone from OpenSSH and refused here. */
export const HOST_KEY_TYPES = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
] as const;

export interface HostKey {
  type: (typeof HOST_KEY_TYPES)[number];
  /** The key blob, base64 as in a .pub file. */
  base64: string;
}

/**
 * `ssh-ed25519 AAAAC3... [comment]` (a .pub file's line, or `ssh-keyscan`'s without its host) -> the key, or why
 * it is not one. The blob must name the same type as the line (a pasted key of another kind is caught here).
 */
export function parseHostKey(line: string): HostKey | string {
  const [type, base64] = line.trim().split(/\s+/);
  if (!type || !base64) return 'must be "<type> <base64 key>", as in /etc/ssh/ssh_host_ed25519_key.pub';
  if (!(HOST_KEY_TYPES as readonly string[]).includes(type))
    return `key type ${type} is not one of ${HOST_KEY_TYPES.join(', ')}`;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return 'the key is not base64';
  const blob = Buffer.from(base64, 'base64');
  const length = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  if (length < 1 || blob.length < 4 + length || blob.subarray(4, 4 + length).toString('latin1') !== type)
    return `the key's data is not a ${type} key`;
  return { type: type as HostKey['type'], base64 };
}

/** OpenSSH's fingerprint of a key (`ssh-keygen -lf`, what ssh prints when it asks): SHA256:<base64, unpadded>. */
export const fingerprint = (k: HostKey): string =>
  `SHA256:${createHash('sha256').update(Buffer.from(k.base64, 'base64')).digest('base64').replace(/=+$/, '')}`;

/** The keys in known_hosts lines (ssh-keyscan's output; any host field), as spec lines: `<type> <base64>`. */
export function scannedKeys(text: string): string[] {
  const keys: string[] = [];
  for (const line of text.split('\n')) {
    const [, type, base64] = line.trim().split(/\s+/);
    if (!type || !base64 || line.trim().startsWith('#')) continue;
    const k = parseHostKey(`${type} ${base64}`);
    if (typeof k !== 'string' && !keys.includes(`${k.type} ${k.base64}`)) keys.push(`${k.type} ${k.base64}`);
  }
  return keys;
}

export type ScanStatus = 'pinned' | 'unpinned' | 'differs';

/**
 * What a first contact found beside what the spec pins: `pinned` (the spec lists this key), `unpinned` (the
 * spec pins nothing for this server yet), `differs` (the spec pins other keys: rebuilt server, or someone in
 * the way).
 */
export function scanStatus(pinned: string[] | undefined, key: string): ScanStatus {
  if (!pinned?.length) return 'unpinned';
  const same = (a: string) => a.trim().split(/\s+/).slice(0, 2).join(' ');
  return pinned.some((p) => same(p) === same(key)) ? 'pinned' : 'differs';
}
