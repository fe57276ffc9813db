import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { backupPlan } from '../../../src/backup/plan.js';
import type { RestorePlan } from '../../../src/backup/restore-plan.js';
import { MONGO_DATABASES } from '../../../src/backup/sources.js';
import {
  backupEnds,
  backupEnvironments,
  clientAddresses,
  journalSenders,
  journalVars,
  keyHolders,
  keyRef,
  type RestoreEnd,
  restoreVars,
  retiredJournalServers,
  retiredRestoreServers,
  sourceVars,
  targetVars,
} from '../../../src/backup/wiring.js';
import { exampleSpec, LAB_QA_RESTORE, labExample, labWithQaRestore, specFromText } from '../helpers/spec.js';

const lab = labExample();
const HOST_KEY =
  '|1|c2FsdA==|aGFzaA== ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDQrOxq4kMeJOzLiaQaAGeJCs0ZgMy1KwJ6gwoR4BZFB';
const PUBLIC = {
  backup: 'ssh-ed25519 AAAAbackup crvs-backup@prod-2',
  staging: 'ssh-ed25519 AAAArestore crvs-restore@staging-1',
  qa: 'ssh-ed25519 AAAAqa crvs-restore@qa-1',
  prune: 'ssh-ed25519 AAAAprune crvs-prune@production',
};
const keys = {
  [keyRef('production', 'BACKUP_SSH_KEY')]: PUBLIC.backup,
  [keyRef('staging', 'RESTORE_SSH_KEY')]: PUBLIC.staging,
  [keyRef('qa', 'RESTORE_SSH_KEY')]: PUBLIC.qa,
  [keyRef('production', 'BACKUP_PRUNE_SSH_KEY')]: PUBLIC.prune,
};
const withQa = labWithQaRestore();

