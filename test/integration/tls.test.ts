// TLS in the lab, each mode end to end on qa's demo stack: the proxy gets a certificate from the lab's ACME CA
// (pebble) through the HTTP challenge and through the DNS challenge (a TSIG-signed update of the lab zone in
// BIND), serves the country's own certificate and key from the store, or makes its own; an ACME certificate is
// renewed by itself before it expires (the lab CA's certificates last 150 s). Every check is a real handshake
// with qa-1:443, verified against the CA that should have issued it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type DetailedPeerCertificate } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import {
  LAB_ACME_MANAGEMENT_PORT,
  LAB_CERTIFICATE_SECONDS,
  labAcmeDirectory,
} from '../../src/lab/delivery.js';
import { labDnsCredentials, labPaths } from '../../src/lab/state.js';
import { crvsBin, ensureDefaultLab, ensureProvisioned, type LabInfo } from './helpers/lab.js';

let lab: LabInfo;
const env = () => ({ CRVS_IDENTITY: join(lab.dir, 'id_ed25519') });
const QA = 'qa.lab.crvs.test';
const QA_1 = '10.77.0.11';
const SERVICES = '10.77.0.2';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const inside = (container: string, command: string, input?: string) =>
  spawnSync('docker', ['exec', '-i', container, 'sh', '-c', command], {
    encoding: 'utf8',
    input,
    timeout: 60_000,
  });

interface Served {
  serial: string;
  names: string[];
  issuer: string;
  selfSigned: boolean;
  validTo: number;
  /** Verified against the CA given (for the name asked), or why not. */
  authorized: boolean;
  error?: string;
}

/** One handshake with qa-1:443 asking for `name`; the certificate, verified against `ca` when given. */
function handshake(name: string, ca?: string): Promise<Served> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: QA_1,
      port: 443,
      servername: name,
      rejectUnauthorized: false,
      ...(ca ? { ca } : {}),
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error('no TLS answer')));
    socket.on('error', reject);
    socket.on('secureConnect', () => {
      const c = socket.getPeerCertificate(true) as DetailedPeerCertificate;
      const err = socket.authorizationError;
      resolve({
        serial: c.serialNumber,
        names: (c.subjectaltname ?? '').split(', ').map((s) => s.replace(/^DNS:/, '')),
        issuer: String(c.issuer?.CN ?? ''),
        selfSigned: JSON.stringify(c.subject) === JSON.stringify(c.issuer),
        validTo: Date.parse(c.valid_to),
        authorized: ca ? socket.authorized : false,
        ...(err ? { error: String(err) } : {}),
      });
      socket.end();
    });
  });
}

/** Polls the served certificate until `done` holds (or the time is up); returns the last one seen. */
async function until(name: string, ca: string | undefined, done: (s: Served) => boolean, ms: number) {
  const end = Date.now() + ms;
  let last: Served | undefined;
  while (Date.now() < end) {
    last = await handshake(name, ca).catch(() => undefined);
    if (last && done(last)) return last;
    await sleep(2000);
  }
  return last;
}

/** An HTTPS request to qa-1 by name, trusting only `ca`: the app's answer. */
function httpsGet(name: string, path: string, ca: string): Promise<{ status?: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: QA_1, port: 443, servername: name, headers: { host: name }, path, ca }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ ...(res.statusCode ? { status: res.statusCode } : {}), body }));
    });
    req.on('error', reject);
  });
}

/** The ACME CA's root (pebble makes a new one each time it starts), from its management API. */
function pebbleRoot(): Promise<string> {
  const ca = readFileSync(labPaths(lab.dir).ca, 'utf8');
  return new Promise((resolve, reject) => {
    get(
      {
        host: SERVICES,
        port: LAB_ACME_MANAGEMENT_PORT,
        path: '/roots/0',
        servername: 'acme.lab.crvs.test',
        ca,
      },
      (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve(body));
      },
    ).on('error', reject);
  });
}

/** The lab spec with another tls section, beside it (so it shares its stores and pinned host keys). */
function specWith(name: string, tls: Record<string, unknown>): string {
  const doc = parseDocument(readFileSync(lab.spec, 'utf8'));
  doc.set('tls', tls);
  const file = join(lab.dir, `crvs-tls-${name}.yaml`);
  writeFileSync(file, doc.toString({ lineWidth: 0 }));
  return file;
}

