import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { specPaths } from '../../src/config/environment.js';
import { labMail } from '../../src/lab/ops.js';
import { labPaths, labSmtpSecrets } from '../../src/lab/state.js';
import type { HostStats } from '../../src/provision/events.js';
import { ProcessExecutor } from '../../src/remote/executor.js';
import { sensitive } from '../../src/secrets/sensitive.js';
import { SecretStore, type StoredSecret } from '../../src/secrets/store.js';
import {
  crvsBin,
  ensureDefaultLab,
  ensureProvisioned,
  forgetProvisioned,
  type LabInfo,
  unbanAll,
} from './helpers/lab.js';

// Provisioning the default lab for real: every environment kind, idempotence read from Ansible's own counts,
// and the outcomes that matter (logins refused or accepted, alerts received, ports filtered).
let lab: LabInfo;
let identity: string;
const env = () => ({ CRVS_IDENTITY: identity });
const ENVIRONMENTS = ['qa', 'production', 'staging', 'backup', 'jump'];

interface Result {
  environment: string;
  stats: Record<string, HostStats>;
}

function provision(spec: string, envs: string[], tags?: string): Result[] {
  // qa provisioned from a changed spec is not the lab's qa any more: the files after this one provision it again.
  if (spec !== lab.spec) forgetProvisioned(lab, envs);
  const r = crvsBin(['provision', ...envs, ...(tags ? ['--tags', tags] : []), '--spec', spec, '--json'], {
    env: env(),
  });
  if (r.status !== 0) throw new Error(`provision ${envs.join(' ')} failed:\n${r.stderr.slice(-4000)}`);
  return JSON.parse(r.stdout) as Result[];
}

