import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { validateSpecText } from '../../../src/config/load.js';
import { LETS_ENCRYPT_DIRECTORY } from '../../../src/config/sections/services.js';
import { checkDns, dnsPlan, renderZone } from '../../../src/dns/plan.js';
import { lookupName, nodeLookup } from '../../../src/dns/resolver.js';
import type { SpecContext } from '../../../src/usecases/context.js';
import { checkEnvironmentDns, planDns } from '../../../src/usecases/dns.js';
import { startDnsServer } from '../../support/dns-server.js';
import { countryRepository } from '../../support/opencrvs-fixture.js';
import { crvs } from '../helpers/cli.js';
import { labExample } from '../helpers/spec.js';

const lab: SpecContext = {
  spec: labExample(),
  specFile: '/lab/crvs.yaml',
  identity: '/lab/id',
  knownHosts: '/lab/kh',
};
const national = (): SpecContext => {
  const r = validateSpecText(readFileSync('examples/national/crvs.yaml', 'utf8'));
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return { spec: r.spec, specFile: countryRepository(), identity: '/x/id', knownHosts: '/x/kh' };
};

describe('crvs dns plan', () => {
  it("points the demo's domain at every server of the environment, as a table's data and a zone fragment", () => {
    const plan = planDns(lab, 'production');
    expect(plan).toEqual({
      environment: 'production',
      domain: 'lab.crvs.test',
      records: [{ name: 'lab.crvs.test', type: 'A', values: ['10.77.0.21', '10.77.0.22'] }],
    });
    expect(planDns(lab, 'qa').records).toEqual([
      { name: 'qa.lab.crvs.test', type: 'A', values: ['10.77.0.11'] },
    ]);
    expect(renderZone(plan)).toBe(
      '; production: every name its ingress answers, one A record per server (crvs dns plan)\n' +
        'lab.crvs.test.  IN  A  10.77.0.21\n' +
        'lab.crvs.test.  IN  A  10.77.0.22\n',
    );
    expect(() => planDns(lab, 'backup')).toThrow();
  });

  it("lists every host the opencrvs stack's routers match, and asks CAA to allow Let's Encrypt in ACME modes", () => {
    const sc = national();
    const plan = planDns(sc, 'production');
    const domain = plan.domain;
    // The bare domain and register (core's client), the rest from the country's compose file; kibana is not deployed.
    expect(plan.records.map((r) => r.name)).toEqual([
      `auth.${domain}`,
      `config.${domain}`,
      `countryconfig.${domain}`,
      domain,
      `gateway.${domain}`,
      `login.${domain}`,
      `metabase.${domain}`,
      `minio-console.${domain}`,
      `minio.${domain}`,
      `register.${domain}`,
      `webhooks.${domain}`,
    ]);
    expect(plan.certificateAuthority).toBe('letsencrypt.org');
    expect(new Set(plan.records.map((r) => r.values.join(',')))).toEqual(
      new Set([
        sc.spec.environments.production?.servers
          .map((s) => s.address)
          .sort()
          .join(','),
      ]),
    );
    expect(renderZone(plan)).toContain(
      `; CAA: where ${domain} or a parent has CAA records, one must be: 0 issue "letsencrypt.org"`,
    );
  });
});

describe('crvs dns check', () => {
  const plan = dnsPlan(
    {
      ...labExample(),
      tls: { mode: 'http-01', email: 'ops@lab.crvs.test', directory: LETS_ENCRYPT_DIRECTORY },
    },
    'production',
    ['a.lab.crvs.test', 'b.lab.crvs.test', 'c.lab.crvs.test', 'd.lab.crvs.test', 'e.lab.crvs.test'],
  );

  it('names what is missing, what points elsewhere, and a CAA set closed to the CA', () => {
    expect(
      checkDns(plan, {
        'a.lab.crvs.test': { addresses: ['10.77.0.22', '10.77.0.21'] },
        'b.lab.crvs.test': { addresses: ['10.77.0.21'] },
        'c.lab.crvs.test': { error: 'ENOTFOUND' },
        'd.lab.crvs.test': { addresses: ['10.77.0.21', '192.0.2.7'] },
        'e.lab.crvs.test': {
          addresses: ['10.77.0.21', '10.77.0.22'],
          caa: {
            at: 'crvs.test',
            records: [{ critical: 0, tag: 'issue', value: 'pki.goog; cansignhttpexchanges=yes' }],
          },
        },
      }),
    ).toEqual([
      { name: 'a.lab.crvs.test', status: 'ok', detail: '10.77.0.21, 10.77.0.22' },
      { name: 'b.lab.crvs.test', status: 'ok', detail: '10.77.0.21 (1 of 2 servers)' },
      {
        name: 'c.lab.crvs.test',
        status: 'missing',
        detail: 'no A record (ENOTFOUND); want 10.77.0.21, 10.77.0.22',
      },
      {
        name: 'd.lab.crvs.test',
        status: 'wrong',
        detail:
          'answers 10.77.0.21, 192.0.2.7; 192.0.2.7 is no server of production (want 10.77.0.21, 10.77.0.22)',
      },
      {
        name: 'e.lab.crvs.test',
        status: 'caa-forbids',
        detail: 'CAA at crvs.test allows pki.goog, not letsencrypt.org: the certificate cannot be issued',
      },
    ]);
  });

  const zone = {
    'lab.crvs.test': { A: ['10.77.0.21', '10.77.0.22'] },
    'qa.lab.crvs.test': { A: ['10.77.0.99'] },
    'crvs.test': { CAA: [{ flags: 0, tag: 'issue', value: 'letsencrypt.org' }] },
  };
  let server: Awaited<ReturnType<typeof startDnsServer>>;
  afterAll(() => server?.close());

  it('asks a real resolver over UDP: A records, NXDOMAIN, and the closest CAA set above the name', async () => {
    server = await startDnsServer(zone);
    const dns = nodeLookup(server.address);
    expect(await lookupName(dns, 'lab.crvs.test')).toEqual({
      addresses: ['10.77.0.21', '10.77.0.22'],
      caa: { at: 'crvs.test', records: [{ critical: 0, tag: 'issue', value: 'letsencrypt.org' }] },
    });
    expect(await lookupName(dns, 'nowhere.lab.crvs.test')).toMatchObject({ error: 'ENOTFOUND' });

    const production = await checkEnvironmentDns(lab, 'production', dns);
    expect(production.ok).toBe(true);
    const qa = await checkEnvironmentDns(lab, 'qa', dns);
    expect(qa.ok).toBe(false);
    // The command: a table, exit 1 with what to do when a name is wrong; --json for machines.
    const spec = ['--spec', 'examples/lab/crvs.yaml', '--resolver', server.address];
    const ok = await crvs(['dns', 'check', 'production', ...spec]);
    expect([ok.code, ok.stdout]).toEqual([
      0,
      'NAME           STATUS  DETAIL\n-------------  ------  ----------------------\nlab.crvs.test  ok      10.77.0.21, 10.77.0.22\n',
    ]);
    const wrong = await crvs(['dns', 'check', 'qa', ...spec, '--json']);
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout).findings[0].status).toBe('wrong');
    expect(wrong.stderr).toContain('1 of 1 names of qa do not resolve as planned');
    expect(wrong.stderr).toContain('crvs dns plan qa --zone gives the records to create');
    expect(qa.findings).toEqual([
      {
        name: 'qa.lab.crvs.test',
        status: 'wrong',
        detail: 'answers 10.77.0.99; 10.77.0.99 is no server of qa (want 10.77.0.11)',
      },
    ]);
  });
});
