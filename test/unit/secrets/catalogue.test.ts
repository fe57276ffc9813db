import { describe, expect, it } from 'vitest';
import { catalogue } from '../../../src/secrets/catalogue.js';
import { specFrom as spec } from '../helpers/spec.js';

describe('the secrets an environment needs', () => {
  it('holds only the alert destinations on the backup server and the jump host, which run no stack', () => {
    const lab = spec('examples/lab/crvs.yaml');
    const names = (env?: string) => catalogue(lab, env).map((d) => d.name);
    expect(names('backup')).toEqual(['SMTP_USERNAME', 'SMTP_PASSWORD', 'ALERT_WEBHOOK_URL']);
    expect(names('jump')).toEqual(names('backup'));
    expect(names('production')).toEqual(names());
    expect(names('production')).toEqual(
      expect.arrayContaining(['POSTGRES_PASSWORD', 'APP_DB_PASSWORD', 'ALERT_WEBHOOK_URL']),
    );
  });

  it('asks the backup server for the SMTP credentials and Slack webhook its alerts need, nothing generated', () => {
    const defs = catalogue(spec('examples/national/crvs.yaml'), 'backup');
    expect(defs.map((d) => [d.name, d.generator, d.optional])).toEqual([
      ['SMTP_USERNAME', undefined, true],
      ['SMTP_PASSWORD', undefined, true],
    ]);
  });
});