function deployQa(spec: string): void {
  const r = crvsBin(['deploy', 'qa', '--spec', spec], { env: env() });
  if (r.status !== 0) throw new Error(`deploy qa failed (${r.status}):\n${r.stderr}`);
}

function setSecret(name: string, value: string): void {
  const r = crvsBin(['secrets', 'set', 'qa', name, '--spec', lab.spec], { env: env(), input: value });
  if (r.status !== 0) throw new Error(r.stderr);
}

/**
 * What a Swarm service's definition and its running task's logs show on qa-1 (a secret must be in neither).
 * The container's own logs: `docker service logs` can wait for tasks that are gone.
 */
const serviceView = (service: string) =>
  inside(
    'crvs-lab-qa-1',
    `docker service inspect ${service}; for c in $(docker ps -q --filter label=com.docker.swarm.service.name=${service}); do docker logs "$c" 2>&1 | tail -n 400; done`,
  ).stdout;

const acme = () => ({
  email: 'ops@lab.crvs.test',
  directory: labAcmeDirectory('lab.crvs.test'),
  caCertificate: 'lab-ca.pem',
  caaIdentity: 'lab.crvs.test',
});

beforeAll(() => {
  lab = ensureDefaultLab();
  ensureProvisioned(lab, ['qa'], env());
}, 25 * 60_000);

afterAll(() => {
  // qa as the lab spec has it (self-signed), for whatever runs next.
  crvsBin(['deploy', 'qa', '--spec', lab.spec], { env: env() });
}, 10 * 60_000);

describe('the lab DNS', () => {
  it('takes an update of a TXT record signed with the lab key, and refuses one unsigned, or of an A record', () => {
    const secret = readFileSync(labPaths(lab.dir).dnsUpdateKey, 'utf8').trim();
    // nsupdate reads its commands, the key among them, on stdin: the secret is on no command line.
    const update = (lines: string[], signed = false) =>
      inside(
        'crvs-lab-services',
        'nsupdate 2>&1',
        [
          'server 127.0.0.1',
          ...(signed ? [`key hmac-sha256:crvs-lab-acme ${secret}`] : []),
          ...lines,
          'send',
          '',
        ].join('\n'),
      );
    const signed = (lines: string[]) => update(lines, true);
    const txt = () => inside('crvs-lab-services', `dig +short TXT _probe.${QA} @127.0.0.1`).stdout.trim();
    expect(update([`update add _probe.${QA} 60 TXT "unsigned"`]).stdout).toContain('REFUSED');
    expect(txt()).toBe('');
    expect(signed([`update add probe.${QA} 60 A 192.0.2.1`]).stdout).toContain('REFUSED');
    expect(inside('crvs-lab-services', `dig +short A probe.${QA} @127.0.0.1`).stdout.trim()).toBe(QA_1);
    const added = signed([`update add _probe.${QA} 60 TXT "signed"`]);
    expect(added.status).toBe(0);
    expect(txt()).toBe('"signed"');
    expect(signed([`update delete _probe.${QA} TXT`]).status).toBe(0);
    expect(txt()).toBe('');
  });
});

