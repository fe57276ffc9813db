import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RecordingExecutor } from '../../../src/remote/executor.js';
import type { Effects } from '../../../src/usecases/context.js';
import { doctor } from '../../../src/usecases/doctor.js';
import { labSpecContext } from '../helpers/spec.js';

// crvs doctor qa on the lab's example spec, with a scripted executor answering as the lab's qa-1 did (the recorded
// probe), a DNS stub and no handshake: which commands reach the server, and how the answers become one report.
const sc = labSpecContext('crvs-doctor-');
const probe = readFileSync('test/fixtures/doctor/probe-qa-1.txt', 'utf8');
const clock = Number(/^clock (\S+)/m.exec(probe)?.[1]) * 1000;
const fx = (exec: RecordingExecutor): Effects => ({
  exec,
  progress: () => {},
  now: () => new Date(clock),
  actor: { who: 'alice', from: 'laptop' },
  env: {},
});
const dns = {
  resolve4: async (name: string) => (name === 'qa.lab.crvs.test' ? ['10.77.0.11'] : []),
  resolveCaa: async () => [],
};
const noHandshake = async () => ({ error: 'not asked' });

describe('crvs doctor, as a use case', () => {
  it('one probe (root, from stdin), the egress tries, the link and DNS for qa-1: one report, its findings in the order of the checks', async () => {
    const exec = new RecordingExecutor([
      { match: /sudo -n bash -s -- \/ \/data$/, result: { stdout: probe } },
      {
        match: /bash -s -- registry=10\.77\.0\.2:5000 smtp=mail\.lab\.crvs\.test:587$/,
        result: {
          stdout:
            'egress mirror 10.77.0.2 3142 ok\negress registry 10.77.0.2 5000 ok\negress smtp mail.lab.crvs.test 587 fail Connection refused\n',
        },
      },
      {
        match: /python3 -c .*smtplib/s,
        result: { stdout: '{"step": "connect", "ok": false, "detail": "[Errno 111] Connection refused"}\n' },
      },
      { match: /python3 -c/, result: { stdout: '4128768 0.5\n' } },
    ]);
    const [report] = await doctor(fx(exec), sc, ['qa'], {
      linkBytes: 4 * 1024 * 1024,
      dns,
      certificate: noHandshake,
    });
    // Reached as the automation user, the probe's script and the link's bytes on stdin, never on the line.
    expect(exec.lines().map((l) => l.replace(/^ssh .* crvs@10\.77\.0\.11 /, ''))).toEqual([
      'sudo -n bash -s -- / /data',
      'bash -s -- registry=10.77.0.2:5000 smtp=mail.lab.crvs.test:587',
      expect.stringMatching(/^python3 -c 'import sys, time/),
      expect.stringMatching(/^python3 -c 'import json, smtplib/),
    ]);
    expect((exec.commands[2]?.stdin as Buffer | undefined)?.length).toBe(4 * 1024 * 1024);
    // The relay's settings on stdin: the spec's, and the store's credentials (none in this store).
    expect(JSON.parse(String(exec.commands[3]?.stdin))).toMatchObject({
      host: 'mail.lab.crvs.test',
      port: 587,
      probeTo: 'ops@lab.crvs.test',
      sendTo: '',
    });
    expect(report?.status).toBe('fail');
    expect(report?.findings.map((f) => [f.check, f.subject, f.status])).toEqual([
      ['architecture', 'qa-1', 'ok'],
      ['os', 'qa-1', 'warn'],
      ['cpu', 'qa-1', 'fail'],
      ['memory', 'qa-1', 'ok'],
      ['disk-size', 'qa-1', 'fail'],
      ['clock', 'qa-1', 'ok'],
      ['disk-usage', 'qa-1:/', 'ok'],
      ['disk-growth', 'qa-1:/', 'info'],
      ['disk-usage', 'qa-1:/data', 'ok'],
      ['disk-growth', 'qa-1:/data', 'info'],
      ['egress', 'qa-1', 'ok'],
      ['egress', 'qa-1', 'ok'],
      ['egress', 'qa-1', 'fail'],
      ['link', 'qa-1', 'ok'],
      ['dns', 'qa.lab.crvs.test', 'ok'],
      ['tls', 'qa.lab.crvs.test', 'fail'],
      ['smtp', 'mail.lab.crvs.test:587', 'fail'],
    ]);
    expect(report?.findings.find((f) => f.check === 'link')?.detail).toBe('66.1 Mbit/s from this machine');
  });

  it('a server that does not answer the probe fails as unreachable, by name, and the rest goes on', async () => {
    const exec = new RecordingExecutor([
      {
        match: /sudo -n bash -s/,
        result: { code: 255, stderr: 'crvs@10.77.0.11: Permission denied (publickey).\n' },
      },
    ]);
    const [report] = await doctor(fx(exec), sc, ['qa'], { linkBytes: 0, dns, certificate: noHandshake });
    expect(report?.findings[0]).toEqual({
      environment: 'qa',
      check: 'reachable',
      subject: 'qa-1',
      status: 'fail',
      detail: 'could not read the server: crvs@10.77.0.11: Permission denied (publickey).',
      action: 'check the address, the jump host and the key crvs uses; crvs provision qa if it never was',
    });
    // Nor is the SMTP relay tried from a server that could not be read.
    expect(report?.findings.map((f) => f.check)).toEqual(['reachable', 'dns', 'tls']);
  });

  it("without a sizing section, production's disks are held to the operating system's 100 GB alone", async () => {
    const exec = new RecordingExecutor([{ match: /sudo -n bash -s/, result: { stdout: probe } }]);
    const { sizing: _, ...unsized } = sc.spec;
    const [report] = await doctor(
      fx(exec),
      { ...sc, spec: { ...unsized } as typeof sc.spec },
      ['production'],
      {
        linkBytes: 0,
        dns,
        certificate: noHandshake,
      },
    );
    expect(
      report?.findings.filter((f) => f.check === 'disk-size').map((f) => [f.subject, f.status, f.detail]),
    ).toEqual([
      ['prod-1', 'ok', '270.6 GB at /data (production needs 100 GB)'],
      ['prod-2', 'ok', '270.6 GB at /data (production needs 100 GB)'],
    ]);
  });

  it('refuses an environment the spec does not define before reaching any server', async () => {
    const exec = new RecordingExecutor();
    await expect(
      doctor(fx(exec), sc, ['development'], { linkBytes: 0, dns, certificate: noHandshake }),
    ).rejects.toThrow(/development/);
    expect(exec.commands).toEqual([]);
  });
});
