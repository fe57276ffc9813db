// The opencrvs preset cannot run here (its images are not reachable), so it is validated by Docker's own
// compose loader: `docker stack config` parses, checks against the compose schema and interpolates the file
// exactly as `docker stack deploy` would, and rejects what deploy would reject.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { validateSpecText } from '../../src/config/load.js';
import { bindSecrets } from '../../src/deploy/bind.js';
import { catalogue } from '../../src/secrets/catalogue.js';
import { generate } from '../../src/secrets/generate.js';
import { forgetSecrets, type Sensitive, sensitive } from '../../src/secrets/sensitive.js';
import { renderRelease as render } from '../../src/usecases/release.js';
import { countryRepository } from '../support/opencrvs-fixture.js';

const stackConfig = (compose: string) =>
  spawnSync('docker', ['stack', 'config', '--skip-interpolation', '-c', '-'], {
    input: compose,
    encoding: 'utf8',
  });

const TLS: Record<string, unknown> = {
  'http-01': { mode: 'http-01', email: 'ops@gov.example' },
  'dns-01': {
    mode: 'dns-01',
    email: 'ops@gov.example',
    provider: 'cloudflare',
    credentialsSecret: 'DNS_CREDS',
  },
  'self-signed': { mode: 'self-signed' },
};

afterEach(() => forgetSecrets());

describe('the opencrvs preset, checked by docker stack config', () => {
  for (const [mode, tls] of Object.entries(TLS))
    it(`${mode}: every environment of the national example renders to a stack Docker accepts`, () => {
      const doc = parse(readFileSync('examples/national/crvs.yaml', 'utf8')) as Record<string, unknown>;
      doc.tls = tls;
      const r = validateSpecText(stringify(doc));
      if (!r.ok) throw new Error(JSON.stringify(r.problems));
      const values: Record<string, Sensitive<string>> = {};
      for (const d of catalogue(r.spec))
        values[d.name] = sensitive(d.generator ? generate(d.generator) : `user-${d.name}`, d.name);
      // A country repository: the v1.9.0 reference compose files beside crvs.yaml, core's pinned in the lock.
      const specFile = countryRepository();
      for (const environment of ['production', 'staging', 'qa']) {
        const rendered = render(r.spec, specFile, environment, 'v1.9.0', values);
        const { compose } = bindSecrets(rendered.compose, 'crvs', rendered.secrets);
        const out = stackConfig(compose);
        expect(out.stderr, `${mode} ${environment}`).toBe('');
        expect(out.status).toBe(0);
        const normalised = parse(out.stdout) as { services: Record<string, unknown>; secrets: object };
        expect(Object.keys(normalised.services).length).toBe(Object.keys(parse(compose).services).length);
        expect(Object.keys(normalised.secrets).sort()).toEqual(Object.keys(parse(compose).secrets).sort());
      }
    });

  it('the same check rejects what deploy would reject (it is not a rubber stamp)', () => {
    const bad = stackConfig(
      'version: "3.8"\nservices:\n  gateway:\n    image: x\n    deploy: { replicas: two }\n',
    );
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('replicas');
  });
});
