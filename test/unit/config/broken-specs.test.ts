import { describe, expect, it } from 'vitest';
import { formatProblem, validateSpecText } from '../../../src/config/load.js';
import { PILOT_SPEC } from '../helpers/spec.js';

// A valid pilot spec (PILOT_SPEC); each case below breaks it in one or more places.
const base = PILOT_SPEC;

/** Replace one exact line fragment of the base spec (fails loudly if the fragment is not there). */
function edit(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`fixture does not contain ${from}`);
  return text.replace(from, to);
}

const lines = (text: string) => {
  const r = validateSpecText(text, 'crvs.yaml');
  return r.problems.map((p) => formatProblem(p).split('\n')[0] ?? '');
};

describe('a valid spec', () => {
  it('has no problems', () => {
    const r = validateSpecText(base);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
  });
});

describe('structure errors, every one reported with line and column', () => {
  it.each([
    [
      'typo in a top-level key',
      edit(base, 'domain:', 'domian:'),
      ['crvs.yaml:1:1  domain  is required', 'crvs.yaml:3:1  domian  unknown key "domian"'],
    ],
    [
      'typo in a nested key, with a suggestion',
      edit(base, '        address: 10.0.0.10', '        adress: 10.0.0.10'),
      [
        'crvs.yaml:14:9  environments.production.servers[0].address  is required',
        'crvs.yaml:15:9  environments.production.servers[0].adress  unknown key "adress"',
      ],
    ],
    [
      'wrong type',
      edit(base, "  schedule: '0 0 * * *'", '  schedule: 5'),
      ['crvs.yaml:30:13  backups.schedule  must be a string, not number 5'],
    ],
    [
      'bad enum value',
      edit(base, '  version: v1.9.0', '  version: v1.9.0\n  preset: kubernetes'),
      ['crvs.yaml:33:11  stack.preset  must be one of "opencrvs", "demo"'],
    ],
    [
      'bad country code',
      edit(base, 'country: FAR', 'country: Far'),
      ['crvs.yaml:2:10  country  must be an ISO 3166-1 alpha-3 code in capitals, such as FAR or KEN'],
    ],
    [
      'unknown environment',
      edit(base, '  qa:\n', '  prod:\n'),
      ['crvs.yaml:8:3  environments.prod  unknown key "prod"'],
    ],
    [
      'empty server list',
      edit(base, '    servers:\n      - { name: qa-1, address: 10.0.0.5 }', '    servers: []'),
      ['crvs.yaml:10:14  environments.qa.servers  must have at least 1 item'],
    ],
  ])('%s', (_, text, expected) => {
    expect(lines(text)).toEqual(expected);
  });

  it('names the closest key in the hint', () => {
    const r = validateSpecText(edit(base, '    testTwoFactorCodes: true', '    testTwoFactorCode: true'));
    expect(r.problems.map((p) => [p.path, p.message, p.hint])).toEqual([
      [
        'environments.qa.testTwoFactorCode',
        'unknown key "testTwoFactorCode"',
        'did you mean "testTwoFactorCodes"?',
      ],
    ]);
  });

  it('reports a YAML syntax error at its position', () => {
    const r = validateSpecText(edit(base, 'country: FAR', 'country: [FAR'));
    expect(r.ok).toBe(false);
    // The parser notices the unclosed list where the next key starts.
    expect(lines(edit(base, 'country: FAR', 'country: [FAR'))).toEqual([
      'crvs.yaml:3:1  (yaml)  Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  it('reports a duplicated key', () => {
    const r = validateSpecText(`${base}country: KEN\n`);
    expect(r.problems.map((p) => [p.rule, p.line, p.message])).toEqual([
      ['yaml', 33, 'Map keys must be unique'],
    ]);
  });
});

describe('cross-field rules', () => {
  it.each([
    [
      'test 2FA codes on production',
      edit(base, '  production:\n', '  production:\n    testTwoFactorCodes: true\n'),
      [
        'crvs.yaml:13:25  environments.production.testTwoFactorCodes  production must not accept the test 2FA code 000000',
      ],
    ],
    [
      'test 2FA codes on staging',
      edit(base, '  staging:\n', '  staging:\n    testTwoFactorCodes: true\n'),
      [
        'crvs.yaml:17:25  environments.staging.testTwoFactorCodes  staging must not accept the test 2FA code 000000',
      ],
    ],
    [
      'production with citizen data and no backup environment',
      edit(
        edit(base, '  backup:\n    servers:\n      - name: backup-1\n        address: 10.0.0.30\n', ''),
        "backups:\n  schedule: '0 0 * * *'\n",
        '',
      ),
      [
        'crvs.yaml:1:1  backups  production holds citizen data but backups are not configured',
        'crvs.yaml:13:5  environments.production  production holds citizen data but no backup environment is declared',
      ],
    ],
    [
      'staging restoring from qa',
      edit(base, '      source: production', '      source: qa'),
      [
        'crvs.yaml:21:15  environments.staging.restore.source  staging may restore only from production, not from "qa"',
      ],
    ],
    [
      'qa restoring production while it accepts test 2FA codes',
      edit(base, '  qa:\n', '  qa:\n    restore: { source: production }\n'),
      [
        "crvs.yaml:10:25  environments.qa.testTwoFactorCodes  qa restores production's citizen records, so it must not accept the test 2FA code 000000",
      ],
    ],
    [
      'qa restoring production while it says it holds no citizen data',
      edit(
        base,
        '    testTwoFactorCodes: true\n',
        '    citizenData: false\n    restore: { source: production }\n',
      ),
      [
        "crvs.yaml:9:18  environments.qa.citizenData  qa restores production's backup, so it holds citizen data",
      ],
    ],
    [
      'qa holding citizen data without restoring it',
      edit(base, '    testTwoFactorCodes: true\n', '    citizenData: true\n'),
      ['crvs.yaml:9:18  environments.qa.citizenData  qa must not hold citizen data'],
    ],
    [
      'qa restoring from staging',
      edit(base, '    testTwoFactorCodes: true\n', '    restore: { source: staging }\n'),
      [
        'crvs.yaml:9:24  environments.qa.restore.source  qa may restore only from production, not from "staging"',
      ],
    ],
    [
      'the same address in two environments',
      edit(base, '        address: 10.0.0.20', '        address: 10.0.0.10'),
      [
        'crvs.yaml:19:18  environments.staging.servers[0].address  address 10.0.0.10 is already used by environments.production.servers[0]',
      ],
    ],
    [
      'the backup server is also an application server',
      edit(base, '        address: 10.0.0.30', '        address: 10.0.0.5'),
      [
        'crvs.yaml:25:18  environments.backup.servers[0].address  address 10.0.0.5 is already used by environments.qa.servers[0]',
      ],
    ],
    [
      'an arm64 server',
      edit(base, '        address: 10.0.0.10', '        address: 10.0.0.10\n        architecture: arm64'),
      [
        'crvs.yaml:16:23  environments.production.servers[0].architecture  prod-1 is arm64; OpenCRVS runs on x86_64 only',
      ],
    ],
    [
      'bastion without a jump host',
      edit(base, 'admins:', 'connection:\n  method: bastion\nadmins:'),
      ['crvs.yaml:5:11  connection.method  connection method is bastion but no jump host is declared'],
    ],
  ])('%s', (_, text, expected) => {
    const r = validateSpecText(text, 'crvs.yaml');
    expect(r.ok).toBe(false);
    expect(lines(text).filter((l) => !l.includes('warning:'))).toEqual(expected);
  });

  it('explains why the backup server must stand alone', () => {
    const r = validateSpecText(edit(base, '        address: 10.0.0.30', '        address: 10.0.0.5'));
    expect(r.problems[0]?.hint).toMatch(/backup server must be a separate machine/);
  });

  it('reports every broken rule of one spec in one run', () => {
    let text = edit(base, '  production:\n', '  production:\n    testTwoFactorCodes: true\n');
    text = edit(text, '      source: production', '      source: development');
    text = edit(
      text,
      '        address: 10.0.0.30',
      '        address: 10.0.0.5\n        architecture: aarch64',
    );
    text = edit(text, 'admins:', 'connection:\n  method: bastion\nadmins:');
    const r = validateSpecText(text);
    expect(r.problems.filter((p) => p.severity === 'error').map((p) => p.rule)).toEqual([
      'bastion-needs-jump-host',
      'test-2fa-only-outside-production',
      'restores-from-production',
      'unique-servers',
      'x86-64-only',
    ]);
  });
});

describe('warnings', () => {
  const national = (servers: number, population: number) => {
    const prod = Array.from(
      { length: servers },
      (_, i) =>
        `      - { name: prod-${i + 1}, address: 10.0.1.${i + 1}, role: ${i ? 'worker' : 'manager'}${i ? '' : ", labels: { data: 'true' }"} }`,
    ).join('\n');
    return `${edit(base, '      - name: prod-1\n        address: 10.0.0.10', prod)}phase: national\nsizing:\n  population: ${population}\n`;
  };

  it.each([
    [2, 29_999_999, []],
    [2, 30_000_000, ['production has 2 servers; 3 are recommended for a population of 30,000,000']],
    [3, 59_999_999, []],
    [3, 60_000_000, ['production has 3 servers; 5 are recommended for a population of 60,000,000']],
    [1, 1_000_000, ['production has 1 server; 2 are recommended for a population of 1,000,000']],
  ])('production x%d for %d people', (servers, population, expected) => {
    const r = validateSpecText(national(servers, population));
    expect(r.ok).toBe(true);
    expect(r.problems.map((p) => p.message)).toEqual(expected);
  });

  it('warns when an environment with citizen data keeps it unencrypted, and only then', () => {
    const plainProduction = edit(
      base,
      '      - name: prod-1\n        address: 10.0.0.10',
      '      - name: prod-1\n        address: 10.0.0.10',
    ).replace('  production:\n', '  production:\n    encryptData: false\n');
    const r = validateSpecText(plainProduction);
    expect(r.ok).toBe(true);
    expect(r.problems.map((p) => `${p.severity} ${p.path} ${p.message}`)).toEqual([
      "warning environments.production.encryptData production holds citizen data and keeps it unencrypted on its data node's disk",
    ]);
    // qa holds none: no warning.
    const plainQa = base.replace('  qa:\n', '  qa:\n    encryptData: false\n');
    expect(plainQa).not.toBe(base);
    expect(validateSpecText(plainQa).problems).toEqual([]);
  });

  it('refuses a data volume size where the environment has no encrypted volume', () => {
    const sized = base.replace('  qa:\n', '  qa:\n    dataVolumeGiB: 50\n');
    expect(sized).not.toBe(base);
    expect(
      validateSpecText(sized).problems.map((p) => `${p.severity} ${p.path} ${p.message} (${p.hint})`),
    ).toEqual([
      'error environments.qa.dataVolumeGiB dataVolumeGiB sizes the encrypted data volume, and qa keeps its data on a plain directory (remove dataVolumeGiB, or set encryptData: true on qa)',
    ]);
    expect(
      validateSpecText(
        sized.replace('    dataVolumeGiB: 50\n', '    dataVolumeGiB: 50\n    encryptData: true\n'),
      ).problems,
    ).toEqual([]);
  });

  it('warns about a missing qa environment for a pilot', () => {
    const r = validateSpecText(
      edit(
        base,
        '  qa:\n    testTwoFactorCodes: true\n    servers:\n      - { name: qa-1, address: 10.0.0.5 }\n',
        '',
      ),
    );
    expect(r.ok).toBe(true);
    expect(r.problems.map((p) => `${p.severity} ${p.path} ${p.message}`)).toEqual([
      'warning environments a pilot needs a qa environment to test releases before production',
    ]);
  });
});
