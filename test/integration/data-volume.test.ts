import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crvsBin, ensureDefaultLab, ensureProvisioned, type LabInfo, labCommands } from './helpers/lab.js';

// The encrypted data volume, on by default on production (and staging): prod-2, production's data node, keeps its
// stores in an ext4 image with the kernel's fscrypt, unlocked with the key from production's secrets store. The
// stores' files are ciphertext in the image, the key is nowhere on the server, a reboot leaves the volume locked and
// the database down, and `crvs volume unlock` brings both back; `crvs volume rekey` rotates its key; provisioning
// opens it with the new key after a reboot, and grows it offline. qa,
// which holds test data, keeps a plain /data. Runs last: it reboots prod-2 twice and leaves its volume 1 GiB bigger.
let lab: LabInfo;
const { env, crvs } = labCommands(() => lab);
/** The lab's spec with production's volume one GiB bigger (beside it: same stores, same known_hosts). */
const grownSpec = () => join(lab.dir, 'crvs-grown-volume.yaml');
const on = (server: string, script: string) =>
  spawnSync('docker', ['exec', `crvs-lab-${server}`, 'sh', '-c', script], { encoding: 'utf8' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DB = 'docker ps -q --filter label=com.docker.swarm.service.name=crvs_db';
const psql = (sql: string) =>
  on('prod-2', `docker exec --user postgres "$(${DB})" psql -d crvs -Atc "${sql}"`);
const IMAGE = '/var/lib/crvs/data.img';
const WRONG_KEY =
  "crvs-data-volume: the key does not open /var/lib/crvs/data.img (the environment's DATA_VOLUME_KEY is none of its keys)";
/**
 * How many times the image holds the text read on stdin. Only its data is read (SEEK_DATA to SEEK_HOLE), each
 * extent from the text's length less one byte before it, so that a match across an extent's start counts; its
 * holes read as zeros. Reading the sparse 3 GiB image whole took 65 s on the lab's machine, its data (some
 * 110 MiB) well under one.
 */
const IMAGE_COUNT = [
  'import os, sys',
  'k = sys.stdin.readline().strip().encode()',
  `fd = os.open('${IMAGE}', os.O_RDONLY)`,
  'end, at, n = os.lseek(fd, 0, os.SEEK_END), 0, 0',
  'while at < end:',
  '    try: start = os.lseek(fd, at, os.SEEK_DATA)',
  '    except OSError: break',
  '    stop = os.lseek(fd, start, os.SEEK_HOLE)',
  '    data = os.pread(fd, stop - start + len(k) - 1, max(0, start - len(k) + 1))',
  '    n, at = n + data.count(k), stop',
  'print(n)',
].join('\n');
const imageCount = (text: string) =>
  spawnSync('docker', ['exec', '-i', 'crvs-lab-prod-2', 'python3', '-c', IMAGE_COUNT], {
    input: `${text}\n`,
    encoding: 'utf8',
  }).stdout.trim();
/**
 * Prints the files that hold the text read on stdin (beneath where a key could be left; the volume's image is
 * searched by IMAGE_COUNT), then how many times the image has it, then the journal, then how many processes hold
 * it in their arguments or environment (itself left out).
 */
const SWEEP = [
  'import glob, os, subprocess, sys',
  'k = sys.stdin.readline().strip().encode()',
  "dirs = ['/etc', '/var/lib', '/var/log', '/run', '/root', '/home', '/usr/local', '/tmp']",
  `files = subprocess.run(['grep', '-rlF', '--exclude-dir=docker', '--exclude=${IMAGE.split('/').pop()}', '-f', '/dev/stdin', *dirs], input=k + b'\\n', capture_output=True).stdout.decode().split()`,
  "journal = subprocess.run(['journalctl', '--no-pager', '-o', 'cat'], capture_output=True).stdout.count(k)",
  'procs = 0',
  "for p in glob.glob('/proc/[0-9]*'):",
  "    if p == f'/proc/{os.getpid()}': continue",
  "    for f in ('cmdline', 'environ'):",
  '        try: procs += k in open(f"{p}/{f}", "rb").read()',
  '        except OSError: pass',
  "print(*files, journal, procs, sep='\\n')",
].join('\n');
const sweep = (text: string) => {
  const found = spawnSync('docker', ['exec', '-i', 'crvs-lab-prod-2', 'python3', '-c', SWEEP], {
    input: `${text}\n`,
    encoding: 'utf8',
  })
    .stdout.trim()
    .split('\n');
  return [...found.slice(0, -2), imageCount(text), ...found.slice(-2)];
};
/** The helper's open on prod-2, the key on its stdin. */
const openWith = (key: string) =>
  spawnSync('docker', ['exec', '-i', 'crvs-lab-prod-2', '/usr/local/sbin/crvs-data-volume', 'open'], {
    input: key,
    encoding: 'utf8',
  });
const storedKey = () => {
  const r = crvs('secrets', 'get', 'production', 'DATA_VOLUME_KEY');
  expect(r.status).toBe(0);
  return r.stdout.trim();
};
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
  // After demo.test this provisions nothing; run alone, it provisions production and deploys the demo there.
  ensureProvisioned(lab, ['production'], env());
  if (on('prod-2', DB).stdout.trim() === '') {
    for (const args of [
      ['secrets', 'init', 'production'],
      ['deploy', 'production'],
    ]) {
      const r = crvs(...args);
      if (r.status !== 0) throw new Error(`crvs ${args.join(' ')} failed:\n${r.stderr.slice(-3000)}`);
    }
  }
}, 30 * 60_000);

