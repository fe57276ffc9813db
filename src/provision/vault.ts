// Ansible Vault's 1.1 AES256 format, written by crvs so that the secret values a provisioning run hands to Ansible
// are never on disk in clear: the group_vars files hold ciphertext, and the password, random for each run, reaches
// ansible-playbook on its stdin (read by ansible/bin/vault-password-from-stdin) and nowhere else. The format, as Ansible's
// VaultAES256 reads it: PBKDF2-HMAC-SHA256 (10,000 rounds, 32-byte salt) gives an AES key, an HMAC key and a
// counter block; the PKCS#7-padded text is encrypted with AES-256-CTR and authenticated with HMAC-SHA256; salt,
// MAC and ciphertext go in hex, one per line, and that text again in hex, in lines of 80, under the header.
import { createCipheriv, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

export const VAULT_HEADER = '$ANSIBLE_VAULT;1.1;AES256';

export function vaultEncrypt(plaintext: string, password: string, salt: Buffer = randomBytes(32)): string {
  const derived = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, 10_000, 80, 'sha256');
  const [key, macKey, iv] = [derived.subarray(0, 32), derived.subarray(32, 64), derived.subarray(64, 80)];
  const text = Buffer.from(plaintext, 'utf8');
  const pad = 16 - (text.length % 16);
  const padded = Buffer.concat([text, Buffer.alloc(pad, pad)]);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  const ciphertext = Buffer.concat([cipher.update(padded), cipher.final()]);
  const mac = createHmac('sha256', macKey).update(ciphertext).digest('hex');
  const inner = `${salt.toString('hex')}\n${mac}\n${ciphertext.toString('hex')}`;
  const outer = Buffer.from(inner, 'utf8').toString('hex');
  const lines = outer.match(/.{1,80}/g) ?? [];
  return `${VAULT_HEADER}\n${lines.join('\n')}\n`;
}