/** ssh with explicit options; the answer is the exit code and output, never an exception. */
function sshAs(
  user: string,
  host: string,
  command: string,
  extra: string[] = [],
  envExtra: NodeJS.ProcessEnv = {},
) {
  return spawnSync(
    'ssh',
    ['-F', lab.sshConfig, '-l', user, '-o', 'ConnectTimeout=5', ...extra, host, command],
    {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, ...envExtra },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

function askpass(dir: string, name: string, script: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o700);
  return file;
}

async function storeValue(environment: string, name: string): Promise<string> {
  const store = new SecretStore(new ProcessExecutor(), specPaths(lab.spec).store(environment), environment);
  const v = (await store.load(identity)).get(name)?.value.reveal();
  if (!v) throw new Error(`${name} not in the ${environment} store`);
  return v;
}

/** open | refused | filtered, probed from a lab server with bash's /dev/tcp. */
function probe(from: string, address: string, port: number): string {
  // The automation user: key only (admins need a TOTP code on production and staging).
  const r = sshAs('crvs', from, `timeout 3 bash -c 'exec 3<>/dev/tcp/${address}/${port}'; echo $?`, [
    '-o',
    'BatchMode=yes',
  ]);
  const code = r.stdout.trim().split('\n').pop();
  return code === '0' ? 'open' : code === '124' ? 'filtered' : 'refused';
}

/** A command run as root inside qa-1 (as the lab's operator, not over SSH); its output, trimmed. */
function onQa(command: string): string {
  return spawnSync('docker', ['exec', 'crvs-lab-qa-1', 'sh', '-c', command], {
    encoding: 'utf8',
  }).stdout.trim();
}

beforeAll(() => {
  lab = ensureDefaultLab();
  unbanAll(lab.servers);
  identity = join(lab.dir, 'id_ed25519');
  // First provisioning from delivered servers, unless this lab was provisioned from its spec already (in the suite,
  // demo.test's `crvs demo` did it). The first tests are the drift check and the re-run.
  ensureProvisioned(lab, ENVIRONMENTS, env());
});

describe('provisioning the lab', () => {
  it('--check names the drift and changes nothing; a Swarm cluster checks clean', () => {
    onQa('echo tampered > /etc/issue.net && chmod 0755 /home/admin');
    // qa and production checked in one run: qa's drift is named, the 2-node cluster has none.
    const check = crvsBin(['provision', 'qa', 'production', '--check', '--json', '--spec', lab.spec], {
      env: env(),
    });
    expect(check.status).toBe(0);
    const checked = JSON.parse(check.stdout) as (Result & { check: boolean })[];
    expect(checked.map((r) => [r.environment, r.check])).toEqual([
      ['qa', true],
      ['production', true],
    ]);
    const stats = Object.assign({}, ...checked.map((r) => r.stats)) as Record<string, HostStats>;
    expect(stats['qa-1']).toMatchObject({ changed: 2, failures: 0, unreachable: 0 });
    expect(stats['prod-1']).toMatchObject({ changed: 0, failures: 0 });
    expect(stats['prod-2']).toMatchObject({ changed: 0, failures: 0 });
    expect(check.stderr).toContain(
      'qa-1: changed crvs_base : Write the legal notice of console and network logins',
    );
    expect(check.stderr).toContain(
      'qa-1: changed crvs_base : Keep every home directory closed to other users',
    );
    expect(onQa('cat /etc/issue.net; stat -c %a /home/admin')).toBe('tampered\n755');
  });

  it('a second run repairs exactly the drift and changes nothing else on any host (Ansible counts)', () => {
    // qa-1 as a run stopped in the middle of a package install leaves it: dpkg's journal written, a package
    // unpacked and not configured. apt then refuses everything until someone runs dpkg --configure -a.
    onQa(
      'cd /tmp && apt-get download -q python3-apt >/dev/null 2>&1 && dpkg --unpack python3-apt_*.deb >/dev/null 2>&1; ' +
        'rm -f python3-apt_*.deb; : > /var/lib/dpkg/updates/0000',
    );
    expect(onQa('apt-get install -y -q python3-apt 2>&1 | tail -1')).toBe(
      "E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem.",
    );
    const results = provision(lab.spec, ENVIRONMENTS);
    const changed = Object.fromEntries(
      results.flatMap((r) =>
        Object.entries(r.stats).map(([host, s]) => [host, `${s.changed}/${s.failures}`]),
      ),
    );
    // qa-1: the two items the test above tampered with, and the package run finished; nothing more.
    expect(changed).toEqual({
      'qa-1': '3/0',
      'prod-1': '0/0',
      'prod-2': '0/0',
      'staging-1': '0/0',
      'backup-1': '0/0',
      'jump-1': '0/0',
    });
    expect(onQa('grep -c tampered /etc/issue.net; stat -c %a /home/admin')).toBe('0\n750');
    expect(onQa('dpkg --audit; ls -A /var/lib/dpkg/updates; dpkg -s python3-apt | grep ^Status')).toBe(
      'Status: install ok installed',
    );
  });

  it('provisions through the jump host when the spec says bastion: every SSH login comes from it', () => {
    const spec = join(lab.dir, 'crvs-bastion.yaml');
    writeFileSync(spec, readFileSync(lab.spec, 'utf8').replace('method: direct', 'method: bastion'));
    const since = onQa('date +%s');
    // Two plays' worth (the accounts as the first play's user, sshd as crvs): enough to see where logins come from.
    const [result] = provision(spec, ['qa'], 'users,ssh');
    expect(result?.stats['qa-1']?.failures).toBe(0);
    const sources = onQa(`journalctl -u ssh.service --since @${since} -o cat`)
      .split('\n')
      .map((l) => /^Accepted publickey for crvs from (\S+) /.exec(l)?.[1])
      .filter(Boolean);
    expect(sources.length).toBeGreaterThan(0);
    expect(new Set(sources)).toEqual(new Set(['10.77.0.51']));
  });

  it('refuses passwords and root; refuses an admin key without TOTP on production; accepts key + code once, then limits the tries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crvs-ssh-'));
    const password = askpass(dir, 'password', `cat ${join(lab.dir, 'admin-password')}`);
    const gui = { SSH_ASKPASS: password, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' };
    const pw = sshAs(
      'admin',
      'qa-1',
      'true',
      ['-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password,keyboard-interactive'],
      gui,
    );
    expect(pw.status).toBe(255);
    expect(pw.stderr).toContain('Permission denied');
    const root = sshAs('root', 'prod-1', 'true', ['-o', 'BatchMode=yes']);
    expect(root.status).toBe(255);
    expect(root.stderr).toContain('Permission denied');

    const keyOnly = sshAs('ops', 'prod-1', 'true', ['-o', 'BatchMode=yes']);
    expect(keyOnly.status).toBe(255);
    expect(keyOnly.stderr).toContain('Permission denied (keyboard-interactive)');

    // The admin enrols from the link crvs shows them; the codes their app then makes open the door.
    const link = crvsBin(['secrets', 'totp', 'production', 'ops', '--spec', lab.spec], { env: env() });
    expect(link.status, link.stderr).toBe(0);
    expect(link.stdout).toMatch(
      /^otpauth:\/\/totp\/OpenCRVS%20production:ops%40lab\.crvs\.test\?secret=[A-Z2-7]+&/,
    );
    const secret = new URL(link.stdout.trim()).searchParams.get('secret') ?? '';
    expect(secret).toBe(await storeValue('production', 'TOTP_OPS'));
    // One code, computed once: accepted, then refused when replayed (RFC 6238 5.2), within its 30 seconds.
    const now = spawnSync('oathtool', ['--totp', '-b', secret], { encoding: 'utf8' }).stdout.trim();
    expect(now).toMatch(/^\d{6}$/);
    const withCode = (file: string) =>
      sshAs('ops', 'prod-1', 'hostname', [], {
        SSH_ASKPASS: file,
        SSH_ASKPASS_REQUIRE: 'force',
        DISPLAY: ':0',
      });
    const code = askpass(dir, 'totp', `echo ${now}`);
    expect(withCode(code).stdout).toBe('prod-1\n');
    const replay = withCode(code);
    expect(replay.status).toBe(255);
    expect(replay.stdout).toBe('');
    expect(withCode(askpass(dir, 'wrong', 'echo 000000')).status).toBe(255);
    // Three tries in 30 s used up (the login, the replay, the wrong code): the next step's code, valid and never
    // used, is refused too. The limit is the account's, kept in its secret file, whatever the source address.
    const next = askpass(
      dir,
      'next',
      `oathtool --totp -b '${secret}' --now="$(date -u -d '+30 seconds' '+%Y-%m-%d %H:%M:%S UTC')"`,
    );
    expect(withCode(next).status).toBe(255);
    const journal = spawnSync(
      'docker',
      [
        'exec',
        'crvs-lab-prod-1',
        'journalctl',
        '-t',
        'sshd(pam_google_authenticator)',
        '-o',
        'cat',
        '--since=-2min',
      ],
      { encoding: 'utf8' },
    ).stdout;
    expect(journal).toContain('Trying to reuse a previously used time-based code');
    expect(journal).toContain('Too many concurrent login attempts');
    // The module recorded the code used in the secret file (enrolment keeps such a file as it is: see
    // test/unit/provision/totp-enrol.test.ts).
    const file = spawnSync(
      'docker',
      ['exec', 'crvs-lab-prod-1', 'sh', '-c', "sed -n 's/^\" DISALLOW_REUSE //p' /var/lib/crvs-totp/ops"],
      { encoding: 'utf8' },
    ).stdout.trim();
    expect(file).toMatch(/^\d+/);
    unbanAll(lab.servers);
  });

  it('adds an admin, then removes the one set to absent: account gone and login refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crvs-dave-'));
    const key = join(dir, 'id_ed25519');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'dave', '-f', key]);
    const pub = readFileSync(`${key}.pub`, 'utf8').trim();
    const spec = join(lab.dir, 'crvs-dave.yaml');
    const base = readFileSync(lab.spec, 'utf8');
    const withDave = (state: string) =>
      base.replace(/\nadmins:\n/, `\nadmins:\n  - name: dave\n    state: ${state}\n    sshKeys: [${pub}]\n`);
    writeFileSync(spec, withDave('present'));
    // A change of admins needs only the users tag (accounts, keys, TOTP enrolment).
    const [added] = provision(spec, ['qa'], 'users');
    expect(added?.stats['qa-1']).toMatchObject({ failures: 0 });
    const login = sshAs('dave', 'qa-1', 'id -un', ['-i', key, '-o', 'BatchMode=yes']);
    expect(login.stdout).toBe('dave\n');
    writeFileSync(spec, withDave('absent'));
    provision(spec, ['qa'], 'users');
    const refused = sshAs('dave', 'qa-1', 'id -un', ['-i', key, '-o', 'BatchMode=yes']);
    expect(refused.status).toBe(255);
    const check = 'id dave >/dev/null 2>&1 || echo no-such-user; test -d /home/dave && echo home-left';
    expect(sshAs('ops', 'qa-1', check, ['-o', 'BatchMode=yes']).stdout).toBe('no-such-user\n');
    unbanAll(lab.servers);
  });

  it('alerts on every SSH login by webhook, Slack and e-mail through the lab relay (STARTTLS, account)', async () => {
    const posts: { path: string; body: Record<string, string> }[] = [];
    const http = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        posts.push({ path: req.url ?? '', body: JSON.parse(body) as Record<string, string> });
        res.end('ok');
      });
    });
    let previousWebhook: StoredSecret | undefined;
    await new Promise<void>((r) => http.listen(0, '10.77.0.1', r));
    const port = (http.address() as AddressInfo).port;
    const line = 'SSH login: ops from 10.77.0.1 on qa-1 (qa)';
    const paths = labPaths(lab.dir);
    const mailed = async () =>
      (await labMail(new ProcessExecutor(), paths)).filter((m) => m.subject === line);
    try {
      // The lab spec with a Slack webhook; its mail goes to the lab relay, as crvs lab up wrote it.
      const spec = join(lab.dir, 'crvs-alerts.yaml');
      const text = readFileSync(lab.spec, 'utf8');
      const changed = text.replace(
        /( +)webhookSecret: ALERT_WEBHOOK_URL/,
        '$&\n$1slackWebhookSecret: SLACK_WEBHOOK_URL',
      );
      expect(changed).toContain('  slackWebhookSecret: SLACK_WEBHOOK_URL\n');
      expect(changed).toMatch(/host: mail\.lab\.crvs\.test\n {2}port: 587\b.*\n.*\n {2}ca: lab-ca\.pem\n/);
      writeFileSync(spec, changed);
      const store = new SecretStore(new ProcessExecutor(), specPaths(lab.spec).store('qa'), 'qa');
      const secrets = await store.load(identity);
      previousWebhook = secrets.get('ALERT_WEBHOOK_URL');
      const setAt = new Date().toISOString();
      secrets.set('ALERT_WEBHOOK_URL', { value: sensitive(`http://10.77.0.1:${port}/alerts`), setAt });
      secrets.set('SLACK_WEBHOOK_URL', { value: sensitive(`http://10.77.0.1:${port}/slack`), setAt });
      // The relay's account, as secrets init takes it in every lab file; kept afterwards (it is the lab's).
      const account = labSmtpSecrets(paths);
      secrets.set('SMTP_USERNAME', { value: sensitive(account.CRVS_SECRET_SMTP_USERNAME ?? ''), setAt });
      secrets.set('SMTP_PASSWORD', { value: sensitive(account.CRVS_SECRET_SMTP_PASSWORD ?? ''), setAt });
      const keys = [readFileSync(`${identity}.pub`, 'utf8').trim()];
      await store.save(secrets, keys);
      // Where alerts go is the alerts role's alone.
      provision(spec, ['qa'], 'alerts');
      posts.length = 0;
      const before = (await mailed()).length;
      expect(sshAs('ops', 'qa-1', 'true', ['-o', 'BatchMode=yes']).status).toBe(0);
      // The run's own alert reaches this receiver only now: the event loop was blocked while crvs ran.
      const login = () => posts.find((p) => p.path === '/alerts' && p.body.event === 'ssh-login');
      const slack = () => posts.find((p) => p.path === '/slack' && p.body.text === line);
      let mails = await mailed();
      for (let i = 0; i < 40 && (!login() || !slack() || mails.length <= before); i++) {
        await new Promise((r) => setTimeout(r, 250));
        mails = await mailed();
      }
      // Changing where alerts go changed a file the integrity baseline watches: the run says so, to the new place.
      expect(posts.find((p) => p.body.event === 'integrity-rebaselined')?.body.text).toBe(
        'a crvs provisioning run took 1 changed file(s) into the file-integrity baseline: /etc/crvs/alerts.json on qa-1 (qa)',
      );
      expect(login()?.body).toEqual({
        event: 'ssh-login',
        user: 'ops',
        source: '10.77.0.1',
        server: 'qa-1',
        environment: 'qa',
        text: line,
      });
      expect(slack()?.body).toEqual({ text: line });
      expect(mails).toHaveLength(before + 1);
      const mail = mails[mails.length - 1];
      expect([mail?.from, mail?.to]).toEqual(['noreply@lab.crvs.test', ['ops@lab.crvs.test']]);
      expect(JSON.parse(mail?.body ?? '')).toMatchObject({ event: 'ssh-login', user: 'ops', server: 'qa-1' });
      // Postfix's own record of how it came: from qa-1, over TLS, with the lab's account.
      expect(mail?.relay).toMatch(/^from \S+ \(\S+ \[10\.77\.0\.11\]\) \(using TLSv1\.[23] /);
      expect(mail?.relay).toContain('(Authenticated sender: alerts@lab.crvs.test)');
    } finally {
      http.close();
      // qa's store as it was (the lab's receiver, or no webhook yet, which crvs demo's secrets init then fills): the
      // files after this one provision qa again, and its alerts must not go to this test's receiver, gone.
      const store = new SecretStore(new ProcessExecutor(), specPaths(lab.spec).store('qa'), 'qa');
      const secrets = await store.load(identity);
      if (previousWebhook) secrets.set('ALERT_WEBHOOK_URL', previousWebhook);
      else secrets.delete('ALERT_WEBHOOK_URL');
      secrets.delete('SLACK_WEBHOOK_URL');
      await store.save(secrets, [readFileSync(`${identity}.pub`, 'utf8').trim()]);
    }
  });

  it('filters ports: from outside the cluster only SSH and the ingress answer; Swarm ports only to members', () => {
    // staging-1 is a lab server outside production's cluster; prod-2 is a member. HTTP passes the firewall on
    // both nodes (a proxy runs on every node): open once the stack runs, refused before, never filtered.
    const passes = (state: string) => (state === 'filtered' ? 'filtered' : 'passes');
    const outside = (address: string) =>
      Object.fromEntries(
        [22, 80, 2377, 7946, 4789, 5432].map((p) => [
          p,
          p === 80 ? passes(probe('staging-1', address, p)) : probe('staging-1', address, p),
        ]),
      );
    const expected = {
      22: 'open',
      80: 'passes',
      2377: 'filtered',
      7946: 'filtered',
      4789: 'filtered',
      5432: 'filtered',
    };
    expect(outside('10.77.0.21')).toEqual(expected);
    expect(outside('10.77.0.22')).toEqual(expected);
    const member = Object.fromEntries([2377, 7946].map((p) => [p, probe('prod-2', '10.77.0.21', p)]));
    expect(member).toEqual({ 2377: 'open', 7946: 'open' });
  });

  it('hardens past SSH: no core dumps, idle shells logged out, accounting on, closed homes, legal notice', () => {
    // A login shell of the automation user on the production data node.
    const shell = sshAs('crvs', 'prod-2', `bash -lc 'ulimit -Hc; declare -p TMOUT'`, ['-o', 'BatchMode=yes']);
    // Read-only and exported: a user cannot switch the timeout off.
    expect(shell.stdout).toBe('0\ndeclare -rx TMOUT="900"\n');
    const inside = (command: string) =>
      spawnSync('docker', ['exec', 'crvs-lab-prod-2', 'sh', '-c', command], { encoding: 'utf8' }).stdout;
    expect(inside('systemctl is-active acct sysstat')).toBe('active\nactive\n');
    // Every home directory, the delivered admin's included, is closed to other users.
    expect(inside('stat -c %a /home/* | sort -u')).toBe('750\n');
    expect(
      inside(
        'grep -c "^install \\(dccp\\|sctp\\|rds\\|tipc\\|usb-storage\\|firewire-core\\) /bin/true$" /etc/modprobe.d/90-crvs.conf',
      ),
    ).toBe('6\n');
    expect(inside('head -c 22 /etc/issue.net')).toBe('Authorized access only');
    expect(inside('grep -h "^Storage\\|^ProcessSizeMax" /etc/systemd/coredump.conf.d/90-crvs.conf')).toBe(
      'Storage=none\nProcessSizeMax=0\n',
    );
  });

  it('passes an ssh-audit policy made from the shipped algorithm lists, and the audit finds nothing weak', () => {
    // The policy is exact (ssh-audit compares whole lists, in order): what crvs_ssh configures, plus the strict
    // key exchange marker that OpenSSH adds against Terrapin (CVE-2023-48795). Certificate types are optional:
    // a server offers them only with a host certificate.
    const d = parseYaml(readFileSync('ansible/roles/crvs_ssh/defaults/main.yml', 'utf8')) as Record<
      string,
      string[]
    >;
    const hostKeys = d.crvs_ssh_host_key_algorithms ?? [];
    const policy = [
      'name = "crvs hardened OpenSSH server"',
      'version = 1',
      `host keys = ${hostKeys.filter((k) => !k.includes('-cert-')).join(', ')}`,
      `optional host keys = ${hostKeys.filter((k) => k.includes('-cert-')).join(', ')}`,
      `key exchanges = ${[...(d.crvs_ssh_kex ?? []), 'kex-strict-s-v00@openssh.com'].join(', ')}`,
      `ciphers = ${(d.crvs_ssh_ciphers ?? []).join(', ')}`,
      `macs = ${(d.crvs_ssh_macs ?? []).join(', ')}`,
      '',
    ].join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'crvs-ssh-audit-'));
    const file = join(dir, 'policy.txt');
    writeFileSync(file, policy);
    try {
      // Each audit opens several unauthenticated connections, which fail2ban rightly counts: unban after each.
      const sshAudit = (...args: string[]) => {
        const r = spawnSync('ssh-audit', ['-n', ...args], { encoding: 'utf8', timeout: 120_000 });
        unbanAll(lab.servers);
        return r;
      };
      for (const server of ['10.77.0.21', '10.77.0.41', '10.77.0.51']) {
        const audit = sshAudit('-P', file, server);
        expect(audit.stdout, server).toContain('Result: ✔ Passed');
        expect(audit.status, audit.stdout).toBe(0);
        const full = sshAudit(server);
        // Debian 12's ssh-audit (2.5.0) predates two things OpenSSH 9 does on purpose: the post-quantum hybrid
        // key exchange it calls experimental, and the strict key exchange marker against Terrapin. Nothing else.
        const weak = full.stdout
          .split('\n')
          .filter((l) => /\[(fail|warn)\]/.test(l))
          .map((l) => l.replace(/\s+/g, ' ').trim());
        expect(weak, `${server}\n${full.stdout}`).toEqual([
          '(kex) sntrup761x25519-sha512@openssh.com -- [warn] using experimental algorithm',
          '(kex) kex-strict-s-v00@openssh.com -- [warn] unknown algorithm',
        ]);
      }
      // A policy the server does not match fails: the check is not a rubber stamp.
      const loose = policy.replace(/^ciphers = .*$/m, 'ciphers = aes128-ctr');
      writeFileSync(file, loose);
      const refused = sshAudit('-P', file, '10.77.0.21');
      expect(refused.stdout).toContain('Failed');
      expect(refused.status).not.toBe(0);
    } finally {
      unbanAll(lab.servers);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
