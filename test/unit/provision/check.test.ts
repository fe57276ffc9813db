import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { AUTOMATION_USER } from '../../../src/config/environment.js';
import { PACKAGE_ROOT } from '../../../src/paths.js';
import { describeEvent } from '../../../src/provision/events.js';
import { PLAYBOOK_TAGS, parseTags, playbookCommand, sshProbe } from '../../../src/provision/playbook.js';
import { RecordingExecutor } from '../../../src/remote/executor.js';
import { sensitive } from '../../../src/secrets/sensitive.js';
import type { Effects } from '../../../src/usecases/context.js';
import { provision } from '../../../src/usecases/provision.js';
import { labSpecContext } from '../helpers/spec.js';

// `crvs provision --check` on servers crvs has or has not provisioned, with a scripted executor (no servers).
const s = labSpecContext('crvs-check-');
const options = { environments: ['production'], check: true };
const fx = (exec: RecordingExecutor, progress: (l: string) => void = () => {}): Effects => ({
  exec,
  progress,
  now: () => new Date('2026-11-24T10:00:00Z'),
  actor: { who: 'alice', from: 'laptop' },
  env: {},
});
const stats = JSON.stringify({
  event: 'stats',
  hosts: {
    'prod-1': { ok: 80, changed: 1, failures: 0, unreachable: 0, skipped: 9 },
    'prod-2': { ok: 78, changed: 0, failures: 0, unreachable: 0, skipped: 9 },
  },
});

describe('provision --check', () => {
  it('refuses servers that do not answer as the automation user, before Ansible runs', async () => {
    const exec = new RecordingExecutor([{ match: /crvs@10\.77\.0\.22 true$/, result: { code: 255 } }]);
    await expect(provision(fx(exec), s, options)).rejects.toMatchObject({
      code: 'E_CHECK_UNPROVISIONED',
      message:
        '--check compares provisioned servers with the spec, and prod-2 does not answer as crvs yet: ' +
        'never provisioned (everything would change), or unreachable',
    });
    expect(exec.lines().some((l) => l.startsWith('ansible-playbook'))).toBe(false);
  });

  it('runs the playbook in check mode once every server answers as the automation user', async () => {
    const exec = new RecordingExecutor([{ match: 'ansible-playbook', result: { stdout: `${stats}\n` } }]);
    const progress: string[] = [];
    const [r] = await provision(
      fx(exec, (l) => progress.push(l)),
      s,
      options,
    );
    // No store next to this spec: the alert webhook the spec names is missing, and the run says so.
    expect(progress).toContain(
      'warning: ALERT_WEBHOOK_URL not in the production secrets store: SSH logins on production are not posted ' +
        'there (crvs secrets init production)',
    );
    const playbook = exec.lines().filter((l) => l.startsWith('ansible-playbook'));
    expect(playbook).toHaveLength(1);
    expect(playbook[0]).toContain(' --check ');
    expect(r?.connectedAs).toEqual({ 'prod-1': 'crvs', 'prod-2': 'crvs' });
    expect(r?.stats['prod-1']?.changed).toBe(1);
  });
});

describe('a provisioning run that fails', () => {
  it('repeats each failed task in the error: in a long run it scrolled away long before the end', async () => {
    const result = (host: string, status: string, task: string, message: string) =>
      JSON.stringify({ event: 'result', status, host, task, changed: false, message });
    const failing = JSON.stringify({
      event: 'stats',
      hosts: {
        'prod-1': { ok: 12, changed: 0, failures: 1, unreachable: 0, skipped: 0 },
        'prod-2': { ok: 3, changed: 0, failures: 0, unreachable: 1, skipped: 0 },
      },
    });
    const out = [
      result(
        'prod-1',
        'failed',
        'Install python3-apt',
        "E: dpkg was interrupted, you must manually run 'dpkg --configure -a'\nmore",
      ),
      result('prod-2', 'unreachable', 'Find compilers', ''),
      failing,
    ].join('\n');
    const exec = new RecordingExecutor([
      { match: 'ansible-playbook', result: { code: 2, stdout: `${out}\n` } },
    ]);
    await expect(provision(fx(exec), s, options)).rejects.toMatchObject({
      code: 'E_PROVISION',
      message:
        'provisioning production failed on prod-1, prod-2:\n' +
        "  prod-1: FAILED Install python3-apt: E: dpkg was interrupted, you must manually run 'dpkg --configure -a'\n" +
        '  prod-2: UNREACHABLE Find compilers',
    });
  });
});

