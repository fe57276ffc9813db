import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DrillReport } from '../../../src/backup/drill-report.js';
import type { Spec } from '../../../src/config/schema.js';
import { egressCommand, egressTargets, parseEgress, registryEndpoint } from '../../../src/doctor/egress.js';
import { parseLink, parseProbe, type ServerFacts } from '../../../src/doctor/probe.js';
import {
  backupFinding,
  DATA_CENTRE_CHECKLIST,
  diskFindings,
  dnsFindings,
  drillFinding,
  egressFindings,
  estimateGrowth,
  linkFinding,
  serverFindings,
  worst,
} from '../../../src/doctor/verdicts.js';
import type { ServerSpecification } from '../../../src/plan/capacity.js';

// The probe's answer from the lab's qa-1 (a Debian 12 container on a 2-core, 24 GiB host, /data a gocryptfs
// mount), recorded 2026-12-03 with `docker exec -i crvs-lab-qa-1 bash -s -- / /data < PROBE_SCRIPT`.
const recorded = readFileSync('test/fixtures/doctor/probe-qa-1.txt', 'utf8');
const qa: ServerSpecification = { environment: 'qa', count: 1, ramGB: 16, cpus: 4, diskGB: 320, os: '' };
const GB = 1e9;

const facts = (over: Partial<ServerFacts> = {}): ServerFacts => ({
  ...(parseProbe(recorded) as ServerFacts),
  ...over,
});

describe('the probe answer', () => {
  it('reads every fact, and one disk per filesystem with the paths it holds', () => {
    const f = parseProbe(recorded);
    expect(f).toMatchObject({
      clock: Number('1796303649.261891654'),
      arch: 'x86_64',
      cpus: 2,
      memoryKB: 24683664,
      os: { id: 'debian', version: '12', name: 'Debian GNU/Linux 12 (bookworm)' },
      ntp: 'no',
      virt: 'docker',
    });
    expect(f?.disks).toEqual([
      { target: '/', paths: ['/'], sizeBytes: 270553174016, usedBytes: 33325838336, availBytes: 75618455552 },
      {
        target: '/data',
        paths: ['/data'],
        sizeBytes: 270553174016,
        usedBytes: 33325838336,
        availBytes: 75618455552,
      },
    ]);
    expect(f?.history).toEqual([
      { at: '2026-12-03T13:14:09Z', path: '/', usedBytes: 33325838336, sizeBytes: 270553174016 },
      { at: '2026-12-03T13:14:09Z', path: '/data', usedBytes: 33325838336, sizeBytes: 270553174016 },
    ]);
  });

  it('a directory on the root filesystem is one disk, not two', () => {
    const f = parseProbe(`${recorded.replace('disk /data /data', 'disk /data /')}`);
    expect(f?.disks.map((d) => [d.target, d.paths])).toEqual([['/', ['/', '/data']]]);
  });

  it('an answer without the facts every server has is none (not a server crvs knows)', () => {
    expect(parseProbe('sudo: a password is required\n')).toBeUndefined();
    expect(parseProbe(recorded.replace(/^cpus .*$/m, ''))).toBeUndefined();
  });

  it("the link reader's answer in Mbit/s", () => {
    expect(parseLink('4128768 3.3\n')).toBeCloseTo(10.009, 3);
    expect(parseLink('Traceback (most recent call last):')).toBeUndefined();
  });
});

