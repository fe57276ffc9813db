#!/usr/bin/env node
// Benchmark: nightly backups of production into the backup server over a slow link, side by side with the
// reference's method (one tar.gz of everything, encrypted with openssl, copied whole), and staging's restore
// against a raw copy of the same bytes over the same link.
//
// Run on demand (not a test), after `npm run build`, on a lab where `crvs demo` ran (production, staging and the
// backup server provisioned, the demo stack deployed, backups wired):
//   node bench/backup.mjs [--records 20000] [--mean-kb 100] [--days 4] [--rate 10mbit] [--restore-rate 100mbit] [--keep]
//   node bench/backup.mjs --restore-only   (after a run with --keep: only the restore against a raw copy)
// It adds a generated dataset to production (records in Postgres, one attachment file each: random bytes, as
// scanned documents do not compress), then simulates days of 1% new and 0.5% corrected records, each followed by
// `crvs backup run production` with the lab's links shaped to --rate. Bytes sent to the backup server are counted
// on production's data node by an iptables rule (IP bytes to the backup server's SSH port: what crosses the link).
// At the end the generated records and files are removed from production unless --keep.
// Traffic stays inside the lab: docker exec into the lab's containers and the lab's own network.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { crvs, crvsJson, lab, root } from './lab-env.mjs';

const options = {
  records: 20_000,
  meanKb: 100,
  days: 4,
  rate: '10mbit',
  restoreRate: '100mbit',
  keep: false,
  restoreOnly: false,
};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const value = () => {
    const v = process.argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    return v;
  };
  if (a === '--records') options.records = Number(value());
  else if (a === '--mean-kb') options.meanKb = Number(value());
  else if (a === '--days') options.days = Number(value());
  else if (a === '--rate') options.rate = value();
  else if (a === '--restore-rate') options.restoreRate = value();
  else if (a === '--keep') options.keep = true;
  else if (a === '--restore-only') options.restoreOnly = true;
  else throw new Error(`unknown option ${a} (see the comment at the top of bench/backup.mjs)`);
}
for (const k of ['records', 'meanKb', 'days'])
  if (!Number.isInteger(options[k]) || options[k] < 1) throw new Error(`--${k} must be a positive integer`);

const state = JSON.parse(readFileSync(join(lab, 'state.json'), 'utf8'));
const server = (name) => {
  const s = state.topology.servers.find((x) => x.name === name);
  if (!s) throw new Error(`the lab has no server ${name}`);
  return s;
};
const PROD = server('prod-2');
const STAGING = server('staging-1');
const BACKUP = server('backup-1');
const DOCUMENTS = '/data/documents';
const DB = 'docker ps -q --filter label=com.docker.swarm.service.name=crvs_db';
const RULE = `OUTPUT -d ${BACKUP.address} -p tcp --dport 22 -m comment --comment crvs-bench-backup`;

/** A script as root inside a lab server (bash, pipefail); throws with its stderr on failure. */
function on(s, script, input) {
  const r = spawnSync('docker', ['exec', '-i', s.container, 'bash', '-c', `set -euo pipefail\n${script}`], {
    encoding: 'utf8',
    input,
    maxBuffer: 64 * 2 ** 20,
  });
  if (r.status !== 0) throw new Error(`on ${s.name}: ${script.split('\n')[0]}...\n${r.stderr}`);
  return r.stdout;
}
const seconds = (started) => Math.round((Number(process.hrtime.bigint() - started) / 1e9) * 10) / 10;
const mb = (bytes) => Math.round(bytes / 1e5) / 10;
const psql = (sql) =>
  on(
    PROD,
    `docker exec -i --user postgres "$(${DB})" psql -d crvs -v ON_ERROR_STOP=1 -Atc ${JSON.stringify(sql)}`,
  );

