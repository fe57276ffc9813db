import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

// crvs's audit rules are rendered and installed on servers that are not containers; the lab's servers are
// containers sharing the host's kernel audit, so no lab test loads them. This test pins what they record, by key.
const rules = readFileSync('ansible/roles/crvs_base/files/90-crvs.rules', 'utf8')
  .split('\n')
  .filter((l) => l.trim() && !l.startsWith('#'));

describe('the audit rules', () => {
  it('are auditctl watch or syscall rules, each with a key', () => {
    for (const line of rules)
      expect(line).toMatch(
        /^(-w \/\S+ -p [rwxa]+|-a always,exit -F arch=b(64|32) -S execve -F euid=0 -F auid>=1000 -F auid!=unset) -k [a-z]+$/,
      );
  });

  it("record logins, privilege, and changes to SSH, PAM, sudo, accounts and crvs's files", () => {
    const byKey: Record<string, string[]> = {};
    for (const line of rules) {
      const key = / -k (\S+)$/.exec(line)?.[1] ?? '';
      const what = /^-w (\S+)/.exec(line)?.[1] ?? / (arch=\S+)/.exec(line)?.[1] ?? '';
      byKey[key] = [...(byKey[key] ?? []), what];
    }
    expect(byKey).toEqual({
      logins: ['/var/log/wtmp', '/var/log/btmp', '/var/log/lastlog', '/var/lib/crvs-totp/'],
      privilege: ['/usr/bin/sudo', '/usr/bin/su', 'arch=b64', 'arch=b32'],
      ssh: ['/etc/ssh/'],
      pam: ['/etc/pam.d/', '/etc/security/'],
      sudo: ['/etc/sudoers', '/etc/sudoers.d/'],
      accounts: ['/etc/passwd', '/etc/shadow', '/etc/group'],
      crvs: ['/etc/crvs/', '/usr/local/sbin/', '/etc/aide/'],
    });
  });

  it('are installed only where the server is not a container (which would load them into its host)', () => {
    const main = parseYaml(readFileSync('ansible/roles/crvs_base/tasks/main.yml', 'utf8')) as {
      'ansible.builtin.import_tasks'?: string;
      when?: string;
    }[];
    expect(main.find((t) => t['ansible.builtin.import_tasks'] === 'audit.yml')?.when).toBe(
      'not crvs_in_container',
    );
  });
});
