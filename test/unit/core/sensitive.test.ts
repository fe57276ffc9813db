import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ProcessExecutor, RecordingExecutor } from '../../../src/remote/executor.js';
import {
  and,
  cmd,
  discardErrors,
  group,
  mergeErrors,
  or,
  pipe,
  quote,
  seq,
  sudo,
} from '../../../src/remote/shell.js';
import { createOutput } from '../../../src/report/output.js';
import { forgetSecrets, REDACTED, redact, sensitive } from '../../../src/secrets/sensitive.js';

const CANARY = 'canary-7f3a9c1e-do-not-print';

describe('Sensitive', () => {
  const s = sensitive(CANARY, 'POSTGRES_PASSWORD');

  it('shows [REDACTED] in strings, JSON and util.inspect; reveal() gives the value', () => {
    expect(`${s}`).toBe(REDACTED);
    expect(String(s)).toBe(REDACTED);
    expect(JSON.stringify({ s })).toBe(`{"s":"${REDACTED}"}`);
    expect(inspect({ s })).toBe(`{ s: Sensitive<POSTGRES_PASSWORD>(${REDACTED}) }`);
    expect(s.reveal()).toBe(CANARY);
  });

  it('is scrubbed from any text that goes through Output', () => {
    let printed = '';
    const out = createOutput({ stdout: (t) => (printed += t), stderr: (t) => (printed += t) });
    out.out(`connecting with ${s.reveal()}`);
    out.err(`error: bad password ${s.reveal()}!`);
    expect(printed).toBe(`connecting with ${REDACTED}\nerror: bad password ${REDACTED}!\n`);
    expect(redact(`x${CANARY}y`)).toBe(`x${REDACTED}y`);
  });
});

describe('executor', () => {
  it('refuses to put a secret on a command line', async () => {
    const s = sensitive(CANARY);
    await expect(new RecordingExecutor().run({ argv: ['openssl', `pass:${s.reveal()}`] })).rejects.toThrow(
      'refusing to run openssl: a secret value is on its command line',
    );
  });

  it('passes secrets on stdin, and redacts them from output events and errors', async () => {
    const s = sensitive(CANARY);
    const events: string[] = [];
    const ex = new ProcessExecutor((e) => {
      if (e.type === 'output') events.push(e.text);
    });
    const r = await ex.run({ argv: ['cat'], stdin: s });
    expect(r.stdout).toBe(CANARY); // the raw result is for the caller that asked for it
    expect(events.join('')).toBe(REDACTED);
    const failing = ex.run({ argv: ['sh', '-c', 'cat >&2; exit 3'], stdin: s });
    await expect(failing).rejects.toThrow(`sh -c cat >&2; exit 3 failed (exit 3):\n${REDACTED}`);
  });

  it('keeps CRVS_SECRET_ variables from its children', async () => {
    const exec = new ProcessExecutor(undefined, { PATH: process.env.PATH, CRVS_SECRET_X: 'v', KEEP: 'k' });
    const r = await exec.run({
      argv: ['sh', '-c', 'echo "[$CRVS_SECRET_X] $KEEP $EXTRA"'],
      env: { EXTRA: 'e' },
    });
    expect(r.stdout).toBe('[] k e\n');
  });

  it('reports a missing program clearly', async () => {
    await expect(new ProcessExecutor().run({ argv: ['crvs-no-such-program'] })).rejects.toThrow(
      'crvs-no-such-program: command not found',
    );
  });
});

describe('shell lines (the one place words become a shell line)', () => {
  it('quotes every word that is not plainly safe', () => {
    expect(quote("it's")).toBe(`'it'\\''s'`);
    expect(quote('a b')).toBe(`'a b'`);
    expect(quote('$HOME')).toBe(`'$HOME'`);
    expect(quote('`id`')).toBe(`'\`id\`'`);
    expect(quote('x;rm -rf /')).toBe(`'x;rm -rf /'`);
    expect(quote('/var/lib/crvs:a=b,c@d%e+f')).toBe('/var/lib/crvs:a=b,c@d%e+f');
    expect(quote('')).toBe(`''`);
  });

  it('joins commands only with the operators it names', () => {
    expect(and(cmd('mkdir', '-p', '/var/lib/crvs'), cmd('echo', 'a b'))).toBe(
      `mkdir -p /var/lib/crvs && echo 'a b'`,
    );
    expect(pipe(cmd('cat', 'f'), cmd('grep', '$HOME'))).toBe(`cat f | grep '$HOME'`);
    expect(or(cmd('a'), group(and(cmd('b'), cmd('c'))))).toBe('a || { b && c; }');
    expect(seq(discardErrors(cmd('x')), mergeErrors(cmd('y')))).toBe('x 2>/dev/null; y 2>&1');
    expect(sudo('docker', 'ps', '--format', '{{.Names}}')).toBe("sudo -n docker ps --format '{{.Names}}'");
  });
});

describe('the secret guard (last: it forgets every registered value)', () => {
  it('recognises a short stored value only as a whole word, a long one anywhere', async () => {
    sensitive('crvs', 'SMTP_USERNAME');
    sensitive('abc', 'PIN');
    sensitive('canary-long-value-1', 'TOKEN');
    const exec = new RecordingExecutor();
    await exec.run({ argv: ['ssh', 'crvs@10.0.0.5', 'true'] });
    await expect(exec.run({ argv: ['tool', 'abc'] })).rejects.toThrow(
      'a secret value is on its command line',
    );
    await expect(exec.run({ argv: ['curl', '-u', 'u:canary-long-value-1'] })).rejects.toThrow(
      'a secret value is on its command line',
    );
    expect(redact('login crvs@host')).toBe('login crvs@host');
    expect(redact('abc')).toBe('[REDACTED]');
    expect(redact('token=canary-long-value-1;')).toBe('token=[REDACTED];');
    forgetSecrets();
  });
});