// Generates records on production's data node: attachment files of random bytes (sizes spread evenly between 1 KB
// and twice the mean), owned like the live directory, and their rows through COPY. Prints the bytes added.
const GENERATE = String.raw`
import hashlib, json, os, random, sys, uuid
n, mean_kb, tag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
docs = sys.argv[4]
st = os.stat(docs)
rows = files = 0
out = sys.stdout
for i in range(n):
    rid = str(uuid.uuid4())
    data = os.urandom(random.randint(1024, 2 * mean_kb * 1024))
    path = os.path.join(docs, rid)
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.chown(path + ".tmp", st.st_uid, st.st_gid)
    os.rename(path + ".tmp", path)
    kind = "birth" if i % 3 else "death"
    line = f"{rid}\t{kind}\tBench {tag} {i}\t2026-{1 + i % 12:02d}-{1 + i % 28:02d}\tIBO-1\t{hashlib.sha256(data).hexdigest()}\n"
    out.write(line)
    rows += len(line.encode())
    files += len(data)
sys.stderr.write(json.dumps({"rows": rows, "files": files}) + "\n")
`;
function addRecords(n, tag) {
  const out = on(
    PROD,
    `python3 -c ${shellQuote(GENERATE)} ${n} ${options.meanKb} ${tag} ${DOCUMENTS} 2>/tmp/bench-gen.json \\
  | docker exec -i --user postgres "$(${DB})" psql -d crvs -v ON_ERROR_STOP=1 -qc "COPY records (id, type, name, event_date, office_code, attachment_sha256) FROM STDIN"
cat /tmp/bench-gen.json; rm -f /tmp/bench-gen.json`,
  );
  return JSON.parse(out.trim().split('\n').pop());
}
function shellQuote(s) {
  return `'${s.replaceAll("'", "'\\''")}'`;
}
/** Corrects n generated records (their name): the bytes of the changed rows as text. */
function correctRecords(n, day) {
  const [count, bytes] = psql(
    `WITH u AS (UPDATE records SET name = name || ' corrected ${day}' WHERE id IN (SELECT id FROM records WHERE name LIKE 'Bench %' ORDER BY random() LIMIT ${n}) RETURNING *) SELECT count(*) || '|' || coalesce(sum(octet_length(u::text)), 0) FROM u`,
  )
    .trim()
    .split('|')
    .map(Number);
  if (count !== n) throw new Error(`corrected ${count} records, not ${n}`);
  return bytes;
}
const sentBytes = () => {
  const line = on(PROD, 'iptables -w -nvx -L OUTPUT')
    .split('\n')
    .find((l) => l.includes('crvs-bench-backup'));
  if (!line) throw new Error('the byte-counting rule on prod-2 is gone');
  return Number(line.trim().split(/\s+/)[1]);
};

/** The reference's nightly backup, run for its size only: dump, one tar.gz with the attachments, openssl. */
function referenceBytes() {
  const pass = randomBytes(24).toString('base64url');
  const started = process.hrtime.bigint();
  const out = on(
    PROD,
    `t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
docker exec --user postgres "$(${DB})" pg_dump -d crvs > "$t/crvs.sql"
exec 3<<<"$(cat)"
tar -czf - -C "$t" crvs.sql -C ${DOCUMENTS} . | openssl enc -aes-256-cbc -pbkdf2 -salt -pass fd:3 | wc -c`,
    pass,
  );
  return { bytes: Number(out.trim()), seconds: seconds(started) };
}

function shape(rate) {
  if (rate) crvs('lab', 'shape', '--rate', rate);
  else crvs('lab', 'shape', '--clear');
}