describe("a server against the guide's minimum", () => {
  const at = facts().clock * 1000;

  it('the lab qa-1: Debian warned, too few CPUs and too small a disk fail, memory and clock pass', () => {
    expect(serverFindings('qa', 'qa-1', facts(), qa, '/data', at)).toEqual([
      { environment: 'qa', check: 'architecture', subject: 'qa-1', status: 'ok', detail: 'x86_64' },
      {
        environment: 'qa',
        check: 'os',
        subject: 'qa-1',
        status: 'warn',
        detail:
          "Debian GNU/Linux 12 (bookworm): the guide expects Ubuntu 24.04; crvs's roles are tested on Debian 12 (the lab's servers)",
        action: 'install Ubuntu 24.04 LTS when the server is next rebuilt',
      },
      {
        environment: 'qa',
        check: 'cpu',
        subject: 'qa-1',
        status: 'fail',
        detail: '2 CPUs: qa needs 4',
        action: 'give qa-1 4 CPUs or more',
      },
      {
        environment: 'qa',
        check: 'memory',
        subject: 'qa-1',
        status: 'ok',
        detail: '23.5 GiB (qa needs 16 GB)',
      },
      {
        environment: 'qa',
        check: 'disk-size',
        subject: 'qa-1',
        status: 'fail',
        detail: '270.6 GB at /data: qa needs 320 GB (crvs plan)',
        action: 'grow the disk of qa-1 to 320 GB or more',
      },
      {
        environment: 'qa',
        check: 'clock',
        subject: 'qa-1',
        status: 'ok',
        detail: 'within 0.0 s, kept by the host (a docker container)',
      },
    ]);
  });

  it('an Ubuntu 24.04 server that meets the row passes whole; a 16 GB server showing 15.6 GiB counts as 16', () => {
    const ubuntu = facts({
      os: { id: 'ubuntu', version: '24.04', name: 'Ubuntu 24.04.1 LTS' },
      cpus: 4,
      memoryKB: 15.6 * 1024 * 1024,
      ntp: 'yes',
      virt: 'kvm',
      disks: [
        { target: '/', paths: ['/', '/data'], sizeBytes: 322 * GB, usedBytes: 10 * GB, availBytes: 300 * GB },
      ],
    });
    const found = serverFindings('qa', 'qa-1', ubuntu, qa, '/data', at);
    expect(found.map((f) => [f.check, f.status, f.detail])).toEqual([
      ['architecture', 'ok', 'x86_64'],
      ['os', 'ok', 'Ubuntu 24.04.1 LTS'],
      ['cpu', 'ok', '4 CPUs (qa needs 4)'],
      ['memory', 'ok', '15.6 GiB (qa needs 16 GB)'],
      ['disk-size', 'ok', '322.0 GB at / (holds /data) (qa needs 320 GB)'],
      ['clock', 'ok', 'within 0.0 s, kept by NTP'],
    ]);
    expect(worst(found)).toBe('ok');
  });

  it('an ARM server and an unknown OS fail; a jump host is held to no size', () => {
    const arm = facts({ arch: 'aarch64', os: { id: 'centos', version: '7', name: 'CentOS Linux 7' } });
    const found = serverFindings('jump', 'jump-1', arm, undefined, '/', at);
    expect(found.map((f) => [f.check, f.status, f.detail])).toEqual([
      ['architecture', 'fail', "aarch64: OpenCRVS's images are built for x86_64 only"],
      ['os', 'fail', 'CentOS Linux 7: the guide expects Ubuntu 24.04'],
      ['clock', 'ok', 'within 0.0 s, kept by the host (a docker container)'],
    ]);
  });

  it('the clock: 3 s off or not kept by NTP warns, 31 s off fails (TOTP codes last 30 s)', () => {
    const vm = facts({ virt: 'kvm', ntp: 'no' });
    const clock = (f: ServerFacts, arrivedAt: number) =>
      serverFindings('qa', 'qa-1', f, undefined, '/', arrivedAt).find((x) => x.check === 'clock');
    expect(clock(vm, at)).toMatchObject({
      status: 'warn',
      detail: '0.0 s ahead of this machine, not synchronised by NTP',
    });
    expect(clock(facts({ ntp: 'yes' }), at - 3000)).toMatchObject({
      status: 'warn',
      detail: '3.0 s ahead of this machine, kept by NTP',
    });
    expect(clock(facts({ ntp: 'yes' }), at + 31_000)).toMatchObject({
      status: 'fail',
      detail: '31.0 s behind this machine: TOTP codes and certificates fail',
    });
  });
});

describe('the link', () => {
  it("fails under the guide's 10 Mbit/s, passes at it", () => {
    expect(linkFinding('qa', 'qa-1', 4.8)).toEqual({
      environment: 'qa',
      check: 'link',
      subject: 'qa-1',
      status: 'fail',
      detail:
        "4.8 Mbit/s from this machine: under the guide's minimum of 10 Mbit/s, deploys will be unworkable",
      action: 'ask the data centre for a faster link, or run crvs closer to the servers (a CI runner inside)',
    });
    expect(linkFinding('qa', 'qa-1', 10).status).toBe('ok');
  });
});

