import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crvsBin, ensureDefaultLab, ensureProvisioned, type LabInfo } from './helpers/lab.js';
import { keygen } from './helpers/spec-file.js';

// Host keys pinned in the spec, on the lab's qa-1 (provisioned by provision.test, with the keys `crvs lab up`
// pinned in the lab spec): from a copy without pins, `crvs hostkeys` reads the key the server holds, --write pins
// it, a command then reaches the server; with another key pinned, crvs is refused during the key exchange, and
// qa-1's sshd logs a connection closed before any authentication.
const dir = mkdtempSync(join(tmpdir(), 'crvs-hostkeys-test-'));
let lab: LabInfo;
const env = () => ({ CRVS_IDENTITY: join(lab.dir, 'id_ed25519') });
const onQa = (...argv: string[]) =>
  spawnSync('docker', ['exec', 'crvs-lab-qa-1', ...argv], { encoding: 'utf8' }).stdout.trim();
const specs = { pinned: join(dir, 'pinned', 'crvs.yaml'), wrong: join(dir, 'wrong', 'crvs.yaml') };

beforeAll(() => {
  lab = ensureDefaultLab();
  ensureProvisioned(lab, ['qa'], env());
  for (const f of Object.values(specs)) {
    spawnSync('mkdir', ['-p', join(f, '..')]);
    // The lab's spec as an operator starts: no server pinned yet.
    writeFileSync(f, readFileSync(lab.spec, 'utf8').replace(/,? hostKeys: \[[^\]]*\]/g, ''));
  }
}, 25 * 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('host keys pinned in the spec', () => {
  it('crvs hostkeys shows the key qa-1 holds, unpinned; --write --yes pins exactly that key; then crvs reaches it', () => {
    const [type, key] = onQa('cat', '/etc/ssh/ssh_host_ed25519_key.pub').split(' ');
    const fp = onQa('ssh-keygen', '-lf', '/etc/ssh/ssh_host_ed25519_key.pub').split(' ')[1];
    // crvs lab up pinned it in the lab's own spec, read from inside the server.
    expect(readFileSync(lab.spec, 'utf8')).toContain(`${type} ${key}`);
    expect(readFileSync(specs.pinned, 'utf8')).not.toContain('hostKeys');
    const shown = crvsBin(['hostkeys', 'qa', '--json', '--spec', specs.pinned], { env: env() });
    expect(shown.status).toBe(0);
    const rows = JSON.parse(shown.stdout) as {
      server: string;
      key: string;
      fingerprint: string;
      status: string;
    }[];
    expect(rows.find((r) => r.key.startsWith('ssh-ed25519 '))).toEqual(
      expect.objectContaining({ server: 'qa-1', key: `${type} ${key}`, fingerprint: fp, status: 'unpinned' }),
    );

    const written = crvsBin(['hostkeys', 'qa', '--write', '--yes', '--spec', specs.pinned], { env: env() });
    expect(written.status).toBe(0);
    expect(written.stderr).toContain(`pinned the host keys of qa-1 in ${specs.pinned}`);
    expect(readFileSync(specs.pinned, 'utf8')).toContain(`${type} ${key}`);
    expect(crvsBin(['hostkeys', 'qa', '--json', '--spec', specs.pinned], { env: env() }).stdout).toContain(
      '"status": "pinned"',
    );

    const log = crvsBin(['deploy', 'log', 'qa', '--spec', specs.pinned], { env: env() });
    expect(log.status).toBe(0);
    expect(readFileSync(join(dir, 'pinned', 'known_hosts.pinned'), 'utf8')).toContain(
      `10.77.0.11 ${type} ${key}\n`,
    );
  }, 120_000);

  it('behind the jump host: the scan goes through a tunnel from jump-1, finds the key qa-1 holds, and leaves no tunnel', () => {
    const bastion = join(dir, 'bastion', 'crvs.yaml');
    spawnSync('mkdir', ['-p', join(bastion, '..')]);
    const text = readFileSync(lab.spec, 'utf8');
    writeFileSync(bastion, text.replace('  method: direct', '  method: bastion'));
    expect(readFileSync(bastion, 'utf8')).not.toBe(text);
    const cursor =
      /cursor: (\S+)/.exec(onQa('journalctl', '-u', 'ssh', '-n', '0', '--show-cursor'))?.[1] ?? '';
    const shown = crvsBin(['hostkeys', 'qa', '--json', '--spec', bastion], { env: env() });
    expect(shown.status, shown.stderr).toBe(0);
    const [type, key] = onQa('cat', '/etc/ssh/ssh_host_ed25519_key.pub').split(' ');
    const rows = JSON.parse(shown.stdout) as { server: string; key: string; status: string }[];
    // The lab spec pins qa-1's ed25519 key; its RSA key is there too, and ssh never uses it.
    expect(rows.map((r) => [r.server, r.key.split(' ')[0], r.status])).toEqual([
      ['qa-1', 'ssh-rsa', 'extra'],
      ['qa-1', 'ssh-ed25519', 'pinned'],
    ]);
    expect(rows.find((r) => r.status === 'pinned')?.key).toBe(`${type} ${key}`);
    // qa-1 saw the scan come from the jump host, not from this machine, and no login was tried.
    const sshd = onQa('journalctl', '-u', 'ssh', `--after-cursor=${cursor}`, '--no-pager', '-o', 'cat');
    expect(sshd).toContain('Connection from 10.77.0.51 port');
    expect(sshd).not.toMatch(/Connection from 10\.77\.0\.1 port|Accepted|Failed|Invalid user/);
    // The tunnel's control master is gone.
    expect(spawnSync('pgrep', ['-f', 'crvs-keyscan-']).status).toBe(1);
  }, 120_000);

  it('another key pinned: crvs is refused during the key exchange, before authenticating (E_HOST_KEY)', () => {
    const fake = keygen(dir, 'impostor').split(' ').slice(0, 2).join(' ');
    writeFileSync(
      specs.wrong,
      readFileSync(specs.pinned, 'utf8').replace(/hostKeys: \[[^\]]*\]/, `hostKeys: [ ${fake} ]`),
    );
    expect(readFileSync(specs.wrong, 'utf8')).toContain(fake);
    const cursor =
      /cursor: (\S+)/.exec(onQa('journalctl', '-u', 'ssh', '-n', '0', '--show-cursor'))?.[1] ?? '';
    expect(cursor).not.toBe('');

    const log = crvsBin(['deploy', 'log', 'qa', '--spec', specs.wrong], { env: env() });
    expect(log.status).toBe(1);
    expect(log.stderr).toContain('error [E_HOST_KEY]: read the audit log of qa:');
    expect(log.stderr).toContain('Host key verification failed.');
    expect(log.stdout).toBe('');
    const sshd = onQa('journalctl', '-u', 'ssh', `--after-cursor=${cursor}`, '--no-pager', '-o', 'cat');
    expect(sshd).toMatch(/Connection closed by \S+ port \d+ \[preauth\]/);
    expect(sshd).not.toMatch(/Accepted|Postponed|publickey|authenticating user|Invalid user|session opened/);

    const scan = crvsBin(['hostkeys', 'qa', '--spec', specs.wrong], { env: env() });
    expect(scan.status).toBe(1);
    expect(scan.stdout).toMatch(/qa-1 +10\.77\.0\.11 +ssh-ed25519 +SHA256:\S+ +differs/);
    expect(scan.stderr).toContain('error [E_HOST_KEY]: qa-1 presents SHA256:');
    expect(existsSync(join(dir, 'wrong', 'known_hosts.pinned'))).toBe(true);
  }, 120_000);
});