/** Raw TCP copy of n bytes of the repository's own segment files, backup server -> staging, on the same link. */
function rawCopy(n) {
  const port = 9931;
  const accept = `INPUT -s ${BACKUP.address} -p tcp --dport ${port} -m comment --comment crvs-bench-copy -j ACCEPT`;
  on(STAGING, `iptables -w -I ${accept}`);
  try {
    const listener = spawnSync(
      'docker',
      [
        'exec',
        '-d',
        STAGING.container,
        'python3',
        '-c',
        `import socket\ns=socket.create_server(("0.0.0.0",${port}))\nc,_=s.accept()\nn=0\nwhile True:\n  b=c.recv(1<<20)\n  if not b: break\n  n+=len(b)\nopen("/tmp/bench-copy","w").write(str(n))`,
      ],
      { encoding: 'utf8' },
    );
    if (listener.status !== 0) throw new Error(listener.stderr);
    const started = process.hrtime.bigint();
    on(
      BACKUP,
      // head stops reading before cat is done: no pipefail here, the byte count is checked on the other end.
      `set +o pipefail; cat $(ls -d /srv/borg/repos/production/data/*/* | sort -V) | head -c ${n} | python3 -c 'import socket,sys
import time
for i in range(100):
  try:
    s=socket.create_connection(("${STAGING.address}",${port})); break
  except OSError: time.sleep(0.1)
while True:
  b=sys.stdin.buffer.read(1<<20)
  if not b: break
  s.sendall(b)
s.shutdown(socket.SHUT_WR); s.recv(1)'`,
    );
    for (let i = 0; i < 100; i++) {
      const got = spawnSync('docker', ['exec', STAGING.container, 'cat', '/tmp/bench-copy'], {
        encoding: 'utf8',
      });
      if (got.status === 0) {
        const s = seconds(started);
        on(STAGING, 'rm -f /tmp/bench-copy');
        if (Number(got.stdout) !== n) throw new Error(`raw copy received ${got.stdout} bytes, not ${n}`);
        return s;
      }
      spawnSync('sleep', ['0.1']);
    }
    throw new Error('the raw copy never finished');
  } finally {
    on(STAGING, `iptables -w -D ${accept} || true`);
  }
}

/** The base dataset, its first backup, then each simulated day's changes and nightly backup on the shaped link. */
function nights() {
  let started = process.hrtime.bigint();
  const base = addRecords(options.records, 'base');
  console.log(
    `generated ${options.records} records, ${mb(base.files)} MB of attachments in ${seconds(started)} s`,
  );

  // Day 0: the first backup of the dataset, full speed (a country would seed it over a faster path or accept days).
  let before = sentBytes();
  const first = crvsJson('backup', 'run', 'production');
  const initial = { sent: sentBytes() - before, seconds: first.seconds, stats: first.json.stats };
  const refInitial = referenceBytes();
  result.initial = { dataBytes: base.rows + base.files, crvs: initial, reference: refInitial };
  console.log(
    `day 0: crvs sent ${mb(initial.sent)} MB in ${initial.seconds} s; the reference's archive ${mb(refInitial.bytes)} MB`,
  );

  const rateBits =
    Number.parseFloat(options.rate) *
    (/gbit/.test(options.rate) ? 1e9 : /kbit/.test(options.rate) ? 1e3 : 1e6);
  for (let day = 1; day <= options.days; day++) {
    const added = addRecords(Math.round(options.records / 100), `day${day}`);
    const changedRows = correctRecords(Math.round(options.records / 200), day);
    const newBytes = added.rows + added.files + changedRows;
    shape(options.rate);
    before = sentBytes();
    started = process.hrtime.bigint();
    const run = crvsJson('backup', 'run', 'production');
    const wall = seconds(started);
    const sent = sentBytes() - before;
    shape(undefined);
    const reference = day === 1 || day === options.days ? referenceBytes() : undefined;
    const target = Math.round((1.1 * ((newBytes * 8) / rateBits) + 60) * 10) / 10;
    const d = {
      day,
      newBytes,
      sent,
      ratio: Math.round((sent / newBytes) * 100) / 100,
      seconds: wall,
      targetSeconds: target,
      dedupBytes: run.json.stats?.deduplicated_size,
      reference: reference && { ...reference, ratio: Math.round((reference.bytes / newBytes) * 10) / 10 },
    };
    result.days.push(d);
    console.log(
      `day ${day}: ${mb(newBytes)} MB new or changed; crvs sent ${mb(sent)} MB (${d.ratio}x) in ${wall} s at ${options.rate} (target ${target} s)` +
        (reference ? `; the reference would send ${mb(reference.bytes)} MB (${d.reference.ratio}x)` : ''),
    );
  }
}

