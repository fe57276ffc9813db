import { describe, expect, it } from 'vitest';
import { backupPlan } from '../../../src/backup/plan.js';
import {
  backupEnds,
  backupEnvironments,
  clientAddresses,
  keyHolders,
  restoreVars,
  sourceVars,
  targetVars,
} from '../../../src/backup/wiring.js';
import { exampleSpec, labExample } from '../helpers/spec.js';

const lab = labExample();
const HOST_KEY =
  '|1|c2FsdA==|aGFzaA== ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDQrOxq4kMeJOzLiaQaAGeJCs0ZgMy1KwJ6gwoR4BZFB';
const keys = {
  BACKUP_SSH_KEY: 'ssh-ed25519 AAAAbackup crvs-backup@prod-2',
  RESTORE_SSH_KEY: 'ssh-ed25519 AAAArestore crvs-restore@staging-1',
  BACKUP_PRUNE_SSH_KEY: 'ssh-ed25519 AAAAprune crvs-prune@production',
};

describe('the backup wiring of a spec', () => {
  it("runs the backup on production's data node and the drill on staging's, into one repository on the backup server", () => {
    expect(backupEnds(lab)).toEqual({
      source: { environment: 'production', server: 'prod-2', address: '10.77.0.22', port: 22 },
      target: { environment: 'backup', server: 'backup-1', address: '10.77.0.41', port: 22 },
      restore: {
        environment: 'staging',
        server: 'staging-1',
        address: '10.77.0.31',
        port: 22,
        schedule: '0 1 * * *',
      },
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
        { name: 'production', key: keys.BACKUP_SSH_KEY, append_only: true },
        { name: 'staging', key: keys.RESTORE_SSH_KEY, append_only: true, repository: 'production' },
        { name: 'prune', key: keys.BACKUP_PRUNE_SSH_KEY, append_only: false, repository: 'production' },
      ],
      // A daily backup: stale after its 24 h gap plus the 2 h grace.
      crvs_backup_watch: [{ name: 'production', stale_after_minutes: 26 * 60 }],
      crvs_alerts_quiet_users: ['borg'],
    });
    // A key not in the stores yet (its environment never provisioned) is left out, not written empty.
    expect(
      (targetVars(lab, ends, { BACKUP_SSH_KEY: keys.BACKUP_SSH_KEY }).crvs_backup_clients as unknown[])
        .length,
    ).toBe(1);
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
    const restore = restoreVars(lab, ends, [HOST_KEY]);
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

  it('wires no drill for the opencrvs preset (its restore is not written yet) and nothing without backups', () => {
    const national = exampleSpec('national');
    const ends = backupEnds(national);
    expect(ends?.restore).toBeUndefined();
    expect(ends?.source.environment).toBe('production');
    expect(backupEnds({ ...lab, backups: undefined })).toBeUndefined();
    const { backup: _b, ...withoutBackupServer } = lab.environments;
    expect(backupEnds({ ...lab, environments: withoutBackupServer })).toBeUndefined();
  });
});