describe('the backup wiring of a spec', () => {
  it("runs the backup on production's data node and the drill on staging's, into one repository on the backup server", () => {
    expect(backupEnds(lab)).toEqual({
      source: { environment: 'production', server: 'prod-2', address: '10.77.0.22', port: 22 },
      target: { environment: 'backup', server: 'backup-1', address: '10.77.0.41', port: 22 },
      restores: [
        {
          environment: 'staging',
          server: 'staging-1',
          address: '10.77.0.31',
          port: 22,
          schedule: '0 1 * * *',
        },
      ],
      repository: 'ssh://borg@10.77.0.41/srv/borg/repos/production',
    });
    const ends = backupEnds(lab);
    if (!ends) throw new Error('no ends');
    expect(backupEnvironments(ends)).toEqual(['production', 'backup', 'staging']);
    expect(clientAddresses(ends)).toEqual(['10.77.0.22', '10.77.0.31']);
    expect(keyHolders(ends).map((k) => `${k.environment}:${k.secret}`)).toEqual([
      'production:BACKUP_SSH_KEY',
      'production:BACKUP_PRUNE_SSH_KEY',
      'staging:RESTORE_SSH_KEY',
    ]);
  });

  it("authorizes production and staging append-only and the prune key in full, all on production's repository", () => {
    const ends = backupEnds(lab);
    if (!ends) throw new Error('no ends');
    expect(targetVars(lab, ends, keys)).toEqual({
      crvs_backup_clients: [
        { name: 'production', key: PUBLIC.backup, append_only: true },
        { name: 'staging', key: PUBLIC.staging, append_only: true, repository: 'production' },
        { name: 'prune', key: PUBLIC.prune, append_only: false, repository: 'production' },
      ],
      // A daily backup: stale after its 24 h gap plus the 2 h grace.
      crvs_backup_watch: [{ name: 'production', stale_after_minutes: 26 * 60 }],
      crvs_journal_keys: [],
      crvs_journal_senders: [],
      crvs_journal_root: '/var/log/crvs-journal',
      crvs_journal_user: 'crvs-logs',
      crvs_alerts_quiet_users: ['borg', 'crvs-logs'],
    });
    // A key not in the stores yet (its environment never provisioned) is left out, not written empty.
    expect(
      (
        targetVars(lab, ends, { [keyRef('production', 'BACKUP_SSH_KEY')]: PUBLIC.backup })
          .crvs_backup_clients as unknown[]
      ).length,
    ).toBe(1);
  });

  it("forwards the journal of production's and staging's servers, each environment's key only from its own addresses", () => {
    const ends = backupEnds(lab);
    if (!ends) throw new Error('no ends');
    const senders = journalSenders(lab, ends);
    expect(senders).toEqual([
      { environment: 'production', server: 'prod-1', address: '10.77.0.21' },
      { environment: 'production', server: 'prod-2', address: '10.77.0.22' },
      { environment: 'staging', server: 'staging-1', address: '10.77.0.31' },
    ]);
    expect(clientAddresses(ends, senders)).toEqual(['10.77.0.22', '10.77.0.31', '10.77.0.21']);
    expect(keyHolders(ends, senders).map((k) => `${k.environment}:${k.secret}:${k.comment}`)).toEqual([
      'production:BACKUP_SSH_KEY:crvs-backup@prod-2',
      'production:BACKUP_PRUNE_SSH_KEY:crvs-prune@production',
      'staging:RESTORE_SSH_KEY:crvs-restore@staging-1',
      'production:JOURNAL_SSH_KEY:crvs-journal@production',
      'staging:JOURNAL_SSH_KEY:crvs-journal@staging',
    ]);
    const journal = {
      ...keys,
      [keyRef('production', 'JOURNAL_SSH_KEY')]: 'ssh-ed25519 AAAAjournal crvs-journal@production',
    };
    // Staging's key is not in its store yet: left out, its server not accepted.
    expect(targetVars(lab, ends, journal, senders)).toMatchObject({
      crvs_journal_keys: [
        {
          environment: 'production',
          key: 'ssh-ed25519 AAAAjournal crvs-journal@production',
          from: ['10.77.0.21', '10.77.0.22'],
        },
      ],
      crvs_journal_senders: [
        { address: '10.77.0.21', server: 'prod-1' },
        { address: '10.77.0.22', server: 'prod-2' },
        { address: '10.77.0.31', server: 'staging-1' },
      ],
    });
    expect(journalVars(ends, [HOST_KEY])).toEqual({
      crvs_journal_server: '10.77.0.41',
      crvs_journal_server_port: 22,
      crvs_journal_server_host_key: HOST_KEY,
      crvs_journal_user: 'crvs-logs',
      crvs_journal_client_dir: '/etc/crvs/journal',
    });
    // Turned off in the spec: no sender, no key.
    const off = specFromText(
      readFileSync('examples/lab/crvs.yaml', 'utf8').replace(
        /^backups:\n/m,
        'backups:\n  forwardJournal: false\n',
      ),
    );
    const offEnds = backupEnds(off);
    if (!offEnds) throw new Error('no ends');
    expect(journalSenders(off, offEnds)).toEqual([]);
    expect(keyHolders(offEnds, []).map((k) => k.secret)).not.toContain('JOURNAL_SSH_KEY');
    // What an earlier spec installed goes: from every server of the run that is no sender, never from a sender.
    expect(retiredJournalServers(lab, ends, ['qa', 'production', 'backup'])).toEqual(['qa-1']);
    expect(retiredJournalServers(off, offEnds, ['qa', 'production', 'backup'])).toEqual([
      'qa-1',
      'prod-1',
      'prod-2',
    ]);
    expect(retiredJournalServers(lab, undefined, ['staging'])).toEqual(['staging-1']);
  });

  it('tells each end its schedule, the repository and the pinned host key, and no secret', () => {
    const ends = backupEnds(lab);
    if (!ends) throw new Error('no ends');
    const source = sourceVars(lab, ends, [HOST_KEY]);
    expect(source).toMatchObject({
      crvs_backup_client_environment: 'production',
      crvs_backup_client_on_calendar: ['*-*-* 00:00:00'],
      crvs_backup_client_server: '10.77.0.41',
      crvs_backup_client_server_port: 22,
      crvs_backup_client_server_host_key: HOST_KEY,
      crvs_backup_client_dir: '/etc/crvs/backup',
    });
    const decoded = (v: unknown) => JSON.parse(Buffer.from(v as string, 'base64').toString('utf8'));
    expect(decoded(source.crvs_backup_client_plan_b64)).toEqual(
      backupPlan(lab, 'production', ends.repository),
    );
    // Disaster recovery of production from its own repository: the drill's steps without the app's stop, start and
    // check (production's data node is a Swarm worker; crvs does those on the manager).
    const recovery = decoded(source.crvs_backup_client_recovery_plan_b64);
    expect(recovery).toMatchObject({ environment: 'production', source: 'production', appCheck: [] });
    expect(recovery.swap.services).toEqual([]);
    expect(recovery.repository).toBe(ends.repository);
    const staging = ends.restores[0];
    if (!staging) throw new Error('no staging end');
    const restore = restoreVars(lab, ends, staging, [HOST_KEY]);
    expect(restore).toMatchObject({
      crvs_backup_restore_environment: 'staging',
      crvs_backup_restore_on_calendar: ['*-*-* 01:00:00'],
      crvs_backup_restore_server_host_key: HOST_KEY,
    });
    expect(decoded(restore.crvs_backup_restore_plan_b64)).toMatchObject({
      source: 'production',
      repository: ends.repository,
      staleAfterMinutes: 26 * 60,
      swap: { services: ['crvs_app', 'crvs_documents'] },
    });
    expect(JSON.stringify({ source, restore })).not.toMatch(/passphrase"|private_key|PRIVATE KEY/i);
  });

  it("wires the opencrvs preset's drill into staging with the OpenCRVS stores, and nothing without backups", () => {
    const national = exampleSpec('national');
    const ends = backupEnds(national);
    if (!ends) throw new Error('no ends');
    expect(ends.restores).toEqual([
      { environment: 'staging', server: 'staging-1', address: '192.0.2.14', port: 22, schedule: '0 1 * * *' },
    ]);
    expect(ends.source.environment).toBe('production');
    const vars = restoreVars(national, ends, ends.restores[0] as RestoreEnd, [HOST_KEY]);
    const plan = JSON.parse(
      Buffer.from(vars.crvs_backup_restore_plan_b64 as string, 'base64').toString('utf8'),
    ) as RestorePlan;
    expect(plan.streams.map((s) => s.store)).toEqual([
      ...MONGO_DATABASES.map((db) => `mongo-${db}`),
      'postgres',
      'elasticsearch',
      'influxdb',
    ]);
    expect(plan.trees.map((t) => t.store)).toEqual(['minio', 'metabase']);
    expect(vars.crvs_backup_restore_on_calendar).toEqual(['*-*-* 01:00:00']);
    expect(backupEnds({ ...lab, backups: undefined })).toBeUndefined();
    const { backup: _b, ...withoutBackupServer } = lab.environments;
    expect(backupEnds({ ...lab, environments: withoutBackupServer })).toBeUndefined();
  });

  it('wires qa as a second restoring environment when its spec asks: its own key, append-only, no timer without a schedule', () => {
    const ends = backupEnds(withQa);
    if (!ends) throw new Error('no ends');
    expect(ends.restores).toEqual([
      {
        environment: 'staging',
        server: 'staging-1',
        address: '10.77.0.31',
        port: 22,
        schedule: '0 1 * * *',
      },
      { environment: 'qa', server: 'qa-1', address: '10.77.0.11', port: 22 },
    ]);
    expect(backupEnvironments(ends)).toEqual(['production', 'backup', 'staging', 'qa']);
    expect(clientAddresses(ends)).toEqual(['10.77.0.22', '10.77.0.31', '10.77.0.11']);
    expect(keyHolders(ends).map((k) => `${k.environment}:${k.secret}:${k.comment}`)).toEqual([
      'production:BACKUP_SSH_KEY:crvs-backup@prod-2',
      'production:BACKUP_PRUNE_SSH_KEY:crvs-prune@production',
      'staging:RESTORE_SSH_KEY:crvs-restore@staging-1',
      'qa:RESTORE_SSH_KEY:crvs-restore@qa-1',
    ]);
    expect(targetVars(withQa, ends, keys).crvs_backup_clients).toEqual([
      { name: 'production', key: PUBLIC.backup, append_only: true },
      { name: 'staging', key: PUBLIC.staging, append_only: true, repository: 'production' },
      { name: 'qa', key: PUBLIC.qa, append_only: true, repository: 'production' },
      { name: 'prune', key: PUBLIC.prune, append_only: false, repository: 'production' },
    ]);
    const qa = ends.restores[1];
    if (!qa) throw new Error('no qa end');
    const vars = restoreVars(withQa, ends, qa, [HOST_KEY]);
    expect(vars).toMatchObject({
      crvs_backup_restore_environment: 'qa',
      crvs_backup_restore_on_calendar: [],
    });
    const plan = JSON.parse(Buffer.from(vars.crvs_backup_restore_plan_b64 as string, 'base64').toString());
    expect(plan).toMatchObject({ environment: 'qa', source: 'production', repository: ends.repository });
    // Turned off: not wired, its key not kept, and the drill is retired from qa-1.
    const off = specFromText(
      LAB_QA_RESTORE.replace('{ source: production }', '{ source: production, enabled: false }'),
    );
    expect(backupEnds(off)?.restores.map((r) => r.environment)).toEqual(['staging']);
    expect(retiredRestoreServers(off, backupEnds(off), ['qa', 'production', 'backup'])).toEqual(['qa-1']);
  });

  it('retires the drill from application servers that neither are the source nor restore, never from the source', () => {
    const all = ['qa', 'production', 'staging', 'backup', 'jump'];
    expect(retiredRestoreServers(lab, backupEnds(lab), all)).toEqual(['qa-1']);
    expect(retiredRestoreServers(withQa, backupEnds(withQa), all)).toEqual([]);
    expect(retiredRestoreServers(lab, backupEnds(lab), ['production', 'backup'])).toEqual([]);
    // Without backups nothing restores: every application server of the run.
    const none = { ...lab, backups: undefined };
    expect(retiredRestoreServers(none, backupEnds(none), all)).toEqual([
      'qa-1',
      'prod-1',
      'prod-2',
      'staging-1',
    ]);
  });
});