describe('TLS on the demo stack, each mode (qa)', () => {
  it('http-01: the lab CA issues through the proxy, the app answers over HTTPS, and the certificate renews itself before it expires', async () => {
    deployQa(specWith('http-01', { mode: 'http-01', ...acme() }));
    const root = await pebbleRoot();
    expect(root).toContain('BEGIN CERTIFICATE');
    const first = await until(QA, root, (s) => s.authorized, 180_000);
    expect(first).toMatchObject({ authorized: true, names: [QA], selfSigned: false });
    expect(first?.issuer).toMatch(/^Pebble Intermediate CA/);
    const life = ((first?.validTo ?? 0) - Date.now()) / 1000;
    expect(life).toBeLessThanOrEqual(LAB_CERTIFICATE_SECONDS);
    const ready = await httpsGet(QA, '/ready', root);
    expect(ready.status).toBe(200);
    // Renewed once less than a third of its life is left: a new serial, served before the first one expired.
    const renewed = await until(
      QA,
      root,
      (s) => s.serial !== first?.serial,
      2 * LAB_CERTIFICATE_SECONDS * 1000,
    );
    const seenAt = Date.now();
    expect(renewed?.serial).not.toBe(first?.serial);
    expect(renewed).toMatchObject({ authorized: true, names: [QA] });
    expect(seenAt).toBeLessThan(first?.validTo ?? 0);
    expect(renewed?.validTo).toBeGreaterThan(first?.validTo ?? 0);
  });

  it('dns-01: the lab CA issues for the domain and every name under it, the TXT record written with the key from the store, which shows nowhere', async () => {
    const credentials = labDnsCredentials(labPaths(lab.dir));
    expect(credentials).toMatch(/^RFC2136_NAMESERVER=10\.77\.0\.2:53$/m);
    setSecret('DNS_PROVIDER_CREDENTIALS', credentials as string);
    deployQa(
      specWith('dns-01', {
        mode: 'dns-01',
        provider: 'rfc2136',
        credentialsSecret: 'DNS_PROVIDER_CREDENTIALS',
        ...acme(),
      }),
    );
    const root = await pebbleRoot();
    const wild = await until(`anything.${QA}`, root, (s) => s.authorized, 180_000);
    // Only the DNS challenge can prove a wildcard name.
    expect(wild).toMatchObject({ authorized: true, selfSigned: false });
    expect(wild?.names.sort()).toEqual([`*.${QA}`, QA]);
    expect((await handshake(QA, root)).authorized).toBe(true);
    // The challenge's record is gone again.
    expect(inside('crvs-lab-services', `dig +short TXT _acme-challenge.${QA} @127.0.0.1`).stdout.trim()).toBe(
      '',
    );
    const tsig = /RFC2136_TSIG_SECRET=(.+)/.exec(credentials as string)?.[1] as string;
    expect(tsig.length).toBeGreaterThan(40);
    const view = serviceView('crvs_proxy');
    expect(view).toContain('certificate issued');
    expect(view).not.toContain(tsig);
  });

  it("static: the country's certificate from beside the spec and its key from the store, served as given", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crvs-tls-'));
    const ssl = (args: string) => {
      const r = spawnSync('sh', ['-c', `cd ${dir} && openssl ${args} 2>&1`], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stdout);
      return r.stdout;
    };
    const ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
    ssl(`req -x509 ${ec} -days 2 -subj "/CN=crvs test country CA" -keyout ca.key -out ca.pem`);
    ssl(`req ${ec} -subj "/CN=${QA}" -keyout site.key -out site.csr`);
    writeFileSync(join(dir, 'site.ext'), `subjectAltName=DNS:${QA}\n`);
    ssl(
      'x509 -req -in site.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile site.ext -out site.pem',
    );
    const serial = ssl('x509 -in site.pem -noout -serial')
      .trim()
      .replace(/^serial=/, '');
    const key = readFileSync(join(dir, 'site.key'), 'utf8');
    setSecret('TLS_PRIVATE_KEY', key);
    writeFileSync(join(lab.dir, 'tls-static.pem'), readFileSync(join(dir, 'site.pem')));
    deployQa(
      specWith('static', { mode: 'static', certificate: 'tls-static.pem', keySecret: 'TLS_PRIVATE_KEY' }),
    );
    const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const served = await until(QA, ca, (s) => s.authorized, 60_000);
    expect(served).toMatchObject({ authorized: true, names: [QA], serial });
    expect((await httpsGet(QA, '/ready', ca)).status).toBe(200);
    const body = key.split('\n')[1] as string;
    expect(serviceView('crvs_proxy')).not.toContain(body);
  });

  it('self-signed (the lab spec): a certificate the proxy made for the domain', async () => {
    deployQa(lab.spec);
    const served = await until(QA, undefined, (s) => s.selfSigned, 60_000);
    expect(served).toMatchObject({ selfSigned: true, names: [QA], issuer: QA });
    expect(((served?.validTo ?? 0) - Date.now()) / 86_400_000).toBeGreaterThan(89);
  });
});
