#!/usr/bin/env node
// Benchmark: provisioning the whole default lab from fresh servers in one run, then again with nothing to change
// (changed=0 checked from the run's JSON, not trusted), one environment alone, and the Lynis hardening index of the
// production servers before and after. Run on demand (not a test): node bench/provision.mjs
// after `npm run build` (`--lynis <server...>` only audits lab servers as they are). It recreates the default lab (lab down, lab up): every server starts as delivered.
// Lynis is the host's Debian package (apt-get install lynis), copied into the server for the audit only, so the
// fresh server is measured as delivered and nothing is installed on it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { crvs, crvsJson, env, root } from './lab-env.mjs';
import { lynis, lynisTree } from './lynis.mjs';

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
/** Hosts whose counts are not what a run must show: failures anywhere, changes where none may be. */
function offenders(results, changes) {
  return results.flatMap((r) =>
    Object.entries(r.stats)
      .filter(([, s]) => s.failures + s.unreachable > 0 || (!changes && s.changed > 0))
      .map(
        ([host, s]) =>
          `${host} (${r.environment}): changed=${s.changed} failed=${s.failures + s.unreachable}`,
      ),
  );
}

/** One timed `crvs provision ... --json`, its counts checked from its own JSON (changed=0 unless `changes`). */
function provisionRun(label, args, changes) {
  console.log(label);
  const { seconds, json } = crvsJson('provision', ...args);
  const bad = offenders(json, changes);
  if (bad.length) throw new Error(`${label}: ${bad.join('; ')}`);
  const hosts = json.flatMap((r) => Object.keys(r.stats));
  return { seconds, hosts: hosts.length };
}

const TARGETS = { firstWholeLab: 8 * 60, noChangeWholeLab: 60, noChangeOne: 20, hardeningIndex: 85 };
try {
  console.log('recreating the default lab (every server as delivered)');
  spawnSync(process.execPath, [join(root, 'bin', 'crvs.js'), 'lab', 'down'], { cwd: root, env });
  crvs('lab', 'up');
  // prod-2 is the production data node: the server that holds citizen data.
  console.log('Lynis on the fresh production data server (prod-2)');
  const fresh = lynis(tree, 'prod-2');
  const first = provisionRun('first provisioning of the whole lab, one run', ['--all'], true);
  const again = provisionRun('no-change re-run of the whole lab, one run', ['--all'], false);
  const one = provisionRun('no-change re-run of qa alone', ['qa'], false);
  console.log('Lynis on the provisioned production servers');
  const provisioned = { 'prod-1': lynis(tree, 'prod-1'), 'prod-2': lynis(tree, 'prod-2') };

  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
    seconds: { firstWholeLab: first.seconds, noChangeWholeLab: again.seconds, noChangeQa: one.seconds },
    hosts: first.hosts,
    lynis: { fresh: { 'prod-2': fresh }, provisioned },
    targets: TARGETS,
  };
  writeFileSync(join(root, 'bench', 'results', 'provision.json'), `${JSON.stringify(result, null, 2)}\n`);
  const row = (what, s, target) => `${what.padEnd(40)} ${`${s} s`.padStart(9)}   target <= ${target} s`;
  console.log('');
  console.log(
    row(`first provisioning, whole lab (${first.hosts} servers)`, first.seconds, TARGETS.firstWholeLab),
  );
  console.log(row('no-change re-run, whole lab (changed=0)', again.seconds, TARGETS.noChangeWholeLab));
  console.log(row('no-change re-run, qa (changed=0)', one.seconds, TARGETS.noChangeOne));
  console.log(`\nLynis hardening index (target >= ${TARGETS.hardeningIndex}): prod-2 fresh ${fresh.index}`);
  for (const [server, a] of Object.entries(provisioned))
    console.log(`  ${server} provisioned ${a.index}: ${a.warnings} warnings, ${a.suggestions} suggestions`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