describe('provision --server', () => {
  it('limits the run to the named servers, and refuses a name that is no server of the environments', async () => {
    const exec = new RecordingExecutor([{ match: 'ansible-playbook', result: { stdout: `${stats}\n` } }]);
    await provision(fx(exec), s, { ...options, servers: ['prod-2'] });
    const [playbook] = exec.lines().filter((l) => l.startsWith('ansible-playbook'));
    expect(playbook).toMatch(
      / --check --limit prod-2 --vault-password-file \S+\/vault-password-from-stdin \S+site\.yml$/,
    );
    await expect(provision(fx(exec), s, { ...options, servers: ['qa-1', 'prod-2'] })).rejects.toMatchObject({
      exitCode: 2,
      message: '--server qa-1: not a server of production',
    });
  });
});

describe('provision without an admin', () => {
  it('refuses to harden servers nobody could log in to afterwards, before connecting to any', async () => {
    const exec = new RecordingExecutor();
    const none = {
      ...s,
      spec: { ...s.spec, admins: s.spec.admins.map((a) => ({ ...a, state: 'absent' as const })) },
    };
    await expect(provision(fx(exec), none, options)).rejects.toMatchObject({
      code: 'E_NO_ADMIN',
      exitCode: 2,
      message: `${s.specFile} has no present admin: hardening production would leave nobody able to log in`,
    });
    expect(exec.commands).toEqual([]);
  });
});

