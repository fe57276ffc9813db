import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateSpecText } from '../../../src/config/load.js';
import { crvs } from '../helpers/cli.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDQrOxq4kMeJOzLiaQaAGeJCs0ZgMy1KwJ6gwoR4BZFB alice@laptop';
const tmp = () => mkdtempSync(join(tmpdir(), 'crvs-cli-'));

describe('help', () => {
  it('shows examples at the top level', async () => {
    const r = await crvs(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:\n  $ crvs init');
  });

  it.each(['init', 'validate', 'plan', 'schema', 'demo'])('crvs %s --help shows examples', async (cmd) => {
    const r = await crvs([cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Examples:\\n  \\$ crvs ${cmd}`));
  });

  it('exits 2 on an unknown command or flag, with a suggestion', async () => {
    const r = await crvs(['plna']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "error [E_USAGE]: unknown command 'plna'\nhint: did you mean crvs plan? crvs --help lists the commands\n",
    );
    expect((await crvs(['plan', '--populaton', '5'])).code).toBe(2);
  });

  it('exits 2 on an unknown command even with --help, at the top level and under lab, printing no help', async () => {
    const top = await crvs(['snapshot', '--help']);
    expect([top.code, top.stdout]).toEqual([2, '']);
    expect(top.stderr).toBe(
      "error [E_USAGE]: unknown command 'snapshot'\nhint: crvs --help lists the commands\n",
    );
    const lab = await crvs(['lab', 'sttus', '--help']);
    expect([lab.code, lab.stdout]).toEqual([2, '']);
    expect(lab.stderr).toBe(
      "error [E_USAGE]: unknown command 'sttus' for 'crvs lab'\n" +
        'hint: did you mean crvs lab status? crvs lab --help lists the commands\n',
    );
    // A command's own argument is not a command: help for deploy still works.
    expect((await crvs(['deploy', 'qa', '--help'])).code).toBe(0);
  });
});

describe('crvs plan', () => {
  it('prints the seed example as JSON with exact figures', async () => {
    const r = await crvs(['plan', '--population', '30000000', '--json'], { cwd: tmp() });
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.recordsPerYear).toBe(749970);
    expect(plan.disk.applicationGB).toBe(1013.71);
    expect(plan.disk.backupGB).toBe(2027.42);
    expect(plan.servers).toEqual({ qa: 1, production: 3, staging: 1, backup: 1 });
  });

  it('prints a human table', async () => {
    const r = await crvs(['plan', '-p', '30,000,000'], { cwd: tmp() });
    expect(r.stdout).toContain('Application disk      1,013.71 GB');
    expect(r.stdout).toContain('Backup disk           2,027.42 GB');
    expect(r.stdout).toContain('production         3  16 GB     8  1,013.71 GB');
  });

  it('reads the sizing section of a spec and compares with the declared servers', async () => {
    const dir = tmp();
    writeFileSync(
      join(dir, 'crvs.yaml'),
      readFileSync(new URL('../../../examples/national/crvs.yaml', import.meta.url)),
    );
    const r = await crvs(['plan', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.inputs.population).toBe(45_000_000);
    expect(plan.declared).toMatchObject({ production: 3, qa: 1, staging: 1, backup: 1, jump: 1 });
  });

  it('refuses bad input with exit 2', async () => {
    const r = await crvs(['plan', '--population', 'many'], { cwd: tmp() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('population must be a number >= 1');
    const none = await crvs(['plan'], { cwd: tmp() });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('error [E_USAGE]: no population given\nhint: pass --population N');
  });
});

describe('crvs validate', () => {
  it('reports every problem with file:line:column and exits 2', async () => {
    const dir = tmp();
    writeFileSync(
      join(dir, 'crvs.yaml'),
      `version: 1\ncountry: far\ndomian: x.example\nenvironments:\n  qa:\n    servers: [{ name: qa-1, address: 10.0.0.1, architecture: arm64 }]\nstack: { version: v1 }\n`,
    );
    const r = await crvs(['validate'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').slice(0, 4)).toEqual([
      `${join(dir, 'crvs.yaml')}:1:1  domain  is required`,
      `${join(dir, 'crvs.yaml')}:2:10  country  must be an ISO 3166-1 alpha-3 code in capitals, such as FAR or KEN`,
      `${join(dir, 'crvs.yaml')}:3:1  domian  unknown key "domian"`,
      '    hint: did you mean "domain"?',
    ]);
    expect(r.stderr).toContain('has 3 errors');
  });

  it('prints JSON and exits 0 for a valid spec', async () => {
    const r = await crvs(['validate', 'examples/pilot/crvs.yaml', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, country: 'FAR', problems: [] });
  });

  it('warns, with the line, when no admin is present (nobody could log in after hardening)', async () => {
    const dir = tmp();
    const file = join(dir, 'crvs.yaml');
    const init = ['init', '--yes', '--country', 'far', '--domain', 'X.Example', '--phase', 'poc', '-p', '5'];
    expect((await crvs([...init, '-o', file])).code).toBe(0);
    const r = await crvs(['validate', file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      ':12:9  admins  warning: no admin is present: once provisioning hardens the servers (no passwords, no root), nobody could log in\n',
    );
    expect(JSON.parse((await crvs(['validate', file, '--json'])).stdout)).toMatchObject({ country: 'FAR' });
  });

  it('says where to start when the file is missing', async () => {
    const r = await crvs(['validate'], { cwd: tmp() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/spec file not found: .*crvs.yaml\nhint: create one with crvs init/);
  });
});

describe('crvs init', () => {
  it.each(['poc', 'pilot', 'national'])(
    'writes a valid starter spec for a %s without prompting',
    async (phase) => {
      const dir = tmp();
      const r = await crvs(
        [
          'init',
          '--yes',
          '--country',
          'KEN',
          '--domain',
          'crvs.gov.example',
          '--phase',
          phase,
          '-p',
          '62000000',
          '--admin',
          'alice',
          '--admin-key',
          KEY,
        ],
        { cwd: dir },
      );
      expect(r.code).toBe(0);
      const text = readFileSync(join(dir, 'crvs.yaml'), 'utf8');
      const result = validateSpecText(text);
      expect(result.problems).toEqual([]);
      expect(text).toContain('# yaml-language-server: $schema=');
      const production = (text.match(/name: prod-\d/g) ?? []).length;
      expect(production).toBe({ poc: 0, pilot: 1, national: 5 }[phase]);
    },
  );

  it('refuses to overwrite without --force, and asks for missing values without a terminal by exit 2', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'crvs.yaml'), 'keep me');
    const again = await crvs(
      ['init', '--yes', '--country', 'KEN', '--domain', 'a.example', '--phase', 'poc', '-p', '1'],
      { cwd: dir },
    );
    expect(again.code).toBe(2);
    expect(readFileSync(join(dir, 'crvs.yaml'), 'utf8')).toBe('keep me');
    const missing = await crvs(['init', '--country', 'KEN'], { cwd: tmp() });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing --domain, --phase, --population');
  });
});

describe('errors and colour', () => {
  it('never colours output when NO_COLOR is set, even on a terminal', async () => {
    const r = await crvs(['validate'], { cwd: tmp(), env: { NO_COLOR: '1' }, colorStream: { isTTY: true } });
    expect(r.stderr).not.toContain('\u001b[');
  });

  it('colours errors on a terminal', async () => {
    const r = await crvs(['validate'], { cwd: tmp(), env: {}, colorStream: { isTTY: true } });
    expect(r.stderr).toContain('\u001b[31merror [E_USAGE]');
  });
});
