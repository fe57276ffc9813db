import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packagePath } from '../../src/paths.js';
import { type AnsibleEvent, parseEvent } from '../../src/provision/events.js';
import { playbookCommand } from '../../src/provision/playbook.js';
import { vaultEncrypt } from '../../src/provision/vault.js';
import { sensitive } from '../../src/secrets/sensitive.js';

// What runs crvs's playbooks (ansible/strategy_plugins/crvs_linear.py): Mitogen where ansible-mitogen is installed
// and fits this Ansible, Ansible's own linear strategy otherwise. A one-task playbook on this host, with crvs's
// ansible.cfg and callback, both ways. No server: a few seconds.
const dir = mkdtempSync(join(tmpdir(), 'crvs-ansible-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

writeFileSync(
  join(dir, 'play.yml'),
  [
    '- hosts: all',
    '  gather_facts: false',
    '  become: false',
    '  tasks:',
    '    - name: Read the kernel name',
    '      ansible.builtin.command: uname -s',
    '      register: kernel',
    '      changed_when: false',
    '    - name: Write a file',
    '      ansible.builtin.copy:',
    `        dest: ${join(dir, 'written.txt')}`,
    '        content: "{{ kernel.stdout }}\\n"',
    '        mode: "0600"',
    '',
  ].join('\n'),
);

function play(env: NodeJS.ProcessEnv = {}): {
  status: number | null;
  events: AnsibleEvent[];
  stderr: string;
} {
  rmSync(join(dir, 'written.txt'), { force: true });
  const r = spawnSync(
    'ansible-playbook',
    [
      '-i',
      'here,',
      '-e',
      'ansible_connection=local ansible_python_interpreter=/usr/bin/python3',
      join(dir, 'play.yml'),
    ],
    {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, ANSIBLE_CONFIG: packagePath('ansible', 'ansible.cfg'), ...env },
    },
  );
  const events = r.stdout
    .split('\n')
    .map(parseEvent)
    .filter((e): e is AnsibleEvent => e !== undefined);
  return { status: r.status, events, stderr: r.stderr };
}

const engine = (events: AnsibleEvent[]) => events.filter((e) => e.event === 'engine');
const results = (events: AnsibleEvent[]) =>
  events.flatMap((e) => (e.event === 'result' ? [[e.task, e.status, e.changed]] : []));

describe("the playbooks' engine", () => {
  it('runs the tasks through Mitogen where ansible-mitogen is installed (setup-host.sh installs it)', () => {
    const r = play();
    expect(r.status, r.stderr).toBe(0);
    expect(engine(r.events)).toEqual([{ event: 'engine', strategy: 'mitogen' }]);
    expect(results(r.events)).toEqual([
      ['Read the kernel name', 'ok', false],
      ['Write a file', 'ok', true],
    ]);
  });

  it("falls back to Ansible's linear strategy when Mitogen cannot load, naming why, with the same results", () => {
    // A Mitogen that fails to import, first on Python's path (as one made for another Ansible refuses to load).
    const fake = join(dir, 'fake');
    mkdirSync(join(fake, 'ansible_mitogen'), { recursive: true });
    writeFileSync(
      join(fake, 'ansible_mitogen', '__init__.py'),
      'raise ImportError("not for this Ansible")\n',
    );
    const r = play({ PYTHONPATH: fake });
    expect(r.status, r.stderr).toBe(0);
    expect(engine(r.events)).toEqual([{ event: 'engine', strategy: 'linear (not for this Ansible)' }]);
    expect(results(r.events)).toEqual([
      ['Read the kernel name', 'ok', false],
      ['Write a file', 'ok', true],
    ]);
  });
});

// The secret values of a provisioning run, as it hands them over: a group_vars file encrypted with crvs's own
// Ansible Vault writer, its password on ansible-playbook's stdin, which Ansible's password script reads (playbookCommand). Ansible must read them, and
// nothing the run leaves on disk holds them in clear.
describe("the secrets' way into Ansible", () => {
  it('a Vault-encrypted group_vars file, its password on stdin: the play gets the value, the files hold ciphertext', () => {
    const run = join(dir, 'vault-run');
    mkdirSync(join(run, 'group_vars'), { recursive: true });
    const canary = `canary-${randomBytes(12).toString('hex')}`;
    const password = sensitive(randomBytes(32).toString('base64url'), 'test vault password');
    writeFileSync(
      join(run, 'inventory.yml'),
      'all:\n  children:\n    crvs_qa:\n      hosts:\n        here:\n          ansible_connection: local\n          ansible_python_interpreter: /usr/bin/python3\n',
    );
    writeFileSync(
      join(run, 'group_vars', 'crvs_qa.json'),
      vaultEncrypt(JSON.stringify({ crvs_test_secret: canary }), password.reveal()),
    );
    writeFileSync(
      join(run, 'play.yml'),
      [
        '- hosts: all',
        '  gather_facts: false',
        '  become: false',
        '  tasks:',
        '    - name: Write the secret where the test can read it',
        '      ansible.builtin.copy:',
        `        dest: ${join(dir, 'secret.txt')}`,
        '        content: "{{ crvs_test_secret }}"',
        '        mode: "0600"',
        '      no_log: true',
        '',
      ].join('\n'),
    );
    const spec = playbookCommand(run, { environments: ['qa'], vaultPassword: password }, () => {});
    const argv = spec.argv.map((a) => (a.endsWith('site.yml') ? join(run, 'play.yml') : a));
    expect(argv.slice(3)).toEqual([
      '--vault-password-file',
      packagePath('ansible', 'bin', 'vault-password-from-stdin'),
      join(run, 'play.yml'),
    ]);
    const r = spawnSync(argv[0] as string, argv.slice(1), {
      input: password.reveal(),
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, ...spec.env },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'secret.txt'), 'utf8')).toBe(canary);
    const files = readdirSync(run, { recursive: true, encoding: 'utf8' }).map((f) => join(run, f));
    for (const f of files.filter((f) => statSync(f).isFile()))
      expect(readFileSync(f, 'utf8')).not.toContain(canary);
    expect(readFileSync(join(run, 'group_vars', 'crvs_qa.json'), 'utf8')).toMatch(
      /^\$ANSIBLE_VAULT;1\.1;AES256\n/,
    );
    expect(`${r.stdout}${r.stderr}`).not.toContain(canary);
    expect(argv.join(' ')).not.toContain(password.reveal());
  });
});
