import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// ansible/roles/crvs_ssh/files/crvs-totp-enrol, run by the host's python3 as provisioning runs it (secrets on
// stdin), on a directory of this test.
const SCRIPT = 'ansible/roles/crvs_ssh/files/crvs-totp-enrol';
const enrol = (dir: string, secrets: Record<string, string>, ...flags: string[]) => {
  const r = spawnSync('python3', [SCRIPT, dir, ...flags], {
    input: JSON.stringify(secrets),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
};
const OPS = 'JBSWY3DPEHPK3PXP';
const SETTINGS = '" RATE_LIMIT 3 30\n" WINDOW_SIZE 3\n" DISALLOW_REUSE\n" TOTP_AUTH\n';

describe('crvs-totp-enrol', () => {
  it('writes each secret with single-use codes and a per-account rate limit, root-only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crvs-totp-'));
    expect(enrol(dir, { ops: OPS, ana: 'KRSXG5CTMVRXEZLU' })).toBe('enrolled ana\nenrolled ops\n');
    expect(readFileSync(join(dir, 'ops'), 'utf8')).toBe(`${OPS}\n${SETTINGS}`);
    expect(statSync(join(dir, 'ops')).mode & 0o777).toBe(0o400);
    expect(enrol(dir, { ops: OPS, ana: 'KRSXG5CTMVRXEZLU' })).toBe('');
  });

  it('keeps a file whose only difference is what the PAM module recorded (used codes, recent tries)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crvs-totp-'));
    enrol(dir, { ops: OPS });
    // As pam_google_authenticator leaves it after two logins: the times of the tries and the codes used.
    const used = `${OPS}\n" RATE_LIMIT 3 30 1764550000 1764550012\n" WINDOW_SIZE 3\n" DISALLOW_REUSE 58818333 58818334\n" TOTP_AUTH\n`;
    writeFileSync(join(dir, 'ops'), used, { mode: 0o400 });
    expect(enrol(dir, { ops: OPS })).toBe('');
    expect(readFileSync(join(dir, 'ops'), 'utf8')).toBe(used);
  });

  it('rewrites a changed secret or setting, removes former admins, and with --check changes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crvs-totp-'));
    enrol(dir, { ops: OPS, dave: 'KRSXG5CTMVRXEZLU' });
    writeFileSync(join(dir, 'ops'), `${OPS}\n" WINDOW_SIZE 17\n" TOTP_AUTH\n`, { mode: 0o400 });
    expect(enrol(dir, { ops: OPS }, '--check')).toBe('enrolled ops\nremoved dave\n');
    expect(readdirSync(dir).sort()).toEqual(['dave', 'ops']);
    expect(enrol(dir, { ops: OPS })).toBe('enrolled ops\nremoved dave\n');
    expect(readdirSync(dir)).toEqual(['ops']);
    expect(readFileSync(join(dir, 'ops'), 'utf8')).toBe(`${OPS}\n${SETTINGS}`);
    expect(enrol(dir, { ops: 'GEZDGNBVGY3TQOJQ' })).toBe('enrolled ops\n');
  });
});
