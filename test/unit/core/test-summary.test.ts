import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packagePath } from '../../../src/paths.js';

// scripts/test-summary.mjs, the closing lines of scripts/test.sh: per-file times, the total against the budget, and
// the exit code CI goes by.
const dir = mkdtempSync(join(tmpdir(), 'crvs-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const unit = join(dir, 'unit.json');
const integration = join(dir, 'integration.json');
writeFileSync(unit, JSON.stringify({ numPassedTests: 3, numFailedTests: 0 }));
writeFileSync(
  integration,
  JSON.stringify({
    numPassedTests: 2,
    numFailedTests: 0,
    startTime: 0,
    testResults: [
      { name: '/x/test/integration/a.test.ts', endTime: 60_000 },
      { name: '/x/test/integration/b.test.ts', endTime: 240_000 },
    ],
  }),
);

function summary(minutesAgo: number, extra: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [packagePath('scripts', 'test-summary.mjs'), unit, integration], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '',
      SUITE_STARTED: String(Math.floor(Date.now() / 1000) - minutesAgo * 60),
      ...extra,
    },
  });
  return { status: r.status, lines: r.stdout.trim().split('\n') };
}

describe('the suite summary', () => {
  it('lists the integration files slowest first and passes a suite within its budget', () => {
    const s = summary(30);
    expect(s.lines.slice(0, 3)).toEqual([
      'integration files, slowest first:',
      `  ${'b.test.ts'.padEnd(32)} ${'3.0 min'.padStart(10)}`,
      `  ${'a.test.ts'.padEnd(32)} ${'1.0 min'.padStart(10)}`,
    ]);
    expect(s.lines.slice(3)).toEqual(['suite: 30.0 min (budget 60 min)', 'tests: 5 passed, 0 failed']);
    expect(s.status).toBe(0);
  });

  it('fails a suite over its budget, with what to do; SUITE_BUDGET_ENFORCE=0 only warns', () => {
    const over = summary(61);
    expect(over.lines.slice(3)).toEqual([
      'suite: 61.0 min (budget 60 min)',
      'error: the suite took 61.0 min, over its 60-minute budget (CI stops at 90): make it faster before adding to it (the slowest files are listed above)',
      'tests: 5 passed, 0 failed',
    ]);
    expect(over.status).toBe(1);
    const warned = summary(61, { SUITE_BUDGET_ENFORCE: '0' });
    expect(warned.lines[4]).toMatch(/^warning: the suite took 61\.0 min/);
    expect(warned.status).toBe(0);
    expect(summary(50, { SUITE_BUDGET_MINUTES: '45' }).status).toBe(1);
  });
});
