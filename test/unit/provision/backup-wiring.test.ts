import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type CommandResult, type CommandSpec, RecordingExecutor } from '../../../src/remote/executor.js';
import type { Sensitive } from '../../../src/secrets/sensitive.js';
import { generateSshKey, sshPublicKey } from '../../../src/secrets/ssh-key.js';
import type { Effects } from '../../../src/usecases/context.js';
import { provision } from '../../../src/usecases/provision.js';
import { fakeEffects } from '../helpers/context.js';
import { specFrom } from '../helpers/spec.js';
import { vaultDecrypt } from '../helpers/vault.js';

// A provisioning run with backups in the spec, on a scripted executor: which servers the backup plays target,
// what each end is told, and which values go only in the 0600 group_vars.
const dir = mkdtempSync(join(tmpdir(), 'crvs-wiring-'));
const specFile = join(dir, 'crvs.yaml');
writeFileSync(specFile, readFileSync('examples/lab/crvs.yaml', 'utf8'));
mkdirSync(join(dir, 'secrets'));
for (const e of ['production', 'staging', 'backup'])
  writeFileSync(join(dir, 'secrets', `${e}.age`), 'sealed');
writeFileSync(join(dir, 'id_ed25519'), 'key');
writeFileSync(join(dir, 'id_ed25519.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOperator op\n');
const s = {
  spec: specFrom(specFile),
  specFile,
  identity: join(dir, 'id_ed25519'),
  knownHosts: join(dir, 'known_hosts'),
};
const fx = (exec: RecordingExecutor, progress: (l: string) => void = () => {}): Effects => ({
  ...fakeEffects(exec),
  progress,
});

const PASS = 'canary-passphrase-7f3a';
const keys = {
  BACKUP_SSH_KEY: generateSshKey('crvs-backup@prod-2'),
  BACKUP_PRUNE_SSH_KEY: generateSshKey('crvs-prune@production'),
  RESTORE_SSH_KEY: generateSshKey('crvs-restore@staging-1'),
  JOURNAL_PRODUCTION: generateSshKey('crvs-journal@production'),
  JOURNAL_STAGING: generateSshKey('crvs-journal@staging'),
};
const stores: Record<string, Record<string, string>> = {
  production: {
    BACKUP_ENCRYPTION_PASSPHRASE: PASS,
    BACKUP_SSH_KEY: keys.BACKUP_SSH_KEY,
    BACKUP_PRUNE_SSH_KEY: keys.BACKUP_PRUNE_SSH_KEY,
    JOURNAL_SSH_KEY: keys.JOURNAL_PRODUCTION,
  },
  staging: {
    BACKUP_ENCRYPTION_PASSPHRASE: 'staging-own',
    RESTORE_SSH_KEY: keys.RESTORE_SSH_KEY,
    JOURNAL_SSH_KEY: keys.JOURNAL_STAGING,
  },
  backup: {},
};
const HOST_KEY = '|1|c2FsdA==|aGFzaA== ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBackupServer';

/** Answers the store reads per environment, the host key lookup, and reads the run's files when Ansible starts. */
class Lab extends RecordingExecutor {
  files: {
    inventory?: Record<string, unknown>;
    groupVars: Record<string, Record<string, unknown>>;
    groupVarsOnDisk: string;
  } = {
    groupVars: {},
    groupVarsOnDisk: '',
  };
  constructor(private readonly hostKey = HOST_KEY) {
    super();
  }
  override async run(c: CommandSpec): Promise<CommandResult> {
    await super.run(c);
    if (c.argv[0] === 'age') {
      const env = /open the (\w+) secrets/.exec(c.description ?? '')?.[1] ?? '';
      const secrets = Object.fromEntries(
        Object.entries(stores[env] ?? {}).map(([k, v]) => [k, { value: v, setAt: '2027-01-01T00:00:00Z' }]),
      );
      return { code: 0, stdout: JSON.stringify({ secrets }), stderr: '' };
    }
    if (c.argv[0] === 'ssh-keygen' && c.argv[1] === '-F')
      return {
        code: this.hostKey ? 0 : 1,
        stdout: this.hostKey ? `# Host 10.77.0.41 found: line 1\n${this.hostKey}\n` : '',
        stderr: '',
      };
    if (c.argv[0] === 'ansible-playbook') {
      const at = c.argv.indexOf('-i');
      const inv = c.argv[at + 1] ?? '';
      this.files.inventory = parse(readFileSync(inv, 'utf8'));
      for (const e of ['production', 'staging', 'backup']) {
        const f = join(inv, '..', 'group_vars', `env_${e}.json`);
        try {
          const password = (c.stdin as Sensitive<string>).reveal();
          const text = readFileSync(f, 'utf8');
          this.files.groupVarsOnDisk += text;
          this.files.groupVars[e] = JSON.parse(vaultDecrypt(text, password));
        } catch {
          /* not in this run */
        }
      }
      return {
        code: 0,
        stdout: `${JSON.stringify({ event: 'stats', hosts: { 'prod-1': { ok: 1, changed: 0, failures: 0, unreachable: 0, skipped: 0 } } })}\n`,
        stderr: '',
      };
    }
    return { code: 0, stdout: '', stderr: '' };
  }
}

type Inv = {
  all: { children: Record<string, { vars?: Record<string, unknown>; hosts: Record<string, unknown> }> };
};

describe('the backup wiring of a provisioning run', () => {
  it("targets production's data node and staging's, authorizes their keys on the backup server, secrets only in group_vars", async () => {
    const exec = new Lab();
    await provision(fx(exec), s, { environments: ['production', 'staging', 'backup'] });
    const inv = exec.files.inventory as Inv;
    expect(Object.keys(inv.all.children.backup_source?.hosts ?? {})).toEqual(['prod-2']);
    expect(Object.keys(inv.all.children.restore_target?.hosts ?? {})).toEqual(['staging-1']);
    const prod = inv.all.children.env_production?.vars ?? {};
    expect(prod.crvs_backup_client_server_host_key).toBe(HOST_KEY);
    expect(prod.crvs_backup_client_on_calendar).toEqual(['*-*-* 00:00:00']);
    const backup = inv.all.children.env_backup?.vars ?? {};
    expect(backup.crvs_backup_clients).toEqual([
      { name: 'production', key: sshPublicKey(keys.BACKUP_SSH_KEY), append_only: true },
      {
        name: 'staging',
        key: sshPublicKey(keys.RESTORE_SSH_KEY),
        append_only: true,
        repository: 'production',
      },
      {
        name: 'prune',
        key: sshPublicKey(keys.BACKUP_PRUNE_SSH_KEY),
        append_only: false,
        repository: 'production',
      },
    ]);
    // The lab allows its whole network; the two ends and the journal's senders are added to the backup server's SSH
    // sources all the same.
    expect(backup.crvs_ssh_allowed_sources).toEqual([
      '10.77.0.0/24',
      '10.77.0.22',
      '10.77.0.31',
      '10.77.0.21',
    ]);
    // The journal: every server of production and staging forwards it, each environment with its own key, accepted
    // only from its own servers' addresses.
    expect(Object.keys(inv.all.children.journal_sender?.hosts ?? {})).toEqual([
      'prod-1',
      'prod-2',
      'staging-1',
    ]);
    expect(backup.crvs_journal_keys).toEqual([
      {
        environment: 'production',
        key: sshPublicKey(keys.JOURNAL_PRODUCTION),
        from: ['10.77.0.21', '10.77.0.22'],
      },
      { environment: 'staging', key: sshPublicKey(keys.JOURNAL_STAGING), from: ['10.77.0.31'] },
    ]);
    expect(backup.crvs_journal_senders).toEqual([
      { address: '10.77.0.21', server: 'prod-1' },
      { address: '10.77.0.22', server: 'prod-2' },
      { address: '10.77.0.31', server: 'staging-1' },
    ]);
    expect(prod).toMatchObject({
      crvs_journal_server: '10.77.0.41',
      crvs_journal_server_port: 22,
      crvs_journal_server_host_key: HOST_KEY,
      crvs_journal_user: 'crvs-logs',
    });
    expect(exec.files.groupVars.production?.crvs_journal_private_key).toBe(keys.JOURNAL_PRODUCTION);
    expect(exec.files.groupVars.staging?.crvs_journal_private_key).toBe(keys.JOURNAL_STAGING);
    // Staging restores production's archives: it gets production's passphrase, not its own.
    expect(exec.files.groupVars.production).toMatchObject({
      crvs_backup_client_passphrase: PASS,
      crvs_backup_client_private_key: keys.BACKUP_SSH_KEY,
    });
    expect(exec.files.groupVars.staging).toMatchObject({
      crvs_backup_restore_passphrase: PASS,
      crvs_backup_restore_private_key: keys.RESTORE_SSH_KEY,
    });
    // The prune key reaches no server; no secret is in the inventory or on a command line.
    const inventoryText = JSON.stringify(inv);
    for (const secret of [PASS, ...Object.values(keys).map((k) => k.slice(-120, -60))])
      expect(inventoryText).not.toContain(secret);
    expect(JSON.stringify(exec.files.groupVars)).not.toContain(keys.BACKUP_PRUNE_SSH_KEY.slice(-120, -60));
    // On disk, the group_vars hold only Vault ciphertext; the run's password went to ansible-playbook on stdin.
    expect(exec.files.groupVarsOnDisk).toMatch(/^\$ANSIBLE_VAULT;1\.1;AES256\n[0-9a-f\n]+\$ANSIBLE_VAULT/);
    for (const secret of [PASS, ...Object.values(keys).map((k) => k.slice(-120, -60))])
      expect(exec.files.groupVarsOnDisk).not.toContain(secret);
    for (const line of exec.lines()) expect(line).not.toContain(PASS);
  });

  it('provisions production without wiring its backup, loudly, when the backup server never answered SSH', async () => {
    const exec = new Lab('');
    const progress: string[] = [];
    await provision(
      fx(exec, (l) => progress.push(l)),
      s,
      { environments: ['production'] },
    );
    expect((exec.files.inventory as Inv).all.children.backup_source).toBeUndefined();
    expect(progress).toContain(
      "backups: production's part is NOT wired, no backup or restore runs there: no host key of the backup server " +
        'backup-1 (10.77.0.41): it did not answer SSH',
    );
    // It tried to reach it once, as provisioning reaches any server (accepting a new host key, never a changed one).
    expect(exec.lines().filter((l) => l.endsWith('crvs@10.77.0.41 true'))).toHaveLength(1);
  });
});
