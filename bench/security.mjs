#!/usr/bin/env node
// Benchmark (on demand, not a test): the security probes of the lab, run from outside the servers as an attacker or
// an auditor would, so that the figures in bench/README.md can be reproduced. Needs the default lab as `crvs demo`
// leaves it (every environment provisioned, the stacks up) and, on this host, nmap, oathtool and lynis
// (apt-get install nmap oathtool lynis). Talks only to the lab's own containers.
//   node bench/security.mjs [--skip-lynis] [--skip-ports]
// Writes bench/results/security.json; exits 1 when a probe finds what it must not (a method, a port, a login, a
// replay or a secret where none may be).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { env, lab, root, spec } from './lab-env.mjs';
import { lynis, lynisTree } from './lynis.mjs';

const args = process.argv.slice(2);
const run = (argv, input) =>
  spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', input, env, timeout: 600_000 });
const crvs = (...a) => {
  const r = run([
    process.execPath,
    join(root, 'bin', 'crvs.js'),
    ...a,
    ...(a[0] === 'lab' ? [] : ['--spec', spec]),
  ]);
  if (r.status !== 0) throw new Error(`crvs ${a.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
};
for (const tool of ['nmap', 'oathtool', 'ssh'])
  if (run(['sh', '-c', `command -v ${tool}`]).status !== 0)
    throw new Error(`${tool} is missing: apt-get install ${tool}`);

const servers = JSON.parse(crvs('lab', 'status', '--json')).servers.filter((s) => s.environment !== 'lab');
const APPLICATION = ['production', 'staging', 'qa', 'development'];
const dir = mkdtempSync(join(tmpdir(), 'crvs-security-'));
const findings = [];
const fail = (probe, text) => findings.push(`${probe}: ${text}`);
const unbanAll = () => {
  for (const s of servers)
    run(['docker', 'exec', s.container, 'sh', '-c', 'fail2ban-client unban --all >/dev/null 2>&1 || true']);
};
const ssh = (user, address, extra = [], envExtra = {}) =>
  spawnSync(
    'ssh',
    [
      '-i',
      join(lab, 'id_ed25519'),
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      `UserKnownHostsFile=${join(lab, 'known_hosts.pinned')}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'ConnectTimeout=10',
      ...extra,
      '-l',
      user,
      address,
      'hostname',
    ],
    { encoding: 'utf8', env: { ...process.env, ...envExtra }, timeout: 60_000 },
  );
/**
 * fail2ban reads the log after the fact: a ban can land just after an unban. Wait for it to catch up, lift every
 * ban, and see the automation user get in again before the next probe.
 */
async function settle() {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 2000));
    unbanAll();
    if (ssh('crvs', '10.77.0.21', ['-o', 'BatchMode=yes']).status === 0) return;
  }
  throw new Error('prod-1 still refuses the automation user after lifting every ban');
}
const askpass = (name, script) => {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o700);
  return { SSH_ASKPASS: file, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' };
};
const result = {
  date: new Date().toISOString(),
  methods: {},
  ports: {},
  bypass: {},
  replay: {},
  leaks: {},
  lynis: {},
};