describe('the commands of a provisioning run, exactly', () => {
  it('ansible-playbook over the generated inventory (secrets in its group_vars), with the shipped configuration', () => {
    const root = PACKAGE_ROOT.replace(/\/$/, '');
    const c = playbookCommand(
      '/tmp/run',
      { environments: ['qa', 'production'], check: true, tags: ['ssh', 'firewall'] },
      () => {},
    );
    expect(c.argv.join(' ')).toBe(
      `ansible-playbook -i /tmp/run/inventory.yml --check --tags ssh,firewall ${root}/ansible/playbooks/site.yml`,
    );
    expect(c.env).toEqual({
      ANSIBLE_CONFIG: `${root}/ansible/ansible.cfg`,
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_FORCE_COLOR: '0',
      PYTHONUNBUFFERED: '1',
    });
    expect(c.description).toBe('ansible-playbook site.yml (qa, production)');
    // With the group_vars encrypted: the password's way in is a script reading ansible-playbook's stdin.
    const password = sensitive('a-vault-password-canary', 'test vault password');
    const v = playbookCommand('/tmp/run', { environments: ['qa'], vaultPassword: password }, () => {});
    expect(v.argv.join(' ')).toBe(
      `ansible-playbook -i /tmp/run/inventory.yml --vault-password-file ${root}/ansible/bin/vault-password-from-stdin ${root}/ansible/playbooks/site.yml`,
    );
    expect(v.stdin).toBe(password);
  });

  it('--tags takes the tags the playbook gives its roles, and refuses others (they would run nothing)', () => {
    interface Play {
      roles?: { role: string; tags: string[] }[];
      tasks?: { tags?: string[] }[];
    }
    const plays = parseYaml(
      readFileSync(join(PACKAGE_ROOT, 'ansible', 'playbooks', 'site.yml'), 'utf8'),
    ) as Play[];
    const roleTags = plays.flatMap((p) => (p.roles ?? []).map((r) => `${r.role}:${r.tags.join(',')}`));
    expect(roleTags).toEqual([
      'crvs_users:users',
      'crvs_base:base',
      'crvs_ssh:ssh',
      'crvs_alerts:alerts',
      'crvs_firewall:firewall',
      'crvs_data_volume:data',
      'crvs_docker:docker',
      'crvs_swarm:swarm',
      'crvs_backup_server:backup',
      'crvs_backup_client:backup',
      'crvs_backup_restore:backup',
      'crvs_journal_forward:backup',
      'crvs_jump:jump',
    ]);
    const all = new Set([
      ...roleTags.map((t) => t.split(':')[1]),
      // `always` is Ansible's own: the integrity baseline runs whatever --tags says.
      ...plays.flatMap((p) => (p.tasks ?? []).flatMap((t) => t.tags ?? [])).filter((t) => t !== 'always'),
    ]);
    expect([...all].sort()).toEqual([...PLAYBOOK_TAGS].sort());
    // The TOTP enrolment goes with the accounts.
    const ssh = parseYaml(
      readFileSync(join(PACKAGE_ROOT, 'ansible', 'roles', 'crvs_ssh', 'tasks', 'main.yml'), 'utf8'),
    ) as { name: string; tags?: string[] }[];
    expect(ssh.filter((t) => t.tags).map((t) => [t.name.split(' (')[0], t.tags])).toEqual([
      ["Enrol each admin's TOTP secret", ['users']],
    ]);
    expect(parseTags('users, ssh')).toEqual(['users', 'ssh']);
    expect(() => parseTags('users,sshd')).toThrow(
      'unknown tag sshd: --tags takes users, base, ssh, alerts, firewall, data, docker, swarm, backup, jump',
    );
    expect(() => parseTags(',')).toThrow('no tag given: --tags takes users');
  });

  it('connects as the delivered account in the first play and as the automation user, a literal, after it', () => {
    interface Play {
      name: string;
      vars?: Record<string, unknown>;
    }
    const plays = parseYaml(
      readFileSync(join(PACKAGE_ROOT, 'ansible', 'playbooks', 'site.yml'), 'utf8'),
    ) as Play[];
    // The first play takes ansible_user from the inventory (the account that answered the probe).
    expect(plays[0]?.vars?.ansible_user).toBeUndefined();
    // Mitogen reads a connection variable as written: "{{ crvs_automation_user }}" would reach ssh as is.
    expect(plays.slice(1).map((p) => p.vars?.ansible_user)).toEqual(
      plays.slice(1).map(() => AUTOMATION_USER),
    );
    expect(plays.length).toBe(11);
  });

  it('says what runs the tasks, once', () => {
    expect(describeEvent({ event: 'engine', strategy: 'mitogen' })).toBe(
      'ansible: tasks run through Mitogen',
    );
    expect(describeEvent({ event: 'engine', strategy: "linear (No module named 'ansible_mitogen')" })).toBe(
      "ansible: tasks run through Ansible's linear (No module named 'ansible_mitogen')",
    );
  });

  it('the probe that tells which account a server accepts', () => {
    expect(sshProbe('/k/id', { knownHosts: '/k/kh' }, 'crvs', '10.0.0.5', 22).argv.join(' ')).toBe(
      'ssh -i /k/id -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=10 -o UserKnownHostsFile=/k/kh ' +
        '-o StrictHostKeyChecking=accept-new -p 22 crvs@10.0.0.5 true',
    );
  });

  it('the probe of a server whose host keys the spec pins: those keys alone, strictly; the jump hop too', () => {
    const probe = sshProbe('/k/id', { knownHosts: '/k/kh', pinned: '/k/kh.pinned' }, 'crvs', '10.0.0.5', 22, {
      via: 'crvs-jump@10.0.0.2:22',
      pinned: '/k/kh.pinned',
    });
    expect(probe.argv.join(' ')).toBe(
      'ssh -i /k/id -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=10 -o UserKnownHostsFile=/k/kh.pinned ' +
        '-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes ' +
        "-o ProxyCommand=ssh -i /k/id -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=10 -o UserKnownHostsFile=/k/kh.pinned -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -p 22 -W '[%h]:%p' crvs-jump@10.0.0.2 " +
        '-p 22 crvs@10.0.0.5 true',
    );
  });
});
