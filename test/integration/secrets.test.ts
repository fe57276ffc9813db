import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crvsBin } from './helpers/lab.js';
import { keygen as keygenIn, labSpecWithAdmins } from './helpers/spec-file.js';

// The secrets store with the real `age` and throw-away SSH keys generated here (never committed): who can open it,
// and a canary value that must never leak to output, logs, files in clear, or the argv of any child process.
// No server needed.
const CANARY = `canary-${Date.now().toString(36)}-7fQ2xZ9kLm`;
const dir = mkdtempSync(join(tmpdir(), 'crvs-secrets-test-'));
const spec = join(dir, 'crvs.yaml');
const shims = join(dir, 'bin');
const argvLog = join(dir, 'argv.log');
const key = (name: string) => join(dir, name);

const keygen = (name: string, type: 'ed25519' | 'rsa') => keygenIn(dir, name, type);

function writeSpec(bob: 'present' | 'absent'): void {
  writeFileSync(
    spec,
    labSpecWithAdmins([
      { name: 'alice', publicKey: `${key('alice')}.pub` },
      { name: 'bob', state: bob, publicKey: `${key('bob')}.pub` },
    ]),
  );
}

/** Runs crvs with PATH shims that record every argv of age and ssh before running the real program. */
function crvs(args: string[], opts: { identity?: string; stdin?: string; env?: NodeJS.ProcessEnv } = {}) {
  return crvsBin([...args, '--spec', spec, '--identity', opts.identity ?? key('alice')], {
    input: opts.stdin ?? '',
    env: { PATH: `${shims}:${process.env.PATH ?? ''}`, ARGV_LOG: argvLog, ...opts.env },
  });
}

const outputs: string[] = [];
const record = <R extends { stdout: string; stderr: string }>(r: R): R => {
  outputs.push(r.stdout, r.stderr);
  return r;
};

