#!/usr/bin/env node
// Benchmark: cold and warm `crvs lab up` of the default lab (6 servers + lab services).
// Run on demand (not a test): node bench/lab-up.mjs. It takes the default lab down and deletes the lab images.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const crvs = (...args) => {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(root, 'bin', 'crvs.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`crvs ${args.join(' ')} failed:\n${r.stderr}`);
  return Math.round(seconds * 10) / 10;
};
const images = () =>
  spawnSync(
    'docker',
    ['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'reference=crvs-lab/*'],
    {
      encoding: 'utf8',
    },
  )
    .stdout.split('\n')
    .filter(Boolean);

spawnSync(process.execPath, [join(root, 'bin', 'crvs.js'), 'lab', 'down'], { cwd: root });
const cached = images();
if (cached.length) spawnSync('docker', ['rmi', ...cached], { stdio: 'inherit' });

const cold = crvs('lab', 'up');
const noop = crvs('lab', 'up');
crvs('lab', 'down');
const warm = crvs('lab', 'up');

const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
  seconds: { cold, warm, noop },
  targets: { cold: 300, warm: 60 },
};
writeFileSync(join(root, 'bench', 'results', 'lab-up.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(`cold lab up (no images):           ${cold} s   (target < 300 s)`);
console.log(`warm lab up (images cached):       ${warm} s   (target < 60 s)`);
console.log(`second lab up (nothing to change): ${noop} s`);
