import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { chain, pipe, quote } from '../../../src/remote/combinators.js';
import { ProcessExecutor, RecordingExecutor } from '../../../src/remote/executor.js';
import { createOutput } from '../../../src/report/output.js';
import { REDACTED, redact, sensitive } from '../../../src/secrets/sensitive.js';

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

  it('reports a missing program clearly', async () => {
    await expect(new ProcessExecutor().run({ argv: ['crvs-no-such-program'] })).rejects.toThrow(
      'crvs-no-such-program: command not found',
    );
  });
});

describe('shell combinators', () => {
  it('quote every word', () => {
    expect(quote("it's")).toBe(`'it'\\''s'`);
    expect(chain(['mkdir', '-p', '/var/lib/crvs'], ['echo', 'a b'])).toBe(
      `mkdir -p /var/lib/crvs && echo 'a b'`,
    );
    expect(pipe(['cat', 'f'], ['grep', '$HOME'])).toBe(`cat f | grep '$HOME'`);
  });
});
