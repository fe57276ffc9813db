import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crvsBin, ensureDefaultLab, type LabInfo, labCommands } from './helpers/lab.js';

// The encrypted data volume, opted into by qa (`encryptData: true` in a copy of the lab's spec; it is off by default,
// docs/provisioning.md). qa's plain /data is moved out of the way as the docs say (stack removed, /data removed,
// provision, deploy), then: the stores' files under /data are ciphertext on the disk, the key is nowhere on the
// server, a reboot leaves the volume locked and the database down, and `crvs volume unlock` brings both back.
// Production, which does not opt in, keeps a plain /data. Runs last: it leaves qa on the encrypted volume.
let lab: LabInfo;
const { env, crvs: crvsLab } = labCommands(() => lab);
/** crvs against the copy of the lab's spec in which qa opts in (beside it: same stores, same known_hosts). */
const spec = () => join(lab.dir, 'crvs-qa-encrypted.yaml');
const crvs = (...args: string[]) => crvsBin([...args, '--spec', spec()], { env: env() });
const on = (server: string, script: string) =>
  spawnSync('docker', ['exec', `crvs-lab-${server}`, 'sh', '-c', script], { encoding: 'utf8' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DB = 'docker ps -q --filter label=com.docker.swarm.service.name=crvs_db';
const psql = (sql: string) => on('qa-1', `docker exec --user postgres "$(${DB})" psql -d crvs -Atc "${sql}"`);
const CIPHER = '/var/lib/crvs/data.enc';
/**
 * Prints the files that hold the text read on stdin (beneath where a key could be left), then how many times the
 * journal has it, then how many processes hold it in their arguments or environment (itself left out).
 */
const SWEEP = [
  'import glob, os, subprocess, sys',
  'k = sys.stdin.readline().strip().encode()',
  "dirs = ['/etc', '/var/lib', '/var/log', '/run', '/root', '/home', '/usr/local', '/tmp']",
  "files = subprocess.run(['grep', '-rlF', '--exclude-dir=docker', '-f', '/dev/stdin', *dirs], input=k + b'\\n', capture_output=True).stdout.decode().split()",
  "journal = subprocess.run(['journalctl', '--no-pager', '-o', 'cat'], capture_output=True).stdout.count(k)",
  'procs = 0',
  "for p in glob.glob('/proc/[0-9]*'):",
  "    if p == f'/proc/{os.getpid()}': continue",
  "    for f in ('cmdline', 'environ'):",
  '        try: procs += k in open(f"{p}/{f}", "rb").read()',
  '        except OSError: pass',
  "print(*files, journal, procs, sep='\\n')",
].join('\n');
const canary = `CANARY-at-rest-${randomBytes(6).toString('hex')}`;

async function until(what: string, done: () => boolean, seconds: number): Promise<void> {
  for (let i = 0; i < seconds; i++) {
    if (done()) return;
    await sleep(1000);
  }
  throw new Error(`${what}: not within ${seconds} s`);
}

beforeAll(async () => {
  lab = ensureDefaultLab();
  const text = readFileSync(lab.spec, 'utf8');
  const encrypted = text.replace('  qa:\n', '  qa:\n    encryptData: true\n');
  if (encrypted === text) throw new Error('the lab spec has no qa section to opt in');
  writeFileSync(spec(), encrypted);
  if (on('qa-1', 'findmnt --noheadings --output FSTYPE /data').stdout.trim() !== 'fuse.gocryptfs') {
    // qa's test data sits on a plain /data: the stack goes, then the directory (docs/provisioning.md).
    on('qa-1', 'docker stack rm crvs >/dev/null 2>&1 || true');
    await until(
      'the stack to leave qa-1',
      () =>
        on(
          'qa-1',
          'docker ps -q --filter label=com.docker.stack.namespace=crvs; docker network ls -q --filter label=com.docker.stack.namespace=crvs',
        ).stdout.trim() === '',
      120,
    );
    expect(on('qa-1', 'rm -rf /data').status).toBe(0);
  }
  for (const args of [
    ['secrets', 'init', 'qa'],
    ['provision', 'qa', '--tags', 'data'],
    ['deploy', 'qa', '--version', 'v1'],
  ]) {
    const r = crvs(...args);
    if (r.status !== 0) throw new Error(`crvs ${args.join(' ')} failed:\n${r.stderr.slice(-3000)}`);
  }
}, 30 * 60_000);

// What the tests wrote goes whatever happened.
afterAll(() => {
  on('qa-1', `rm -f /data/documents/${canary}.txt`);
  psql('DROP TABLE IF EXISTS crvs_canary');
  rmSync(spec(), { force: true });
});

describe('the encrypted data volume', () => {
  it("qa's stores write ciphertext to the disk, and the volume's key is nowhere on the server", () => {
    expect(on('qa-1', 'findmnt --noheadings --output FSTYPE,SOURCE /data').stdout.trim()).toBe(
      `fuse.gocryptfs ${CIPHER}`,
    );
    // A row through Postgres, flushed to its files; a file where the app keeps attachments.
    expect(
      psql(
        `CREATE TABLE IF NOT EXISTS crvs_canary (v text); INSERT INTO crvs_canary VALUES ('${canary}'); CHECKPOINT;`,
      ).status,
    ).toBe(0);
    expect(on('qa-1', `printf '%s' ${canary} > /data/documents/${canary}.txt`).status).toBe(0);
    // In the mounted view, both are there in clear...
    expect(on('qa-1', `grep -rlF ${canary} /data/postgres/base | head -1`).stdout).toMatch(
      /^\/data\/postgres\/base\//,
    );
    expect(on('qa-1', `cat /data/documents/${canary}.txt`).stdout).toBe(canary);
    // ...on the disk, neither the contents nor the file name are.
    expect(on('qa-1', `grep -rlF ${canary} ${CIPHER}; echo "exit $?"`).stdout.trim()).toBe('exit 1');
    expect(on('qa-1', `find ${CIPHER} -name '*${canary}*' | wc -l`).stdout.trim()).toBe('0');

    const key = crvs('secrets', 'get', 'qa', 'DATA_VOLUME_KEY');
    expect(key.status).toBe(0);
    const value = key.stdout.trim();
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Not in a file of the places a key would be left (the journal included), nor in any process's arguments
    // or environment. The sweep reads the value on its stdin: in its own arguments it would find itself.
    const sweep = (text: string) =>
      spawnSync('docker', ['exec', '-i', 'crvs-lab-qa-1', 'python3', '-c', SWEEP], {
        input: `${text}\n`,
        encoding: 'utf8',
      })
        .stdout.trim()
        .split('\n');
    expect(sweep(value)).toEqual(['0', '0']);
    // The sweep finds what is there: the cipher directory is in gocryptfs's arguments.
    expect(Number(sweep(CIPHER).at(-1))).toBeGreaterThanOrEqual(1);
  });

  it('production, which does not opt in, keeps a plain /data with the stores in it, and nothing to unlock', () => {
    expect(
      on('prod-2', 'findmnt --noheadings /data; test -d /data/postgres && echo plain').stdout.trim(),
    ).toBe('plain');
    const status = crvsLab('volume', 'status', 'production', '--json');
    expect(status.status).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual({
      environment: 'production',
      server: 'prod-2',
      address: '10.77.0.22',
      encrypted: false,
      state: 'plain',
    });
    const unlock = crvsLab('volume', 'unlock', 'production');
    expect(unlock.status).toBe(2);
    expect(unlock.stderr).toContain(
      'production keeps its data on a plain directory (encryptData is not set): there is nothing to unlock',
    );
  });

  it(
    'after a reboot the volume is locked and the database stays down; a wrong key and stray files are refused; crvs volume unlock brings the data back',
    async () => {
      expect(JSON.parse(crvs('volume', 'status', 'qa', '--json').stdout)).toMatchObject({
        server: 'qa-1',
        state: 'unlocked',
      });
      expect(spawnSync('docker', ['restart', 'crvs-lab-qa-1']).status).toBe(0);
      await until('qa-1 answers SSH again', () => crvs('volume', 'status', 'qa', '--json').stdout !== '', 90);

      const locked = crvs('volume', 'status', 'qa', '--json');
      expect(locked.status).toBe(1);
      expect(JSON.parse(locked.stdout)).toEqual({
        environment: 'qa',
        server: 'qa-1',
        address: '10.77.0.11',
        encrypted: true,
        state: 'locked',
        action: 'crvs volume unlock qa',
      });
      expect(on('qa-1', 'findmnt --noheadings /data; ls -A /data | wc -l').stdout.trim()).toBe('0');
      // Swarm tries to start the database on qa-1 and cannot: its directory is inside the locked volume.
      await until(
        'the manager reports the database task rejected for its missing directory',
        () =>
          on('qa-1', 'docker service ps crvs_db --no-trunc --format "{{.Error}}"').stdout.includes(
            'bind source path does not exist: /data/postgres',
          ),
        90,
      );
      expect(on('qa-1', DB).stdout.trim()).toBe('');

      // The helper refuses a key that is not the volume's, and mounts nothing.
      const wrong = on('qa-1', "printf '%s' not-the-key | /usr/local/sbin/crvs-data-volume open");
      expect(wrong.status).toBe(12);
      expect(wrong.stderr).toContain('the key does not open /var/lib/crvs/data.enc');
      expect(on('qa-1', '/usr/local/sbin/crvs-data-volume status').stdout.trim()).toBe('locked');

      // A file written while locked went to the unencrypted disk: unlock says so and mounts nothing over it.
      on('qa-1', 'touch /data/written-while-locked');
      const refused = crvs('volume', 'unlock', 'qa');
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('/data is not empty while the volume is locked');
      expect(refused.stderr).toContain('written-while-locked');
      on('qa-1', 'rm /data/written-while-locked');

      const unlocked = crvs('volume', 'unlock', 'qa');
      expect(unlocked.status, unlocked.stderr).toBe(0);
      expect(unlocked.stdout.trim()).toBe(
        'qa: the data volume on qa-1 is unlocked; Swarm starts the stores again by itself within a minute',
      );
      // Swarm retries the rejected task until one starts (for a few seconds two may be listed): the row is back.
      await until(
        'the database to run again on qa-1, with the row written before the reboot',
        () => psql('SELECT v FROM crvs_canary').stdout.trim() === canary,
        120,
      );
      expect(on('qa-1', `cat /data/documents/${canary}.txt`).stdout).toBe(canary);
      expect(crvs('volume', 'unlock', 'qa').stdout.trim()).toBe(
        'qa: the data volume on qa-1 was already unlocked',
      );
    },
    10 * 60_000,
  );
});
