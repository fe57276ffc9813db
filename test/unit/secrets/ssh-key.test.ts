import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generate, wellFormed } from '../../../src/secrets/generate.js';
import { generateSshKey, sshPublicKey } from '../../../src/secrets/ssh-key.js';

const dir = mkdtempSync(join(tmpdir(), 'crvs-ssh-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keyFile(text: string, name = 'id'): string {
  const file = join(dir, name);
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

// The system's OpenSSH is the judge: it must load the key, derive the same public key, and accept its signatures.
describe('Ed25519 SSH keys from node:crypto', () => {
  it('are read by OpenSSH, which derives the public key crvs derives', () => {
    const key = generateSshKey('crvs-backup@prod-2');
    const r = spawnSync('ssh-keygen', ['-y', '-f', keyFile(key)], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(sshPublicKey(key));
    expect(sshPublicKey(key)).toMatch(
      /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43} crvs-backup@prod-2$/,
    );
  });

  it('sign what OpenSSH verifies with the public key (the seed and the public half belong together)', () => {
    const key = generateSshKey('signer');
    const file = keyFile(key, 'signer');
    const message = join(dir, 'message');
    writeFileSync(message, 'a birth registered\n');
    expect(spawnSync('ssh-keygen', ['-Y', 'sign', '-f', file, '-n', 'crvs', message]).status).toBe(0);
    writeFileSync(join(dir, 'allowed'), `signer ${sshPublicKey(key)}\n`);
    const ok = spawnSync(
      'ssh-keygen',
      ['-Y', 'verify', '-f', join(dir, 'allowed'), '-I', 'signer', '-n', 'crvs', '-s', `${message}.sig`],
      { input: 'a birth registered\n', encoding: 'utf8' },
    );
    expect(ok.stdout).toContain('Good "crvs" signature for signer');
    const forged = spawnSync(
      'ssh-keygen',
      ['-Y', 'verify', '-f', join(dir, 'allowed'), '-I', 'signer', '-n', 'crvs', '-s', `${message}.sig`],
      { input: 'a death registered\n', encoding: 'utf8' },
    );
    expect(forged.status).not.toBe(0);
  });

  it('are new every time, and recognised as well formed by crvs secrets check', () => {
    const a = generate({ kind: 'ssh-ed25519', comment: 'x' });
    const b = generate({ kind: 'ssh-ed25519', comment: 'x' });
    expect(sshPublicKey(a)).not.toBe(sshPublicKey(b));
    expect(wellFormed({ kind: 'ssh-ed25519', comment: 'x' }, a)).toBe(true);
    expect(wellFormed({ kind: 'ssh-ed25519', comment: 'x' }, 'not a key')).toBe(false);
  });

  it('reads the public half of a key ssh-keygen wrote', () => {
    const file = join(dir, 'native');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'native', '-f', file]);
    const pub = spawnSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).stdout.trim();
    // ssh-keygen -y prints the comment too.
    expect(pub).toMatch(/ native$/);
    expect(sshPublicKey(readFileSync(file, 'utf8'))).toBe(pub);
  });
});