describe('disks: use, growth and the day they fill', () => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  const disk = {
    target: '/data',
    paths: ['/data'],
    sizeBytes: 500 * GB,
    usedBytes: 300 * GB,
    availBytes: 200 * GB,
  };

  it('growth from the oldest sample at least a day old within 90 days: 2 GB a day, 200 GB free, full in 100 days', () => {
    const history = [
      { at: '2026-06-01T00:00:00Z', path: '/data', usedBytes: 1 * GB, sizeBytes: 500 * GB }, // past the window
      { at: '2026-11-23T12:00:00Z', path: '/data', usedBytes: 280 * GB, sizeBytes: 500 * GB },
      { at: '2026-11-23T12:00:00Z', path: '/', usedBytes: 1 * GB, sizeBytes: 50 * GB }, // another filesystem
      { at: '2026-12-03T06:00:00Z', path: '/data', usedBytes: 299 * GB, sizeBytes: 500 * GB }, // under a day
    ];
    expect(estimateGrowth('/data', 300 * GB, 200 * GB, history, now)).toEqual({
      bytesPerDay: 2 * GB,
      since: '2026-11-23T12:00:00Z',
      daysLeft: 100,
      fullOn: '2027-03-13',
    });
    expect(estimateGrowth('/data', 300 * GB, 200 * GB, history.slice(3), now)).toBeUndefined();
  });

  it('60% used and 100 days left pass; 75% warns (the guide alerts at 70%); 91% fails; 30 days left warns', () => {
    const at = (usedGB: number, history: ServerFacts['history']) =>
      diskFindings(
        'production',
        'prod-1',
        facts({
          disks: [{ ...disk, usedBytes: usedGB * GB, availBytes: (500 - usedGB) * GB }],
          history,
        }),
        now,
      ).map((f) => [f.check, f.status, f.detail]);
    const tenDaysAgo = (usedGB: number) => [
      { at: '2026-11-23T12:00:00Z', path: '/data', usedBytes: usedGB * GB, sizeBytes: 500 * GB },
    ];
    expect(at(300, tenDaysAgo(280))).toEqual([
      ['disk-usage', 'ok', '60% used, 200.0 GB free of 500.0 GB'],
      ['disk-growth', 'ok', '2.0 GB a day since 2026-11-23: full on 2027-03-13, in 100 days'],
    ]);
    expect(at(375, tenDaysAgo(375))[0]).toEqual([
      'disk-usage',
      'warn',
      '75% used, 125.0 GB free of 500.0 GB (the guide alerts at 70%)',
    ]);
    expect(at(375, tenDaysAgo(375))[1]).toEqual(['disk-growth', 'ok', 'not growing since 2026-11-23']);
    expect(at(455, [])).toEqual([
      ['disk-usage', 'fail', '91% used, 45.0 GB free of 500.0 GB'],
      [
        'disk-growth',
        'info',
        'no sample a day old yet: growth is measured from the next run a day or more from now',
      ],
    ]);
    expect(at(200, tenDaysAgo(100))[1]).toEqual([
      'disk-growth',
      'warn',
      '10.0 GB a day since 2026-11-23: full on 2027-01-02, in 30 days',
    ]);
  });
});

describe('backups and restore drills', () => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  const archive = (time: string) => ({
    name: `production-${time}`,
    time,
    originalBytes: 1,
    compressedBytes: 1,
    deduplicatedBytes: 1,
    files: 1,
  });

  it('the newest archive within the age the schedule allows passes; older, or none, fails', () => {
    expect(backupFinding('production', archive('2026-12-03T00:00:00Z'), 1560, now)).toMatchObject({
      status: 'ok',
      detail: 'the newest archive (production-2026-12-03T00:00:00Z) is 720 minutes old',
    });
    expect(backupFinding('production', archive('2026-12-01T00:00:00Z'), 1560, now)).toMatchObject({
      status: 'fail',
      detail:
        'the newest archive (production-2026-12-01T00:00:00Z) is 3600 minutes old; the schedule allows 1560',
    });
    expect(backupFinding('production', undefined, 1560, now)).toMatchObject({
      status: 'fail',
      detail: 'no archive on the backup server',
    });
  });

  it('the newest passed drill within its schedule passes; a failed one after it, or none passed, fails', () => {
    const drill = (startedAt: string, result: DrillReport['result']): DrillReport => ({
      environment: 'staging',
      source: 'production',
      startedAt,
      durationSeconds: 60,
      result,
      archive: 'production-2026-12-03T00:00:00Z',
      detail: '',
    });
    const passed = drill('2026-12-03T02:00:00Z', 'ok');
    expect(drillFinding('staging', [passed], 1560, now)).toMatchObject({
      status: 'ok',
      detail: 'the last drill passed, 600 minutes ago (production-2026-12-03T00:00:00Z)',
    });
    expect(
      drillFinding('staging', [drill('2026-12-03T03:00:00Z', 'corrupt'), passed], 1560, now),
    ).toMatchObject({
      status: 'fail',
      detail:
        'the last passed drill started 600 minutes ago; the last one (2026-12-03T03:00:00Z) ended corrupt',
    });
    expect(drillFinding('staging', [], 1560, now)).toMatchObject({
      status: 'fail',
      detail: 'no restore drill has passed',
    });
  });
});

