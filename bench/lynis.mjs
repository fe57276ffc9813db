// Lynis for the lab benchmarks: the host's Debian package (apt-get install lynis), copied into a lab server for one
// audit and removed after it, so that nothing is installed on the server it measures.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function lynisTree() {
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
export function lynis(tree, server) {
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
