import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { crvsBin, ensureDefaultLab, loginArgs, root, ssh } from './helpers/lab.js';

const docker = (...args: string[]) => spawnSync('docker', args, { encoding: 'utf8' }).stdout.trim();

describe('the default lab', () => {
  it('starts every server of the spec: reachable with the lab key, right host name and address, systemd up', () => {
    const lab = ensureDefaultLab();
    expect(lab.servers.map((s) => `${s.environment}/${s.name}/${s.address}`)).toEqual([
      'production/prod-1/10.77.0.21',
      'production/prod-2/10.77.0.22',
      'staging/staging-1/10.77.0.31',
      'qa/qa-1/10.77.0.11',
      'backup/backup-1/10.77.0.41',
      'jump/jump-1/10.77.0.51',
    ]);
    for (const s of lab.servers) {
      // The delivered account takes the lab key until provisioning locks it out; the automation user after.
      const command = 'hostname; ip -4 -o addr show dev eth0; sudo systemctl is-system-running';
      const r = ssh(lab.sshConfig, s.name, command, loginArgs(s));
      expect(r.stderr).toBe('');
      const [hostname, addr, systemd] = r.stdout.trim().split('\n');
      expect(hostname).toBe(s.name);
      expect(addr).toContain(`inet ${s.address}/24`);
      expect(systemd).toBe('running');
    }
    // The spec the lab wrote for itself validates and carries the lab key.
    const check = crvsBin(['validate', lab.spec]);
    expect(check.status).toBe(0);
    const pub = readFileSync(join(lab.dir, 'id_ed25519.pub'), 'utf8').trim();
    expect(readFileSync(lab.spec, 'utf8')).toContain(pub);
  });

  it('a second up changes nothing and reuses the cached images', () => {
    const r = crvsBin(['lab', 'up', '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).created).toEqual([]);
    expect(r.stderr).not.toContain('building');
  });

  it('answers DNS for the lab domain and serves the registry and the apt cache', () => {
    const lab = ensureDefaultLab();
    const login = loginArgs({ container: 'crvs-lab-qa-1' });
    const r = ssh(
      lab.sshConfig,
      'qa-1',
      'getent hosts qa.lab.crvs.test api.lab.crvs.test prod-2.lab.crvs.test registry.lab.crvs.test | sort; ' +
        'bash -c "exec 3<>/dev/tcp/10.77.0.2/5000" && echo registry; sudo apt-get update >/dev/null && echo apt',
      login,
    );
    expect(r.stdout.trim().split('\n')).toEqual([
      '10.77.0.11      qa.lab.crvs.test',
      '10.77.0.2       registry.lab.crvs.test',
      '10.77.0.21      api.lab.crvs.test',
      '10.77.0.22      prod-2.lab.crvs.test',
      'registry',
      'apt',
    ]);
    // crvs dns check against the lab's DNS server: qa's one name resolves to its one server; production's
    // domain to its manager only (the lab's DNS gives an environment's first server), which is a subset.
    const check = (environment: string) =>
      crvsBin(['dns', 'check', environment, '--resolver', '10.77.0.2', '--spec', lab.spec, '--json']);
    const qa = check('qa');
    expect(qa.status, qa.stderr).toBe(0);
    expect(JSON.parse(qa.stdout).findings).toEqual([
      { name: 'qa.lab.crvs.test', status: 'ok', detail: '10.77.0.11' },
    ]);
    expect(JSON.parse(check('production').stdout).findings).toEqual([
      { name: 'lab.crvs.test', status: 'ok', detail: '10.77.0.21 (1 of 2 servers)' },
    ]);
  });

  it("receives what a server posts to the lab's alert receiver; crvs lab alerts shows it", () => {
    const lab = ensureDefaultLab();
    const login = loginArgs({ container: 'crvs-lab-qa-1' });
    const marker = `lab-test-${randomBytes(6).toString('hex')}`;
    // bash's /dev/tcp: a delivered server has no HTTP client.
    const post =
      `b='{"text":"${marker}"}'; exec 3<>/dev/tcp/10.77.0.2/9000 && ` +
      `printf 'POST /lab-test HTTP/1.0\\r\\nContent-Type: application/json\\r\\nContent-Length: %s\\r\\n\\r\\n%s' "\${#b}" "$b" >&3 && ` +
      'head -1 <&3';
    expect(ssh(lab.sshConfig, 'qa-1', post, login).stdout.trim()).toBe('HTTP/1.0 204 No Content');
    const alerts = JSON.parse(crvsBin(['lab', 'alerts', '--json']).stdout) as Record<string, unknown>[];
    expect(alerts.filter((a) => a.path === '/lab-test' && JSON.stringify(a.body).includes(marker))).toEqual([
      {
        received: expect.stringMatching(/^\d{4}-/),
        from: '10.77.0.11',
        path: '/lab-test',
        body: { text: marker },
      },
    ]);
    // Login alerts of the provisioned server may arrive around it: look for the row, not the last line.
    const table = crvsBin(['lab', 'alerts']).stdout;
    expect(table).toMatch(/^RECEIVED +FROM +PATH +ALERT\n[- ]+\n/);
    expect(table).toMatch(new RegExp(String.raw`^\S+ +10\.77\.0\.11 +/lab-test +${marker}$`, 'm'));
    expect(JSON.parse(crvsBin(['lab', 'alerts', '--last', '1', '--json']).stdout)).toHaveLength(1);
  });
});

describe('a second, throw-away lab', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crvs-minilab-'));
  const name = 'crvs-labtest';
  const spec = join(dir, 'mini.yaml');
  const lab = (...args: string[]) => crvsBin(['lab', ...args, '--dir', join(dir, 'state')]);
  // The throw-away lab belongs to this file: whatever an interrupted earlier run left of it goes first.
  beforeAll(() => {
    crvsBin(['lab', 'down', '--name', name, '--dir', join(dir, 'state')]);
  });

  it('comes up beside the default one, keeps password login of a delivered server, survives stop/start', () => {
    const template = readFileSync(join(root, 'examples', 'lab', 'crvs.yaml'), 'utf8');
    const servers = `environments:
  qa:
    testTwoFactorCodes: true
    ingressMode: dnsrr
    servers:
      - { name: mini-1, address: 10.78.0.11, adminUser: admin, labels: { data: "true" } }
      - { name: mini-2, address: 10.78.0.12, adminUser: admin, role: worker }
`;
    writeFileSync(
      spec,
      template
        .replace(/environments:[\s\S]*?\ntls:/, `${servers}\ntls:`)
        .replace(/backups:[\s\S]*?\nstack:/, 'stack:')
        .replace('10.77.0.0/24', '10.78.0.0/24')
        .replace('10.77.0.2:5000', '10.78.0.2:5000'),
    );
    const up = crvsBin(['lab', 'up', '--spec', spec, '--name', name, '--dir', join(dir, 'state'), '--json']);
    expect(up.stderr).not.toContain('error');
    expect(up.status).toBe(0);
    const sshConfig = join(dir, 'state', 'ssh_config');
    expect(ssh(sshConfig, 'mini-2', 'hostname').stdout).toBe('mini-2\n');

    // Password login is still on, as on many delivered servers: provisioning must turn it off.
    const askpass = join(dir, 'askpass');
    writeFileSync(askpass, `#!/bin/sh\ncat ${join(dir, 'state', 'admin-password')}\n`);
    chmodSync(askpass, 0o700);
    const pw = spawnSync(
      'ssh',
      [
        '-F',
        sshConfig,
        '-o',
        'PubkeyAuthentication=no',
        '-o',
        'PreferredAuthentications=password',
        'mini-1',
        'id -un',
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
      },
    );
    expect(pw.stdout).toBe('admin\n');

    expect(lab('stop', 'mini-2').status).toBe(0);
    const status = JSON.parse(lab('status', '--json').stdout) as {
      servers: { name: string; state: string; ssh: string }[];
    };
    expect(status.servers.map((s) => `${s.name}:${s.state}:${s.ssh}`)).toEqual([
      'lab-services:running:closed',
      'mini-1:running:open',
      'mini-2:exited:closed',
    ]);
    expect(lab('start', 'mini-2').status).toBe(0);
    expect(ssh(sshConfig, 'mini-2', 'hostname').stdout).toBe('mini-2\n');
  });

  it('repairs a lab that lost a server: up recreates only what is missing', () => {
    docker('rm', '--force', `${name}-mini-1`);
    const up = crvsBin(['lab', 'up', '--spec', spec, '--name', name, '--dir', join(dir, 'state'), '--json']);
    expect(up.status).toBe(0);
    expect(JSON.parse(up.stdout).created).toEqual([`${name}-mini-1`]);
    expect(ssh(join(dir, 'state', 'ssh_config'), 'mini-1', 'hostname').stdout).toBe('mini-1\n');
  });

  it('refuses servers handed over with another key (a lab of another directory) and leaves them alone', () => {
    const other = join(dir, 'other');
    const up = crvsBin(['lab', 'up', '--spec', spec, '--name', name, '--dir', other, '--json']);
    expect(up.status).toBe(1);
    expect(up.stderr).toMatch(
      new RegExp(
        `error \\[E_LAB_FOREIGN\\]: mini-[12] \\(${name}-mini-[12]\\) was handed over with another lab key than ${other}/id_ed25519`,
      ),
    );
    expect(up.stderr).toContain(
      `hint: use the --dir that holds its key, or start this lab afresh: crvs lab down --name ${name}, then up again`,
    );
    // The servers still take the key they were handed over with, and only that one.
    expect(ssh(join(dir, 'state', 'ssh_config'), 'mini-2', 'hostname').stdout).toBe('mini-2\n');
    const intruder = ssh(join(other, 'ssh_config'), 'mini-2', 'hostname');
    expect(intruder.status).toBe(255);
    expect(intruder.stdout).toBe('');
  });

  it('shapes the link with tbf and clears it', () => {
    expect(lab('shape', '--rate', '10mbit').status).toBe(0);
    const qdisc = docker('exec', `${name}-mini-1`, 'tc', 'qdisc', 'show', 'dev', 'eth0');
    expect(qdisc).toMatch(/^qdisc tbf \S+ root refcnt \d+ rate 10Mbit burst 8Kb lat 400ms/);
    expect(lab('shape', '--clear').status).toBe(0);
    expect(docker('exec', `${name}-mini-1`, 'tc', 'qdisc', 'show', 'dev', 'eth0')).not.toContain('tbf');
  });

  it('down removes every container, volume and network of that lab and nothing of the default lab', () => {
    const before = docker('ps', '-q', '--filter', 'label=crvs.lab=crvs-lab').split('\n').length;
    const down = lab('down', '--json');
    expect(down.status).toBe(0);
    // Volumes: the registry's, the apt cache's, the mail relay's (its CA) and each server's Docker data.
    expect(JSON.parse(down.stdout).removed).toEqual({ containers: 3, volumes: 5, networks: 1 });
    for (const kind of ['container', 'volume', 'network'])
      expect(
        docker(
          kind,
          'ls',
          '-q',
          ...(kind === 'container' ? ['-a'] : []),
          '--filter',
          `label=crvs.lab=${name}`,
        ),
      ).toBe('');
    expect(docker('ps', '-q', '--filter', 'label=crvs.lab=crvs-lab').split('\n').length).toBe(before);
  });
});