describe('DNS, the verdict of a whole report, the checklist', () => {
  it('each DNS finding that is not ok fails, with the plan to follow', () => {
    expect(
      dnsFindings('qa', [
        { name: 'qa.example.org', status: 'ok', detail: '10.0.0.1' },
        { name: 'qa.example.org', status: 'missing', detail: 'no A record' },
      ]).map((f) => [f.status, f.action]),
    ).toEqual([
      ['ok', undefined],
      ['fail', 'crvs dns plan qa: the records to create'],
    ]);
  });

  it('a report is as bad as its worst finding', () => {
    const f = (status: 'ok' | 'warn' | 'fail' | 'info') => ({
      environment: 'qa',
      check: 'x',
      subject: 'qa',
      status,
      detail: '',
    });
    expect(worst([f('ok'), f('info')])).toBe('info');
    expect(worst([f('ok'), f('warn'), f('info')])).toBe('warn');
    expect(worst([f('warn'), f('fail')])).toBe('fail');
    expect(worst([])).toBe('ok');
  });

  it("lists the guide's data-centre items, the 10 Mbit/s minimum and the VPN among them", () => {
    expect(DATA_CENTRE_CHECKLIST).toHaveLength(9);
    expect(DATA_CENTRE_CHECKLIST.join('\n')).toMatch(/Tier 2 or Tier 3[\s\S]*10 Mbit\/s[\s\S]*VPN/);
  });
});

describe('egress', () => {
  it('the targets from the spec: the registry where pulls really go, SMTP, the webhooks by host and port only', () => {
    const spec = {
      registry: { host: 'docker.io', insecure: false },
      smtp: { host: 'smtp.gov.example', port: 587 },
    };
    const hooks = [
      { name: 'webhook', url: 'https://hooks.gov.example/services/T0KEN/secret-path' },
      { name: 'slack', url: 'not a url' },
    ];
    expect(egressTargets(spec as Spec, 'application', hooks)).toEqual([
      { name: 'registry', host: 'registry-1.docker.io', port: 443 },
      { name: 'smtp', host: 'smtp.gov.example', port: 587 },
      { name: 'webhook', host: 'hooks.gov.example', port: 443 },
    ]);
    // No stack on the backup server or the jump host: nothing to pull.
    expect(egressTargets(spec as Spec, 'backup', []).map((t) => t.name)).toEqual(['smtp']);
    expect(registryEndpoint('10.77.0.2:5000', true)).toEqual({ host: '10.77.0.2', port: 5000 });
    expect(registryEndpoint('ghcr.io', false)).toEqual({ host: 'ghcr.io', port: 443 });
    expect(registryEndpoint('registry.lab', true)).toEqual({ host: 'registry.lab', port: 80 });
  });

  it('a host with anything but letters, digits, dots and dashes never reaches the command line', () => {
    const host = { environment: 'qa', ssh: ['ssh', 'crvs@10.77.0.11'] };
    const c = egressCommand(host, [
      { name: 'webhook', host: 'a$(touch /tmp/x).example', port: 443 },
      { name: 'smtp', host: 'smtp.gov.example', port: 587 },
    ]);
    expect(c.argv).toEqual(['ssh', 'crvs@10.77.0.11', 'bash -s -- smtp=smtp.gov.example:587']);
  });

  it("the server's answers, recorded on the lab's qa-1 (its apt proxy as the mirror, no mail server in the lab)", () => {
    const answer =
      'egress mirror 10.77.0.2 3142 ok\negress smtp mail.lab.crvs.test 25 fail Connection refused\nnoise\n';
    const results = parseEgress(answer);
    expect(results).toEqual([
      { name: 'mirror', host: '10.77.0.2', port: 3142, ok: true, detail: '' },
      { name: 'smtp', host: 'mail.lab.crvs.test', port: 25, ok: false, detail: 'Connection refused' },
    ]);
    expect(egressFindings('qa', 'qa-1', results).map((f) => [f.status, f.detail, f.action])).toEqual([
      ['ok', 'mirror 10.77.0.2:3142 answers', undefined],
      [
        'fail',
        'smtp mail.lab.crvs.test:25: Connection refused',
        "let qa-1 reach mail.lab.crvs.test on TCP 25 (the data centre's firewall, or the address in the spec)",
      ],
    ]);
  });
});
