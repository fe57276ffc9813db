import { describe, expect, it } from 'vitest';
import { catalogue } from '../../../src/secrets/catalogue.js';
import { labEncrypting, specFrom as spec } from '../helpers/spec.js';

describe('the secrets an environment needs', () => {
  it('holds only the alert destinations on the backup server and the jump host, which run no stack', () => {
    const lab = spec('examples/lab/crvs.yaml');
    const names = (env?: string) => catalogue(lab, env).map((d) => d.name);
    expect(names('backup')).toEqual(['SMTP_USERNAME', 'SMTP_PASSWORD', 'ALERT_WEBHOOK_URL']);
    expect(names('jump')).toEqual(names('backup'));
    // Production's store also holds the backup runner's key and the prune key; staging's the drill's key. Both
    // hold the key their servers forward their journal with, and their data volume's key.
    expect(names('production')).toEqual([
      ...names(),
      'BACKUP_SSH_KEY',
      'BACKUP_PRUNE_SSH_KEY',
      'JOURNAL_SSH_KEY',
      'DATA_VOLUME_KEY',
    ]);
    expect(names('staging')).toEqual([...names(), 'RESTORE_SSH_KEY', 'JOURNAL_SSH_KEY', 'DATA_VOLUME_KEY']);
    expect(names('qa')).toEqual(names());
    expect(names('production')).toEqual(
      expect.arrayContaining(['POSTGRES_PASSWORD', 'APP_DB_PASSWORD', 'ALERT_WEBHOOK_URL']),
    );
  });

  it("holds the data volume's key only where the spec encrypts the data", () => {
    const names = (spec: ReturnType<typeof labEncrypting>, env: string) =>
      catalogue(spec, env).map((d) => d.name);
    expect(names(labEncrypting('qa'), 'qa')).toContain('DATA_VOLUME_KEY');
    expect(names(labEncrypting('qa'), 'development')).not.toContain('DATA_VOLUME_KEY');
    expect(names(labEncrypting('production', false), 'production')).not.toContain('DATA_VOLUME_KEY');
    expect(names(labEncrypting('production', false), 'staging')).toContain('DATA_VOLUME_KEY');
  });

  it('asks the backup server for the SMTP credentials and Slack webhook its alerts need, nothing generated', () => {
    const defs = catalogue(spec('examples/national/crvs.yaml'), 'backup');
    expect(defs.map((d) => [d.name, d.generator, d.optional])).toEqual([
      ['SMTP_USERNAME', undefined, true],
      ['SMTP_PASSWORD', undefined, true],
    ]);
  });

  it('generates the backup keys as OpenSSH Ed25519 keys named after the end that uses them', () => {
    const defs = catalogue(spec('examples/lab/crvs.yaml'), 'production').filter((d) =>
      d.name.endsWith('_SSH_KEY'),
    );
    expect(defs.map((d) => [d.name, d.generator])).toEqual([
      ['BACKUP_SSH_KEY', { kind: 'ssh-ed25519', comment: 'crvs-backup@prod-2' }],
      ['BACKUP_PRUNE_SSH_KEY', { kind: 'ssh-ed25519', comment: 'crvs-prune@production' }],
      ['JOURNAL_SSH_KEY', { kind: 'ssh-ed25519', comment: 'crvs-journal@production' }],
    ]);
  });
});