beforeAll(() => {
  spawnSync('mkdir', ['-p', shims]);
  for (const program of ['age', 'ssh']) {
    const real = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).stdout.trim();
    const shim = join(shims, program);
    writeFileSync(shim, `#!/bin/sh\nprintf '%s\\n' "${program} $*" >> "$ARGV_LOG"\nexec ${real} "$@"\n`);
    chmodSync(shim, 0o755);
  }
  keygen('alice', 'ed25519');
  keygen('bob', 'rsa');
  keygen('mallory', 'ed25519');
  spawnSync('mkdir', ['-p', join(dir, 'secrets')]);
  writeFileSync(join(dir, 'secrets', 'ci.pub'), `${keygen('ci', 'ed25519')}\n`);
  writeSpec('present');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the encrypted secrets store', () => {
  it('generates what the stack needs and takes the rest from the environment, printing no value', () => {
    const init = record(crvs(['secrets', 'init', 'qa'], { env: { CRVS_SECRET_ALERT_WEBHOOK_URL: CANARY } }));
    expect(init.status, init.stderr).toBe(0);
    const check = record(crvs(['secrets', 'check', 'qa']));
    expect(check.status, check.stderr).toBe(0);
    const list = JSON.parse(record(crvs(['secrets', 'list', 'qa', '--json'])).stdout) as {
      name: string;
      fingerprint: string;
      source: string;
      status: string;
    }[];
    expect(Object.fromEntries(list.map((r) => [r.name, `${r.source}:${r.status}`]))).toEqual({
      POSTGRES_PASSWORD: 'generated:ok',
      APP_DB_PASSWORD: 'generated:ok',
      SESSION_SECRET: 'generated:ok',
      SUPER_USER_PASSWORD: 'generated:ok',
      BACKUP_ENCRYPTION_PASSPHRASE: 'generated:ok',
      ALERT_WEBHOOK_URL: 'user:ok',
      // The lab's SMTP relay takes mail without credentials: listed, not required.
      SMTP_USERNAME: 'user:optional',
      SMTP_PASSWORD: 'user:optional',
    });
    for (const row of list.filter((r) => r.status === 'ok'))
      expect(row.fingerprint).toMatch(/^[0-9a-f]{12}$/);
    // The file on disk is age's armoured format, and the canary is not in it.
    const sealed = readFileSync(join(dir, 'secrets', 'qa.age'), 'utf8');
    expect(sealed.startsWith('-----BEGIN AGE ENCRYPTED FILE-----')).toBe(true);
    expect(sealed).not.toContain(CANARY);
    // `get` is the one place a value is printed, on stdout only.
    const got = crvs(['secrets', 'get', 'qa', 'ALERT_WEBHOOK_URL']);
    expect(got.stdout).toBe(`${CANARY}\n`);
    expect(got.stderr).not.toContain(CANARY);
  });

  it('opens for every present admin (ed25519 and RSA) and the CI key, and for nobody else', () => {
    for (const who of ['alice', 'bob', 'ci'])
      expect(crvs(['secrets', 'get', 'qa', 'ALERT_WEBHOOK_URL'], { identity: key(who) }).stdout).toBe(
        `${CANARY}\n`,
      );
    const denied = record(crvs(['secrets', 'get', 'qa', 'ALERT_WEBHOOK_URL'], { identity: key('mallory') }));
    expect(denied.status).toBe(1);
    expect(denied.stdout).toBe('');
    expect(denied.stderr).toContain(`cannot open ${join(dir, 'secrets', 'qa.age')} with ${key('mallory')}`);
  });

  it('shuts a removed admin out once the store is re-encrypted', () => {
    writeSpec('absent');
    // Before re-encryption the old file still opens for bob: say so in docs, rotate after removal.
    expect(crvs(['secrets', 'get', 'qa', 'SESSION_SECRET'], { identity: key('bob') }).status).toBe(0);
    const re = record(crvs(['secrets', 'reencrypt', 'qa']));
    expect(re.status, re.stderr).toBe(0);
    const bob = record(crvs(['secrets', 'get', 'qa', 'SESSION_SECRET'], { identity: key('bob') }));
    expect(bob.status).toBe(1);
    expect(bob.stdout).toBe('');
    expect(crvs(['secrets', 'get', 'qa', 'ALERT_WEBHOOK_URL']).stdout).toBe(`${CANARY}\n`);
    expect(crvs(['secrets', 'get', 'qa', 'ALERT_WEBHOOK_URL'], { identity: key('ci') }).stdout).toBe(
      `${CANARY}\n`,
    );
  });

  it('rotates a generated secret, naming the services to redeploy, and refuses to invent a user value', () => {
    const before = crvs(['secrets', 'get', 'qa', 'POSTGRES_PASSWORD']).stdout;
    const rotated = record(crvs(['secrets', 'rotate', 'qa', 'POSTGRES_PASSWORD']));
    expect(rotated.status, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain(
      'qa: POSTGRES_PASSWORD rotated; redeploy to apply (services: postgres): crvs deploy qa',
    );
    const after = crvs(['secrets', 'get', 'qa', 'POSTGRES_PASSWORD']).stdout;
    expect(after).toMatch(/^[A-Za-z0-9]{32}\n$/);
    expect(after).not.toBe(before);
    const refused = record(crvs(['secrets', 'rotate', 'qa', 'ALERT_WEBHOOK_URL']));
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('ALERT_WEBHOOK_URL is not generated by crvs');
  });

  it('takes a value on stdin, never on the command line, through success and error paths', () => {
    const set = record(crvs(['secrets', 'set', 'qa', 'EXTRA_TOKEN'], { stdin: CANARY }));
    expect(set.status, set.stderr).toBe(0);
    expect(crvs(['secrets', 'get', 'qa', 'EXTRA_TOKEN']).stdout).toBe(`${CANARY}\n`);
    // Error paths, verbose: a bad name, a missing environment, a value for an unknown store, a locked store.
    record(crvs(['secrets', 'set', 'qa', 'bad-name', '--verbose'], { stdin: CANARY }));
    record(crvs(['secrets', 'get', 'production', 'NOPE', '--verbose']));
    record(crvs(['secrets', 'list', 'qa', '--verbose'], { identity: key('mallory') }));
    record(
      crvs(['secrets', 'init', 'staging', '--verbose'], { env: { CRVS_SECRET_ALERT_WEBHOOK_URL: CANARY } }),
    );
    record(crvs(['secrets', 'list', 'staging', '--json', '--verbose']));
  });

  it('never printed the canary, never passed it on a command line, never left it on disk in clear', () => {
    expect(outputs.length).toBeGreaterThan(20);
    for (const o of outputs) expect(o).not.toContain(CANARY);
    const argv = readFileSync(argvLog, 'utf8');
    expect(argv).toContain('age --encrypt --armor --recipients-file');
    expect(argv).toContain('age --decrypt --identity');
    expect(argv).not.toContain(CANARY);
    const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) expect(readFileSync(join(f.parentPath, f.name), 'utf8')).not.toContain(CANARY);
    const leftovers = readdirSync(tmpdir()).filter((n) => n.startsWith('crvs-recipients-'));
    expect(leftovers).toEqual([]);
  });
});