try {
  unbanAll();
  // 1. What a stranger is offered: the "none" method makes sshd list the others (one failed attempt per server).
  for (const s of servers) {
    const r = ssh('stranger', s.address, ['-o', 'PreferredAuthentications=none', '-o', 'BatchMode=yes']);
    const offered = /Permission denied \(([^)]*)\)/.exec(r.stderr)?.[1] ?? `no answer: ${r.stderr.trim()}`;
    result.methods[s.name] = offered;
    if (offered !== 'publickey') fail('methods', `${s.name} offers ${offered}`);
  }
  unbanAll();

  // 2. Every TCP port of every server, from this host (an address SSH is allowed from, outside every cluster).
  if (!args.includes('--skip-ports')) {
    const scan = run([
      'nmap',
      '-Pn',
      '-sT',
      '-p-',
      '--min-rate',
      '3000',
      '--max-retries',
      '1',
      '-T4',
      '--open',
      '-oG',
      '-',
      ...servers.map((s) => s.address),
    ]);
    for (const s of servers) {
      const line =
        scan.stdout.split('\n').find((l) => l.startsWith(`Host: ${s.address} `) && l.includes('Ports:')) ??
        '';
      const open = [...line.matchAll(/(\d+)\/open\/tcp/g)].map((m) => Number(m[1]));
      result.ports[s.name] = open;
      const expected = APPLICATION.includes(s.environment) ? [22, 80] : [22];
      if (JSON.stringify(open) !== JSON.stringify(expected))
        fail('ports', `${s.name} answers on ${open.join(', ')}`);
    }
  }

  // 3. Ways in that must stay shut on production, and the automation user's key as the control that gets in.
  const password = askpass('password', `cat ${join(lab, 'admin-password')}`);
  // A scan's connections count towards fail2ban's limit too: start the logins with a clean slate.
  unbanAll();
  const attempts = {
    automationKey: ssh('crvs', '10.77.0.21', ['-o', 'BatchMode=yes']),
    root: ssh('root', '10.77.0.21', ['-o', 'BatchMode=yes']),
    deliveredAdminPassword: ssh(
      'admin',
      '10.77.0.21',
      ['-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password,keyboard-interactive'],
      password,
    ),
    adminKeyWithoutCode: ssh('ops', '10.77.0.21', ['-o', 'BatchMode=yes']),
  };
  for (const [name, r] of Object.entries(attempts)) {
    result.bypass[name] = r.status === 0 ? 'logged in' : 'refused';
    if ((r.status === 0) !== (name === 'automationKey')) fail('bypass', `${name}: ${result.bypass[name]}`);
  }
  await settle();

  // 4. One TOTP code, used twice within its 30 seconds: the second must be refused (RFC 6238, 5.2).
  const secret = crvs('secrets', 'get', 'production', 'TOTP_OPS').trim();
  const left = 30 - (Math.floor(Date.now() / 1000) % 30);
  if (left < 12) await new Promise((r) => setTimeout(r, (left + 1) * 1000));
  const code = run(['oathtool', '--totp', '-b', secret]).stdout.trim();
  const withCode = askpass('code', `echo ${code}`);
  const first = ssh('ops', '10.77.0.21', [], withCode);
  const again = ssh('ops', '10.77.0.21', [], withCode);
  result.replay = {
    first: first.status === 0 ? 'logged in' : 'refused',
    replayed: again.status === 0 ? 'logged in' : 'refused',
  };
  if (first.status !== 0 || again.status === 0) fail('replay', JSON.stringify(result.replay));
  unbanAll();

  // 5. Every secret of every environment's store, searched on every server: files, the journal, every process's
  // arguments and environment, docker inspect of containers and services. The values travel on stdin. A secret's
  // one home is a root-only file under /etc/crvs (alerts, backup, restore drill) or /var/lib/crvs-totp; the
  // repository key borg keeps in the repository's config on the backup server is sealed by the passphrase.
  // Where a secret may be: root-only files of crvs; the repository key borg keeps in the repository's config on
  // the backup server (sealed by the passphrase, owned by borg); a Swarm secret in the tmpfs (memory) Docker mounts
  // for the container that uses it.
  const homes = [
    { place: /^\/etc\/crvs\//, mode: /^root:root:[46]00$/ },
    { place: /^\/var\/lib\/crvs-totp\//, mode: /^root:root:[46]00$/ },
    { place: /^\/srv\/borg\/repos\/[^/]+\/config$/, mode: /^borg:borg:600$/, only: /BACKUP_REPOSITORY_KEY/ },
    {
      place: /^\/var\/lib\/docker\/containers\/[0-9a-f]{64}\/mounts\/secrets\//,
      mode: /^root:root:444$/,
      fs: 'tmpfs',
    },
  ];
  // The restore drill's key and production's passphrase belong only on the data node of an environment that restores
  // production (staging by default; qa or development when their spec has a restore section).
  const labSpec = parse(readFileSync(spec, 'utf8'));
  const restoring = (environment) => {
    const r = labSpec.environments?.[environment]?.restore;
    return environment === 'staging' ? r?.enabled !== false : r !== undefined && r.enabled !== false;
  };
  const residue = (server, w) => w.place.startsWith('/etc/crvs/restore/') && !restoring(server.environment);
  const atHome = (w) =>
    homes.some(
      (h) =>
        h.place.test(w.place) &&
        h.mode.test(w.mode ?? '') &&
        (!h.fs || h.fs === w.fs) &&
        (!h.only || h.only.test(w.secret)),
    );
  const sweep = readFileSync(join(root, 'bench', 'security-sweep.py'), 'utf8');
  // One entry per value: the lab gives every environment the same alert webhook, for one.
  const byValue = new Map();
  for (const environment of [...new Set(servers.map((s) => s.environment))])
    for (const x of JSON.parse(crvs('secrets', 'list', environment, '--json'))) {
      if (!x.setAt) continue;
      const value = crvs('secrets', 'get', environment, x.name).replace(/\n$/, '');
      byValue.set(value, [...(byValue.get(value) ?? []), `${environment}:${x.name}`]);
    }
  const secrets = [...byValue.entries()].map(([value, names]) => ({ value, name: names.join(' = ') }));
  const input = `${secrets.map((x) => Buffer.from(x.value).toString('base64')).join('\n')}\n`;
  for (const s of servers) {
    const r = run(['docker', 'exec', '-i', s.container, 'python3', '-c', sweep], input);
    if (r.status !== 0) throw new Error(`the sweep failed on ${s.name}: ${r.stderr}`);
    const where = JSON.parse(r.stdout).map((h) => ({
      secret: secrets[h.secret].name,
      place: h.place,
      ...(h.mode ? { mode: h.mode, fs: h.fs } : {}),
    }));
    result.leaks[s.name] = where;
    for (const w of where)
      if (!atHome(w) || residue(s, w))
        fail('leaks', `${s.name}: ${w.secret} in ${w.place}${w.mode ? ` (${w.mode}, ${w.fs})` : ''}`);
  }
  result.secretsSearched = secrets.length;

  // 6. Lynis on production's two servers.
  if (!args.includes('--skip-lynis')) {
    const t = lynisTree();
    for (const s of ['prod-1', 'prod-2']) result.lynis[s] = lynis(t.tree, s);
    rmSync(t.dir, { recursive: true, force: true });
  }
} finally {
  unbanAll();
  rmSync(dir, { recursive: true, force: true });
}

result.findings = findings;
writeFileSync(join(root, 'bench', 'results', 'security.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log('methods offered to a stranger:', JSON.stringify(result.methods));
console.log('open TCP ports:', JSON.stringify(result.ports));
console.log('bypass attempts on prod-1:', JSON.stringify(result.bypass));
console.log('TOTP replay on prod-1:', JSON.stringify(result.replay));
for (const [server, where] of Object.entries(result.leaks))
  console.log(`secrets on ${server}: ${where.map((w) => `${w.secret} in ${w.place}`).join(', ') || 'none'}`);
for (const [server, a] of Object.entries(result.lynis))
  console.log(
    `Lynis ${server}: hardening index ${a.index}, ${a.warnings} warnings, ${a.suggestions} suggestions`,
  );
console.log(findings.length ? `FINDINGS:\n${findings.join('\n')}` : 'no finding');
process.exit(findings.length ? 1 : 0);
