import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { crvsBin, ensureDefaultLab, recordProvisioned, ssh } from './helpers/lab.js';

function getJson(host: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port: 80, path, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body || '{}') }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

// The README's main job, black-box: one command from whatever state the lab is in to three healthy,
// seeded environments.
describe('crvs demo (the main job)', () => {
  it('converges the lab to three healthy, seeded environments and reports them', async () => {
    const lab = ensureDefaultLab();
    const r = crvsBin(['demo']);
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    // The demo provisioned every environment from the lab's spec: the files after this one need not again.
    recordProvisioned(lab, ['qa', 'production', 'staging', 'backup', 'jump']);
    for (const step of ['== the lab', '== provision every environment', '== deploy qa', '== seed staging']) {
      expect(r.stderr).toContain(step);
    }
    const address = (env: string) => lab.servers.find((s) => s.environment === env)?.address ?? '';
    for (const env of ['qa', 'production', 'staging']) {
      expect(r.stdout).toMatch(
        new RegExp(
          `${env}\\s+http://${address(env).replaceAll('.', '\\.')}/ .*ready\\s+\\d+ records, 4 offices, 5 users`,
        ),
      );
      // The table reports what the environment itself answers.
      const stats = await getJson(address(env), '/stats');
      expect(stats.status).toBe(200);
      expect(stats.body).toMatchObject({ offices: 4, users: 5 });
    }
    // Every server alerts, those that run no stack too: a login on each reaches the lab's receiver.
    for (const server of ['backup-1', 'jump-1']) {
      const login = ssh(lab.sshConfig, server, 'true', ['-l', 'crvs']);
      expect(login.status).toBe(0);
    }
    const from = (server: string) => lab.servers.find((s) => s.name === server)?.address;
    let alerts: { from: string; body: { server?: string; user?: string; source?: string } }[] = [];
    for (let i = 0; i < 30; i++) {
      alerts = JSON.parse(crvsBin(['lab', 'alerts', '--json']).stdout);
      if (['backup-1', 'jump-1'].every((s) => alerts.some((a) => a.body.server === s))) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    for (const server of ['backup-1', 'jump-1'])
      expect(alerts.find((a) => a.body.server === server && a.body.user === 'crvs')).toMatchObject({
        from: from(server),
        body: { source: '10.77.0.1' },
      });
    // And by e-mail: the demo gave every store the lab relay's account, and the relay delivered both.
    const subjects = ['backup-1 (backup)', 'jump-1 (jump)'].map(
      (s) => `SSH login: crvs from 10.77.0.1 on ${s}`,
    );
    let mail: { subject: string; relay: string }[] = [];
    for (let i = 0; i < 30; i++) {
      mail = JSON.parse(crvsBin(['lab', 'mail', '--json']).stdout);
      if (subjects.every((s) => mail.some((m) => m.subject === s))) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    for (const subject of subjects)
      expect(mail.find((m) => m.subject === subject)?.relay).toContain(
        '(Authenticated sender: alerts@lab.crvs.test)',
      );
  });

  it("crvs lab ssh runs the help's examples on provisioned servers without a failed login", () => {
    const lab = ensureDefaultLab();
    const container = (server: string) => lab.servers.find((s) => s.name === server)?.container ?? '';
    // fail2ban's count of failed logins since it started: the lab must add none (a ban locks the operator out).
    const failed = (server: string) =>
      Number(
        /Total failed:\s+(\d+)/.exec(
          spawnSync('docker', ['exec', container(server), 'fail2ban-client', 'status', 'sshd'], {
            encoding: 'utf8',
          }).stdout,
        )?.[1],
      );
    const before = { qa: failed('qa-1'), prod: failed('prod-1') };
    expect(Number.isFinite(before.qa) && Number.isFinite(before.prod)).toBe(true);
    // qa: the admin's key is enough. production: key and the current TOTP code, typed from the lab's store.
    const qa = crvsBin(['lab', 'ssh', 'qa-1', 'hostname']);
    expect([qa.status, qa.stdout]).toEqual([0, 'qa-1\n']);
    const whoami = crvsBin(['lab', 'ssh', 'prod-1', '--', 'id', '-un']);
    expect([whoami.status, whoami.stdout]).toEqual([0, 'ops\n']);
    const nodes = crvsBin([
      'lab',
      'ssh',
      'prod-1',
      '--',
      'sudo',
      'docker',
      'node',
      'ls',
      '--format',
      '{{.Hostname}}',
    ]);
    expect(nodes.status, nodes.stderr).toBe(0);
    expect(nodes.stdout.split('\n').filter(Boolean).sort()).toEqual(['prod-1', 'prod-2']);
    // A third login within seconds: each code is accepted once, so the lab types the ones the server has not seen.
    const third = crvsBin(['lab', 'ssh', 'prod-1', 'hostname']);
    expect([third.status, third.stdout]).toEqual([0, 'prod-1\n']);
    expect({ qa: failed('qa-1'), prod: failed('prod-1') }).toEqual(before);
    // No code is left behind once the session ends.
    expect(readdirSync(tmpdir()).filter((d) => d.startsWith('crvs-lab-login-'))).toEqual([]);
  });
});
