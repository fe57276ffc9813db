import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crvsBin, ensureDefaultLab, type LabInfo, labCommands } from './helpers/lab.js';

// The encrypted data volume on production's data node (prod-2), as `crvs demo` left it: the stores' files under
// /data are ciphertext on the disk, the key is nowhere on the server, a reboot leaves the volume locked and the
// database down, and `crvs volume unlock` brings both back. qa, with no citizen data, keeps a plain /data.
let lab: LabInfo;
const { env, crvs } = labCommands(() => lab);
const on = (server: string, script: string) =>
  spawnSync('docker', ['exec', `crvs-lab-${server}`, 'sh', '-c', script], { encoding: 'utf8' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DB = 'docker ps -q --filter label=com.docker.swarm.service.name=crvs_db';
const psql = (sql: string) =>
  on('prod-2', `docker exec --user postgres "$(${DB})" psql -d crvs -Atc "${sql}"`);
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

beforeAll(() => {
  lab = ensureDefaultLab();
  // Standalone, this file needs the stack on production: the main job puts it there.
  if (!on('prod-2', DB).stdout.trim()) {
    const r = crvsBin(['demo'], { env: env() });
    if (r.status !== 0) throw new Error(`crvs demo failed:\n${r.stderr.slice(-3000)}`);
  }
}, 30 * 60_000);

// What the tests wrote goes whatever happened (the backups of later runs would count it).
afterAll(() => {
  on('prod-2', `rm -f /data/documents/${canary}.txt`);
  psql('DROP TABLE IF EXISTS crvs_canary');
});

describe('the encrypted data volume', () => {
  it("production's stores write ciphertext to the disk, and the volume's key is nowhere on the server", () => {
    expect(on('prod-2', 'findmnt --noheadings --output FSTYPE,SOURCE /data').stdout.trim()).toBe(
      `fuse.gocryptfs ${CIPHER}`,
    );
    // A row through Postgres, flushed to its files; a file where the app keeps attachments.
    expect(
      psql(
        `CREATE TABLE IF NOT EXISTS crvs_canary (v text); INSERT INTO crvs_canary VALUES ('${canary}'); CHECKPOINT;`,
      ).status,
    ).toBe(0);
    expect(on('prod-2', `printf '%s' ${canary} > /data/documents/${canary}.txt`).status).toBe(0);
    // In the mounted view, both are there in clear...
    expect(on('prod-2', `grep -rlF ${canary} /data/postgres | head -1`).stdout).toMatch(
      /^\/data\/postgres\/base\//,
    );
    expect(on('prod-2', `cat /data/documents/${canary}.txt`).stdout).toBe(canary);
    // ...on the disk, neither the contents nor the file name are.
    expect(on('prod-2', `grep -rlF ${canary} ${CIPHER}; echo "exit $?"`).stdout.trim()).toBe('exit 1');
    expect(on('prod-2', `find ${CIPHER} -name '*${canary}*' | wc -l`).stdout.trim()).toBe('0');

    const key = crvs('secrets', 'get', 'production', 'DATA_VOLUME_KEY');
    expect(key.status).toBe(0);
    const value = key.stdout.trim();
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Not in a file of the places a key would be left (the journal included), nor in any process's arguments
    // or environment. The sweep reads the value on its stdin: in its own arguments it would find itself.
    const sweep = (text: string) =>
      spawnSync('docker', ['exec', '-i', 'crvs-lab-prod-2', 'python3', '-c', SWEEP], {
        input: `${text}\n`,
        encoding: 'utf8',
      })
        .stdout.trim()
        .split('\n');
    expect(sweep(value)).toEqual(['0', '0']);
    // The sweep finds what is there: the cipher directory is in gocryptfs's arguments.
    expect(Number(sweep(CIPHER).at(-1))).toBeGreaterThanOrEqual(1);
  });

  it('qa holds no citizen data: a plain /data with the stores in it, and nothing to unlock', () => {
    expect(on('qa-1', 'findmnt --noheadings /data; test -d /data/postgres && echo plain').stdout.trim()).toBe(
      'plain',
    );
    const status = crvs('volume', 'status', 'qa', '--json');
    expect(status.status).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual({
      environment: 'qa',
      server: 'qa-1',
      address: '10.77.0.11',
      encrypted: false,
      state: 'plain',
    });
    const unlock = crvs('volume', 'unlock', 'qa');
    expect(unlock.status).toBe(2);
    expect(unlock.stderr).toContain(
      'qa keeps its data on a plain directory (it holds no citizen data): there is nothing to unlock',
    );
  });

  it(
    'after a reboot the volume is locked and the database stays down; a wrong key and stray files are refused; crvs volume unlock brings the data back',
    async () => {
      expect(JSON.parse(crvs('volume', 'status', 'production', '--json').stdout)).toMatchObject({
        server: 'prod-2',
        state: 'unlocked',
      });
      expect(spawnSync('docker', ['restart', 'crvs-lab-prod-2']).status).toBe(0);
      await until(
        'prod-2 answers SSH again',
        () => crvs('volume', 'status', 'production', '--json').stdout !== '',
        90,
      );

      const locked = crvs('volume', 'status', 'production', '--json');
      expect(locked.status).toBe(1);
      expect(JSON.parse(locked.stdout)).toEqual({
        environment: 'production',
        server: 'prod-2',
        address: '10.77.0.22',
        encrypted: true,
        state: 'locked',
        action: 'crvs volume unlock production',
      });
      expect(on('prod-2', 'findmnt --noheadings /data; ls -A /data | wc -l').stdout.trim()).toBe('0');
      // Swarm tries to start the database on prod-2 and cannot: its directory is inside the locked volume.
      await until(
        'the manager reports the database task rejected for its missing directory',
        () =>
          on('prod-1', 'docker service ps crvs_db --no-trunc --format "{{.Error}}"').stdout.includes(
            'bind source path does not exist: /data/postgres',
          ),
        90,
      );
      expect(on('prod-2', DB).stdout.trim()).toBe('');

      // The helper refuses a key that is not the volume's, and mounts nothing.
      const wrong = on('prod-2', "printf '%s' not-the-key | /usr/local/sbin/crvs-data-volume open");
      expect(wrong.status).toBe(12);
      expect(wrong.stderr).toContain('the key does not open /var/lib/crvs/data.enc');
      expect(on('prod-2', '/usr/local/sbin/crvs-data-volume status').stdout.trim()).toBe('locked');

      // A file written while locked went to the unencrypted disk: unlock says so and mounts nothing over it.
      on('prod-2', 'touch /data/written-while-locked');
      const refused = crvs('volume', 'unlock', 'production');
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('/data is not empty while the volume is locked');
      expect(refused.stderr).toContain('written-while-locked');
      on('prod-2', 'rm /data/written-while-locked');

      const unlocked = crvs('volume', 'unlock', 'production');
      expect(unlocked.status, unlocked.stderr).toBe(0);
      expect(unlocked.stdout.trim()).toBe(
        'production: the data volume on prod-2 is unlocked; Swarm starts the stores again by itself within a minute',
      );
      await until('the database runs again on prod-2', () => psql('SELECT 1').stdout.trim() === '1', 120);
      expect(psql('SELECT v FROM crvs_canary').stdout.trim()).toBe(canary);
      expect(on('prod-2', `cat /data/documents/${canary}.txt`).stdout).toBe(canary);
      expect(crvs('volume', 'unlock', 'production').stdout.trim()).toBe(
        'production: the data volume on prod-2 was already unlocked',
      );
      psql('DROP TABLE crvs_canary');
      on('prod-2', `rm /data/documents/${canary}.txt`);
    },
    10 * 60_000,
  );
});
