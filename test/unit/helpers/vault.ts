import { createDecipheriv, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';

/**
 * Reads a file in Ansible Vault's 1.1 AES256 format, as Ansible does (MAC checked first): what the tests use to
 * look inside the group_vars a provisioning run writes. Throws on a wrong password or a damaged file.
 */
export function vaultDecrypt(text: string, password: string): string {
  const [header, ...lines] = text.trim().split('\n');
  if (header !== '$ANSIBLE_VAULT;1.1;AES256') throw new Error(`not a Vault 1.1 AES256 file: ${header}`);
  const [salt = '', mac = '', ciphertext = ''] = Buffer.from(lines.join(''), 'hex')
    .toString('utf8')
    .split('\n');
  const derived = pbkdf2Sync(Buffer.from(password, 'utf8'), Buffer.from(salt, 'hex'), 10_000, 80, 'sha256');
  const data = Buffer.from(ciphertext, 'hex');
  const want = createHmac('sha256', derived.subarray(32, 64)).update(data).digest();
  if (!timingSafeEqual(want, Buffer.from(mac, 'hex')))
    throw new Error('the Vault password does not open this file');
  const d = createDecipheriv('aes-256-ctr', derived.subarray(0, 32), derived.subarray(64, 80));
  const padded = Buffer.concat([d.update(data), d.final()]);
  return padded.subarray(0, padded.length - (padded.at(-1) ?? 0)).toString('utf8');
}