/** Staging's restore of the newest archive, against a raw copy of as many bytes over the same shaped link. */
function restore() {
  const newest = crvsJson('backup', 'list', 'production')
    .json.sort((a, b) => a.name.localeCompare(b.name))
    .pop();
  shape(options.restoreRate);
  const started = process.hrtime.bigint();
  const restored = crvsJson('restore', 'staging', '--from', 'production', '--archive', newest.name, '--yes');
  const restoreSeconds = seconds(started);
  console.log(
    `restore into staging: ${mb(newest.compressedBytes)} MB in ${restoreSeconds} s (${restored.json.result})`,
  );
  const copySeconds = rawCopy(newest.compressedBytes);
  shape(undefined);
  if (restored.json.result !== 'ok') throw new Error(`the restore ended ${restored.json.result}`);
  result.restore = {
    archive: newest.name,
    bytes: newest.compressedBytes,
    seconds: restoreSeconds,
    drillSeconds: restored.json.durationSeconds,
    rawCopySeconds: copySeconds,
    ratio: Math.round((copySeconds / restoreSeconds) * 100) / 100,
    rate: options.restoreRate,
  };
  console.log(
    `restore into staging: ${mb(newest.compressedBytes)} MB in ${restoreSeconds} s; a raw copy of the same bytes ${copySeconds} s: ${Math.round(result.restore.ratio * 100)}% of raw throughput`,
  );
}

const stats = await fetch('http://10.77.0.21/stats')
  .then((r) => r.json())
  .catch(() => ({}));
if (typeof stats.records !== 'number')
  throw new Error("production's app does not answer: run `crvs demo` first (this benchmark needs its lab)");
crvsJson('backup', 'list', 'production'); // backups wired and the repository readable, or this throws

console.log(
  options.restoreOnly
    ? `backup benchmark, restore only: the newest archive into staging at ${options.restoreRate}, against a raw copy`
    : `backup benchmark: ${options.records} records, attachments ~${options.meanKb} KB, ${options.days} days at ${options.rate}`,
);
shape(undefined);
on(PROD, `iptables -w -D ${RULE} 2>/dev/null || true; iptables -w -I ${RULE}`);
const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
  options,
  days: [],
};
try {
  if (!options.restoreOnly) nights();
  restore();
} finally {
  shape(undefined);
  on(PROD, `iptables -w -D ${RULE} || true`);
  if (!options.keep) {
    // The generated records and their files leave production (staging keeps its restored copy until its next drill).
    on(
      PROD,
      `docker exec --user postgres "$(${DB})" psql -d crvs -v ON_ERROR_STOP=1 -Atqc "DELETE FROM records WHERE name LIKE 'Bench %' RETURNING id" \\
  | (cd ${DOCUMENTS} && xargs -r rm -f)`,
    );
  }
}

result.targets = { sentRatio: 1.2, nightlySeconds: '1.1 x new bytes at the rate + 60 s', restoreRatio: 0.8 };
const resultFile = join(root, 'bench', 'results', 'backup.json');
// --restore-only replaces the restore of the last full run's record and keeps its nights.
const recorded =
  options.restoreOnly && existsSync(resultFile)
    ? { ...JSON.parse(readFileSync(resultFile, 'utf8')), restore: { ...result.restore, date: result.date } }
    : result;
writeFileSync(resultFile, `${JSON.stringify(recorded, null, 2)}\n`);
const misses = [
  ...result.days.filter((d) => d.ratio > 1.2).map((d) => `day ${d.day} sent ${d.ratio}x its new bytes`),
  ...result.days.filter((d) => d.seconds > d.targetSeconds).map((d) => `day ${d.day} took ${d.seconds} s`),
  ...(result.restore?.ratio < 0.8 ? [`the restore ran at ${result.restore.ratio} of a raw copy`] : []),
];
if (misses.length) {
  console.log(`targets missed: ${misses.join('; ')}`);
  process.exitCode = 1;
}
