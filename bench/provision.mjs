#!/usr/bin/env node
// Benchmark: provisioning the default lab from fresh servers, then again with nothing to change, and the Lynis
// hardening index of a production server before and after. Run on demand (not a test): node bench/provision.mjs
// after `npm run build` (`--lynis <server...>` only audits lab servers as they are). It recreates the default lab (lab down, lab up): every server starts as delivered.
// Lynis is the host's Debian package (apt-get install lynis), copied into the server for the audit only, so the
// fresh server is measured as delivered and nothing is installed on it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { crvs, env, root } from './lab-env.mjs';

const ENVIRONMENTS = ['qa', 'production', 'staging', 'backup', 'jump'];

function lynisTree() {
  const dir = mkdtempSync(join(tmpdir(), 'crvs-lynis-'));
  const tree = join(dir, 'lynis');
  const sh = (cmd) => {
    const r = spawnSync('sh', ['-c', cmd], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${cmd} failed`);
  };
  sh(`command -v lynis >/dev/null || { echo 'lynis is missing: apt-get install -y lynis' >&2; exit 1; }`);
  sh(
    `mkdir -p ${tree} && cp -a /usr/share/lynis/include /usr/share/lynis/db ${tree}/ && ` +
      `cp -a /etc/lynis/plugins /etc/lynis/default.prf ${tree}/ && cp /usr/sbin/lynis ${tree}/lynis`,
  );
  return { dir, tree };
}

/** Hardening index of one lab server, audited with the host's Lynis copied into it. */
function lynis(tree, server) {
  const container = `crvs-lab-${server}`;
  const run = (args) => spawnSync('docker', args, { encoding: 'utf8' });
  run(['exec', container, 'rm', '-rf', '/tmp/lynis', '/var/log/lynis-report.dat']);
  if (run(['cp', tree, `${container}:/tmp/`]).status !== 0) throw new Error(`cannot copy lynis to ${server}`);
  const audit = run([
    'exec',
    '-w',
    '/tmp/lynis',
    container,
    './lynis',
    'audit',
    'system',
    '--quick',
    '--no-colors',
    '--quiet',
  ]);
  if (audit.status !== 0) throw new Error(`lynis failed on ${server}:\n${audit.stdout}\n${audit.stderr}`);
  const report = run(['exec', container, 'cat', '/var/log/lynis-report.dat']).stdout;
  run(['exec', container, 'rm', '-rf', '/tmp/lynis']);
  const index = Number(/^hardening_index=(\d+)$/m.exec(report)?.[1]);
  const ids = (kind) =>
    report
      .split('\n')
      .filter((l) => l.startsWith(`${kind}[]=`))
      .map((l) => l.slice(kind.length + 3).split('|')[0]);
  return {
    index,
    warnings: ids('warning').length,
    suggestions: ids('suggestion').length,
    open: ids('suggestion'),
  };
}

const { dir, tree } = lynisTree();
// --lynis <server...>: only audit the given lab servers as they are now (no lab rebuild, no provisioning).
const only = process.argv.indexOf('--lynis');
if (only !== -1) {
  const servers = process.argv.slice(only + 1);
  const date = new Date().toISOString();
  const audits = Object.fromEntries(servers.map((s) => [s, { date, ...lynis(tree, s) }]));
  rmSync(dir, { recursive: true, force: true });
  // Audits of other servers recorded earlier stay in the file.
  const file = join(root, 'bench', 'results', 'lynis.json');
  const earlier = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { audits: {} };
  for (const a of Object.values(earlier.audits)) a.date ??= earlier.date;
  writeFileSync(file, `${JSON.stringify({ audits: { ...earlier.audits, ...audits } }, null, 2)}\n`);
  for (const [s, a] of Object.entries(audits))
    console.log(`${s}: hardening index ${a.index}, ${a.warnings} warnings, ${a.suggestions} suggestions`);
  process.exit(0);
}
try {
  console.log('recreating the default lab (every server as delivered)');
  spawnSync(process.execPath, [join(root, 'bin', 'crvs.js'), 'lab', 'down'], { cwd: root, env });
  crvs('lab', 'up');
  // prod-2 is the production data node: the server that holds citizen data.
  console.log('Lynis on the fresh production data server (prod-2)');
  const fresh = lynis(tree, 'prod-2');
  const first = {};
  for (const e of ENVIRONMENTS) {
    console.log(`first provision of ${e}`);
    first[e] = crvs('provision', e);
  }
  const again = {};
  for (const e of ENVIRONMENTS) {
    console.log(`no-change re-run of ${e}`);
    again[e] = crvs('provision', e);
  }
  console.log('Lynis on the provisioned production data server (prod-2)');
  const provisioned = lynis(tree, 'prod-2');

  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
    seconds: { first, again },
    lynis: { server: 'prod-2', fresh, provisioned },
    targets: { hardeningIndex: 80 },
  };
  writeFileSync(join(root, 'bench', 'results', 'provision.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log('\nenvironment   first provision   no-change re-run');
  for (const e of ENVIRONMENTS) console.log(`${e.padEnd(13)} ${`${first[e]} s`.padEnd(17)} ${again[e]} s`);
  console.log(
    `\nLynis hardening index of prod-2: fresh ${fresh.index}, provisioned ${provisioned.index} (target >= 80)`,
  );
  console.log(
    `  warnings ${fresh.warnings} -> ${provisioned.warnings}, suggestions ${fresh.suggestions} -> ${provisioned.suggestions}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
