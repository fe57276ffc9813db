import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, type LockHolder, lockDir, releaseLock, renewLock } from '../../../src/deploy/lock.js';
import type { CommandSpec } from '../../../src/remote/executor.js';
import type { RemoteHost } from '../../../src/remote/host.js';

// The lease's shell programs, run here by sh as the manager runs them (flock, stat, date, sed from util-linux and
// coreutils), on a directory of this machine instead of /var/lib/crvs and without sudo: what a second deploy, a
// lapsed lease and a race of takers get.
const dir = mkdtempSync(join(tmpdir(), 'crvs-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const m: RemoteHost = { environment: 'qa', ssh: ['ssh', 'qa-1'] };
const here = join(dir, 'locks', 'deploy-qa');
const local = (c: CommandSpec) => {
  const line = c.argv[c.argv.length - 1] as string;
  expect(line.startsWith('sudo -n sh -c ')).toBe(true);
  return line.slice('sudo -n '.length).replaceAll(lockDir('qa'), here);
};
const run = (c: CommandSpec) => {
  const r = spawnSync('sh', ['-c', local(c)], { input: String(c.stdin ?? ''), encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r.stdout;
};
const runAsync = (c: CommandSpec) =>
  new Promise<string>((resolve) => {
    const p = spawn('sh', ['-c', local(c)]);
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.on('close', () => resolve(out));
    p.stdin.end(String(c.stdin ?? ''));
  });
const holder = (id: string, leaseSeconds?: number): LockHolder => ({
  who: id,
  host: 'ci',
  since: '2026-12-02T10:00:00Z',
  action: 'deploy v2',
  id,
  ...(leaseSeconds ? { leaseSeconds } : {}),
});
const holderFile = join(here, 'holder.json');
const age = (seconds: number) => {
  const t = Date.now() / 1000 - seconds;
  utimesSync(holderFile, t, t);
};

/** `<word> <age>` then the holder's JSON, the age within a second of what the file's time says (whole seconds). */
const answer = (out: string, word: string, seconds: number, who: LockHolder) => {
  const [first, ...rest] = out.split('\n');
  const [w, a] = (first ?? '').split(' ');
  expect(w).toBe(word);
  expect(Math.abs(Number(a) - seconds)).toBeLessThanOrEqual(1);
  expect(rest.join('\n')).toBe(JSON.stringify(who));
};

describe('the deploy lease, as the manager runs it', () => {
  beforeEach(() => rmSync(here, { recursive: true, force: true }));

  it('is taken when free, refused while its holder renews, taken over once the lease has run out', () => {
    expect(run(acquireLock(m, holder('a', 20), 20))).toBe('acquired\n');
    expect(JSON.parse(readFileSync(holderFile, 'utf8'))).toEqual(holder('a', 20));
    answer(run(acquireLock(m, holder('b', 20), 20)), 'held', 0, holder('a', 20));
    age(15);
    answer(run(acquireLock(m, holder('b', 20), 20)), 'held', 15, holder('a', 20));
    // Renewed by its holder: young again.
    expect(run(renewLock(m, 'a'))).toBe('renewed\n');
    expect(Date.now() / 1000 - statSync(holderFile).mtimeMs / 1000).toBeLessThan(5);
    age(22);
    answer(run(acquireLock(m, holder('b', 20), 20)), 'taken-over', 22, holder('a', 20));
    expect(JSON.parse(readFileSync(holderFile, 'utf8'))).toEqual(holder('b', 20));
    // The run that stalled finds out at its next renewal, and cannot release what is no longer its.
    expect(run(renewLock(m, 'a'))).toBe('lost\n');
    expect(run(releaseLock(m, 'a'))).toBe('not ours\n');
    expect(existsSync(holderFile)).toBe(true);
    expect(run(releaseLock(m, 'b'))).toBe('released\n');
    expect(existsSync(here)).toBe(false);
  });

  it("judges a lease by its holder's own length; a holder that gives none by the taker's", () => {
    expect(run(acquireLock(m, holder('slow', 600), 20))).toBe('acquired\n');
    age(300);
    answer(run(acquireLock(m, holder('b', 20), 20)), 'held', 300, holder('slow', 600));
    run(releaseLock(m, 'slow'));
    expect(run(acquireLock(m, holder('old'), 20))).toBe('acquired\n');
    age(25);
    answer(run(acquireLock(m, holder('b', 20), 20)), 'taken-over', 25, holder('old'));
    run(releaseLock(m, 'b'));
  });

  it('goes to exactly one of several runs that find it lapsed at the same moment', async () => {
    expect(run(acquireLock(m, holder('gone', 10), 10))).toBe('acquired\n');
    age(60);
    const answers = await Promise.all(
      ['t1', 't2', 't3', 't4', 't5', 't6'].map((id) => runAsync(acquireLock(m, holder(id, 10), 10))),
    );
    const firsts = answers.map((a) => a.split('\n')[0]);
    expect(firsts.filter((f) => /^taken-over (59|60|61)$/.test(f ?? ''))).toHaveLength(1);
    expect(firsts.filter((f) => f?.startsWith('held '))).toHaveLength(5);
    const winner = JSON.parse(readFileSync(holderFile, 'utf8')) as LockHolder;
    expect(answers[['t1', 't2', 't3', 't4', 't5', 't6'].indexOf(winner.id as string)]).toMatch(/^taken-over/);
  });
});
