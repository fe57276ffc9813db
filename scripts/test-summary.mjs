// The closing lines CI reads, from vitest's JSON reports: the time of each integration file, the suite's
// total, and "tests: N passed, N failed". Fails when a test failed, and when the suite took longer than its budget
// (SUITE_BUDGET_MINUTES, 60 by default: CI stops at 90), so that a slow change is caught before CI's limit is.
// SUITE_BUDGET_ENFORCE=0 reports an overrun without failing (for a run on a machine known to be slower).
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

const budgetMinutes = Number(process.env.SUITE_BUDGET_MINUTES ?? 60);
const started = Number(process.env.SUITE_STARTED ?? 0);
const minutes = (ms) => `${(ms / 60_000).toFixed(1)} min`;

let passed = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  if (!basename(file).startsWith('integration')) continue;
  // The files run one after another: a file's time is from the previous file's end to its own, so it includes
  // its hooks (a file's own startTime is taken after its beforeAll).
  let previous = report.startTime ?? 0;
  const rows = [...(report.testResults ?? [])]
    .sort((a, b) => (a.endTime ?? 0) - (b.endTime ?? 0))
    .map((r) => {
      const row = { name: basename(r.name), ms: (r.endTime ?? 0) - previous };
      previous = r.endTime ?? previous;
      return row;
    })
    .sort((a, b) => b.ms - a.ms);
  console.log('integration files, slowest first:');
  for (const r of rows) console.log(`  ${r.name.padEnd(32)} ${minutes(r.ms).padStart(10)}`);
}
const enforce = process.env.SUITE_BUDGET_ENFORCE !== '0';
let overBudget = false;
if (started > 0) {
  const total = Date.now() - started * 1000;
  overBudget = total > budgetMinutes * 60_000;
  console.log(`suite: ${minutes(total)} (budget ${budgetMinutes} min)`);
  if (overBudget)
    console.log(
      `${enforce ? 'error' : 'warning'}: the suite took ${minutes(total)}, over its ${budgetMinutes}-minute ` +
        'budget (CI stops at 90): make it faster before adding to it (the slowest files are listed above)',
    );
}
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || passed === 0 || (enforce && overBudget) ? 1 : 0;