// What the tests wrote goes whatever happened.
afterAll(() => {
  on('prod-2', `rm -f /data/documents/${canary}.txt /data/written-while-locked`);
  psql('DROP TABLE IF EXISTS crvs_canary');
  rmSync(grownSpec(), { force: true });
});

async function reboot(server: string, environment: string): Promise<void> {
  expect(spawnSync('docker', ['restart', `crvs-lab-${server}`]).status).toBe(0);
  await until(
    `${server} answers SSH again`,
    () => crvs('volume', 'status', environment, '--json').stdout !== '',
    90,
  );
}

describe('the encrypted data volume', () => {
  it("production's stores write ciphertext into the volume's image, and the volume's key is nowhere on the server", () => {
    expect(on('prod-2', 'findmnt --noheadings --output FSTYPE,SOURCE /data').stdout.trim()).toMatch(
      /^ext4\s+\/dev\/loop\d+\[\/data\]$/,
    );
    expect(on('prod-2', '/usr/local/sbin/crvs-data-volume status').stdout.trim()).toBe('unlocked');
    // Open already, the helper still tells a wrong key (a store that holds one would lock the data at the next
    // reboot), and leaves the volume as it was.
    const wrong = on('prod-2', "printf '%s' not-the-key | /usr/local/sbin/crvs-data-volume open");
    expect([wrong.status, wrong.stderr.trim()]).toEqual([12, WRONG_KEY]);
    expect(on('prod-2', '/usr/local/sbin/crvs-data-volume status').stdout.trim()).toBe('unlocked');
    // A row through Postgres, flushed to its files; a file where the app keeps attachments, named after the canary.
    expect(
      psql(
        `CREATE TABLE IF NOT EXISTS crvs_canary (v text); INSERT INTO crvs_canary VALUES ('${canary}'); CHECKPOINT;`,
      ).status,
    ).toBe(0);
    expect(on('prod-2', `printf '%s' ${canary} > /data/documents/${canary}.txt && sync`).status).toBe(0);
    // In the unlocked view, both are there in clear...
    expect(on('prod-2', `grep -rlF ${canary} /data/postgres/base | head -1`).stdout).toMatch(
      /^\/data\/postgres\/base\//,
    );
    expect(on('prod-2', `cat /data/documents/${canary}.txt`).stdout).toBe(canary);
    // ...in the image on the disk, neither the contents nor the file name (a directory entry) are; what ext4 keeps
    // in clear, such as the volume's label in its superblock, is found by the same search.
    expect(imageCount(canary)).toBe('0');
    expect(Number(imageCount('crvs-data'))).toBeGreaterThanOrEqual(1);

    const value = storedKey();
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Not in a file of the places a key would be left (the journal included), nor in any process's arguments
    // or environment. The sweep reads the value on its stdin: in its own arguments it would find itself.
    expect(sweep(value)).toEqual(['0', '0', '0']);
    // The sweep finds what is there: the image's path is in the helper.
    expect(sweep(IMAGE)).toContain('/usr/local/sbin/crvs-data-volume');
  });

  it('qa, which holds test data, keeps a plain /data with the stores in it, and nothing to unlock', () => {
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
      'qa keeps its data on a plain directory (encryptData is not set): there is nothing to unlock',
    );
  });

  it(
    'after a reboot the volume is locked and the database stays down; a wrong key and stray files are refused; crvs volume unlock brings the data back',
    async () => {
      expect(JSON.parse(crvs('volume', 'status', 'production', '--json').stdout)).toMatchObject({
        server: 'prod-2',
        state: 'unlocked',
      });
      await reboot('prod-2', 'production');

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
      // Nothing is mounted: /data is the empty directory beneath, and the image's file system is not attached.
      expect(
        on(
          'prod-2',
          `findmnt --noheadings /data; findmnt --noheadings /var/lib/crvs/data.fs; ls -A /data | wc -l`,
        ).stdout.trim(),
      ).toBe('0');
      // Swarm tries to start the database on prod-2 and cannot: its directory is inside the locked volume.
      await until(
        'the manager reports the database task rejected for its missing directory',
        () =>
          on('prod-1', 'docker service ps crvs_db --no-trunc --format "{{.Error}}"').stdout.includes(
            'bind source path does not exist: /data/postgres',
          ),
        120,
      );
      expect(on('prod-2', DB).stdout.trim()).toBe('');

      // The helper refuses a key that is not the volume's before growing anything, and leaves it locked.
      const imageSize = on('prod-2', `stat -c %s ${IMAGE}`).stdout.trim();
      const wrong = on(
        'prod-2',
        "printf '%s' not-the-key | /usr/local/sbin/crvs-data-volume open --size-gib 99",
      );
      expect(wrong.status).toBe(12);
      expect(wrong.stderr.trim()).toBe(WRONG_KEY);
      expect(
        on(
          'prod-2',
          `/usr/local/sbin/crvs-data-volume status; findmnt --noheadings /data; findmnt --noheadings /var/lib/crvs/data.fs; stat -c %s ${IMAGE}`,
        ).stdout.trim(),
      ).toBe(`locked\n${imageSize}`);

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
      // Swarm retries the rejected task until one starts: the row is back, and the file.
      await until(
        'the database to run again on prod-2, with the row written before the reboot',
        () => psql('SELECT v FROM crvs_canary').stdout.trim() === canary,
        180,
      );
      expect(on('prod-2', `cat /data/documents/${canary}.txt`).stdout).toBe(canary);
      expect(crvs('volume', 'unlock', 'production').stdout.trim()).toBe(
        'production: the data volume on prod-2 was already unlocked',
      );
    },
    10 * 60_000,
  );

  it('crvs volume rekey: the volume opens with the new key alone, which the store holds and the server does not', () => {
    const old = storedKey();
    const r = crvs('volume', 'rekey', 'production');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(
      'production: DATA_VOLUME_KEY rotated; the data volume on prod-2 opens with the new key only',
    );
    const next = storedKey();
    expect(next).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(next).not.toBe(old);
    const refused = openWith(old);
    expect([refused.status, refused.stderr.trim()]).toEqual([12, WRONG_KEY]);
    expect(openWith(next).stdout.trim()).toBe('already-unlocked');
    // One key slot left, wrapping the same master key (the data was not touched: the row is there).
    expect(JSON.parse(on('prod-2', 'cat /var/lib/crvs/data.fs/crvs-keys.json').stdout).slots).toHaveLength(1);
    expect(psql('SELECT v FROM crvs_canary').stdout.trim()).toBe(canary);
    for (const key of [old, next]) expect(sweep(key)).toEqual(['0', '0', '0']);
  });

  it(
    'a larger dataVolumeGiB grows the volume: provisioning after a reboot opens it and grows it offline, the data kept',
    async () => {
      const size = () => Number(on('prod-2', 'df --output=size -B1M /data | tail -1').stdout.trim());
      const before = size();
      // The lab's 3 GiB (more if a run of this file grew it already), less ext4's own metadata and the 1% reserved.
      const gib = Number(on('prod-2', `stat -c %s ${IMAGE}`).stdout.trim()) / 1024 ** 3;
      expect(gib).toBeGreaterThanOrEqual(3);
      expect(before).toBeGreaterThan(gib * 1024 * 0.95);
      expect(before).toBeLessThan(gib * 1024);
      writeFileSync(
        grownSpec(),
        readFileSync(lab.spec, 'utf8').replace(
          /(production:\n(?:.*\n)*?\s+dataVolumeGiB: )\d+\n/,
          `$1${gib + 1}\n`,
        ),
      );
      expect(readFileSync(grownSpec(), 'utf8')).toContain(`dataVolumeGiB: ${gib + 1}`);
      // Online growth needs CAP_SYS_RESOURCE, which the lab's containers lack (LAB.md): grow it while locked.
      await reboot('prod-2', 'production');
      const provision = crvsBin(['provision', 'production', '--tags', 'data', '--spec', grownSpec()], {
        env: env(),
      });
      expect(provision.status, provision.stderr.slice(-2000)).toBe(0);
      expect(size() - before).toBeGreaterThan(1000);
      expect(on('prod-2', `stat -c %s ${IMAGE}`).stdout.trim()).toBe(String((gib + 1) * 1024 ** 3));
      await until(
        'the database to run again on prod-2, with its row',
        () => psql('SELECT v FROM crvs_canary').stdout.trim() === canary,
        180,
      );
      expect(on('prod-2', `cat /data/documents/${canary}.txt`).stdout).toBe(canary);
    },
    15 * 60_000,
  );
});
