import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// crvs-monitor (ansible/roles/crvs_alerts/templates/crvs-monitor.j2) run by this machine's python3 on a config and
// state of the test's own, with a stand-in crvs-alert that records its arguments. The lab test (doctor.test.ts)
// fills a real disk; the CPU window is shown here, from samples written as if taken fifteen minutes ago.
const dir = mkdtempSync(join(tmpdir(), 'crvs-monitor-'));
const script = join(dir, 'crvs-monitor');
writeFileSync(
  script,
  readFileSync('ansible/roles/crvs_alerts/templates/crvs-monitor.j2', 'utf8').replace(
    '{{ ansible_managed }}',
    'rendered by a test',
  ),
);
const sent = join(dir, 'sent');
const alert = (exit: number) => {
  const file = join(dir, `alert-${exit}`);
  writeFileSync(file, `#!/bin/sh\nprintf '%s|%s\\n' "$1" "$2" >> ${sent}\nexit ${exit}\n`, { mode: 0o755 });
  return file;
};
const state = join(dir, 'state.json');
const config = join(dir, 'monitor.json');

function run(
  cfg: { disks: { path: string; kind: string; percent: number }[]; cpu_percent?: number },
  exit = 0,
) {
  writeFileSync(config, JSON.stringify({ cpu_percent: 90, cpu_minutes: 15, ...cfg }));
  writeFileSync(sent, '');
  const r = spawnSync('python3', [script], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      CRVS_MONITOR_CONFIG: config,
      CRVS_MONITOR_STATE: state,
      CRVS_ALERT: alert(exit),
    },
  });
  expect(r.status, r.stderr).toBe(0);
  return readFileSync(sent, 'utf8').trim().split('\n').filter(Boolean);
}

/** This machine's CPU counters now, as the monitor reads them. */
function ticks(): { total: number; idle: number } {
  const fields =
    readFileSync('/proc/stat', 'utf8').split('\n')[0]?.split(/\s+/).slice(1, 9).map(Number) ?? [];
  return { total: fields.reduce((a, b) => a + b, 0), idle: (fields[3] ?? 0) + (fields[4] ?? 0) };
}
const withCpuSample = (ageSeconds: number, busyShare: number) => {
  const t = ticks();
  const span = 10_000_000; // ticks: far more than pass between this read and the monitor's
  const s = (existsSync(state) ? JSON.parse(readFileSync(state, 'utf8')) : {}) as { cpu: number[][] };
  s.cpu = [[Date.now() / 1000 - ageSeconds, t.total - span, t.idle - span * (1 - busyShare)]];
  writeFileSync(state, JSON.stringify(s));
};

describe('crvs-monitor', () => {
  it('a disk past its threshold alerts once; an alert no one took is sent again; back under it, one all-clear', () => {
    const full = { disks: [{ path: dir, kind: 'data', percent: 1 }] };
    // The destination refused it: not counted as sent, so the next run tries again.
    expect(run(full, 1)).toEqual([
      expect.stringMatching(/^disk-data-high\|the data disk \(.+\) is \d+% full/),
    ]);
    expect(run(full)).toEqual([expect.stringMatching(/^disk-data-high\|.*\(alert at 1%\)$/)]);
    expect(run(full)).toEqual([]);
    expect(run({ disks: [{ path: dir, kind: 'data', percent: 99 }] })).toEqual([
      expect.stringMatching(/^disk-data-ok\|.*\(alert at 99%\): back under the threshold$/),
    ]);
    // A path that is not there (a data volume not created yet) is no finding at all.
    expect(run({ disks: [{ path: join(dir, 'absent'), kind: 'data', percent: 1 }] })).toEqual([]);
  });

  it('the CPUs: judged over the window from the newest sample at least 15 minutes old; busier than the threshold alerts', () => {
    const none = { disks: [] };
    // Samples younger than the window: nothing to judge yet.
    withCpuSample(600, 0.99);
    expect(run(none)).toEqual([]);
    withCpuSample(16 * 60, 0.95);
    expect(run(none)).toEqual([
      expect.stringMatching(/^cpu-high\|the CPUs were 9\d% busy over the last 16 minutes \(alert at 90%\)$/),
    ]);
    withCpuSample(16 * 60, 0.2);
    expect(run(none)).toEqual([
      expect.stringMatching(
        /^cpu-ok\|the CPUs were [12]\d% busy over the last 16 minutes .*back under the threshold$/,
      ),
    ]);
  });
});
