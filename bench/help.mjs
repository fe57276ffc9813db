#!/usr/bin/env node
// Benchmark: start-up time of `crvs --help` and `crvs <command> --help`, against a bare `node -e 0` measured in
// the same run. Run on demand (not a test): node bench/help.mjs [rounds=20] after `npm run build`. Each round runs
// every case once, interleaved (the order turns by one each round), so a busy machine slows all cases alike; the
// figures are medians of wall-clock times. Exits 1 when a case takes more than 2.5 times `node -e 0`.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIMIT = 2.5;
const SUBCOMMANDS = [
  ['secrets', 'init'],
  ['lab', 'up'],
  ['deploy', 'log'],
];
const rounds = Number(process.argv[2] ?? 20);
if (!(Number.isInteger(rounds) && rounds > 0)) throw new Error('usage: node bench/help.mjs [rounds=20]');

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'crvs.js');
const run = (argv) => {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`node ${argv.join(' ')} exited with ${r.status}:\n${r.stderr}`);
  return { ms, stdout: r.stdout };
};

// Every top-level command `crvs --help` lists (commander's own `help` aside), and a few subcommands.
const listed = run([bin, '--help'])
  .stdout.split('\nCommands:\n')[1]
  ?.split('\n\n')[0]
  ?.split('\n')
  .map((line) => line.trim().split(/\s+/)[0] ?? '')
  .filter((name) => /^[a-z]/.test(name) && name !== 'help');
if (!listed?.length) throw new Error('no commands found in the output of crvs --help');
const cases = [
  { name: 'node -e 0', argv: ['-e', '0'] },
  { name: 'crvs --help', argv: [bin, '--help'] },
  ...[...listed.map((c) => [c]), ...SUBCOMMANDS].map((words) => ({
    name: `crvs ${words.join(' ')} --help`,
    argv: [bin, ...words, '--help'],
  })),
];

const load = [loadavg()[0]];
for (const c of cases) run(c.argv); // warm-up: file system cache, not counted
const times = cases.map(() => []);
for (let round = 0; round < rounds; round++)
  for (let k = 0; k < cases.length; k++) {
    const i = (k + round) % cases.length;
    times[i].push(run(cases[i].argv).ms);
  }
load.push(loadavg()[0]);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const r1 = (x) => Math.round(x * 10) / 10;
const base = median(times[0]);
const rows = cases.map((c, i) => ({
  command: c.name,
  medianMs: r1(median(times[i])),
  minMs: r1(Math.min(...times[i])),
  ratio: Math.round((median(times[i]) / base) * 100) / 100,
}));
const over = rows.filter((r) => r.ratio > LIMIT);

const result = {
  date: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: { start: r1(load[0]), end: r1(load[1]) },
  },
  rounds,
  limit: LIMIT,
  cases: rows,
  over: over.map((r) => r.command),
};
writeFileSync(join(root, 'bench', 'results', 'help.json'), `${JSON.stringify(result, null, 2)}\n`);

const width = Math.max(...rows.map((r) => r.command.length));
console.log(`${'command'.padEnd(width)}  median ms     min ms  x node -e 0`);
for (const r of rows)
  console.log(
    `${r.command.padEnd(width)}  ${r.medianMs.toFixed(1).padStart(9)}  ${r.minMs.toFixed(1).padStart(9)}  ${r.ratio.toFixed(2).padStart(11)}`,
  );
console.log(
  `\n${rounds} rounds, ${cpus().length} CPUs, load average ${result.machine.loadAverage.start} -> ${result.machine.loadAverage.end}`,
);
if (over.length) {
  console.error(`over ${LIMIT} x node -e 0: ${over.map((r) => `${r.command} (${r.ratio})`).join(', ')}`);
  process.exitCode = 1;
} else console.log(`every case within ${LIMIT} x node -e 0`);
