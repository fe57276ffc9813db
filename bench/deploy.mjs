#!/usr/bin/env node
// Benchmark: rolling deploys of the demo stack to the lab's 2-node production cluster under constant load.
// For each run it records the requests sent and failed while `crvs deploy` ran, and the time the deploy took to
// converge. Run on demand (not a test): node bench/deploy.mjs [runs=4] after `npm run build`, on a lab where
// production is provisioned (crvs demo, or the integration tests, leave it so). Requests go to the lab only.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { crvs, env, root, spec } from './lab-env.mjs';

const HOSTS = ['10.77.0.21', '10.77.0.22'];
const WORKERS = 4;
const runs = Number(process.argv[2] ?? 4);

function call(host, method, path, body) {
  if (!host.startsWith('10.77.0.')) throw new Error(`refusing to send requests outside the lab: ${host}`);
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host,
        port: 80,
        agent: false,
        method,
        path,
        timeout: 10_000,
        headers: data ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(data);
  });
}

/** Workers alternate between the two nodes: a record written on one is read back through either. */
function load() {
  let stop = false;
  const r = { sent: 0, failed: 0, failures: [] };
  const ids = [];
  const worker = async (w) => {
    while (!stop) {
      const i = r.sent++;
      const host = HOSTS[(i + w) % HOSTS.length];
      try {
        const res =
          i % 3 === 0 || ids.length === 0
            ? await call(host, 'POST', '/records', {
                type: i % 2 ? 'birth' : 'death',
                name: `Bench ${i}`,
                date: '2026-11-25',
                office: 'IBO-1',
                attachment: Buffer.from(`scan ${i}`).toString('base64'),
              })
            : await call(host, 'GET', `/records/${ids[i % ids.length]}`);
        if (res.status >= 300) throw new Error(`HTTP ${res.status} ${res.text.slice(0, 120)}`);
        if (res.status === 201) ids.push(JSON.parse(res.text).id);
      } catch (e) {
        r.failed++;
        if (r.failures.length < 10) r.failures.push(`${i}: ${e.message}`);
      }
    }
  };
  const done = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  return async () => {
    stop = true;
    await done;
    return r;
  };
}

function deploy(version) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(
      process.execPath,
      [join(root, 'bin', 'crvs.js'), 'deploy', 'production', '--version', version, '--spec', spec],
      { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.on('close', (code) => {
      const seconds = Math.round((Number(process.hrtime.bigint() - started) / 1e9) * 10) / 10;
      if (code !== 0) reject(new Error(`deploy ${version} failed:\n${stderr}`));
      else resolve(seconds);
    });
  });
}

crvs('lab', 'up');
crvs('provision', 'production');
crvs('secrets', 'init', 'production');
crvs('deploy', 'production', '--version', 'v1');
const results = [];
for (let i = 0; i < runs; i++) {
  const version = i % 2 === 0 ? 'v2' : 'v1';
  const stop = load();
  const seconds = await deploy(version);
  // Keep the load on a little after convergence: a late failure counts too.
  await new Promise((r) => setTimeout(r, 5000));
  const r = await stop();
  results.push({ version, seconds, sent: r.sent, failed: r.failed, failures: r.failures });
  console.log(`deploy ${version}: converged in ${seconds} s, ${r.sent} requests, ${r.failed} failed`);
}

const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
  cluster: 'lab production: 2 nodes (manager + data node), app replicas 2, proxy on each node',
  workers: WORKERS,
  runs: results,
  targets: { failed: 0 },
};
writeFileSync(join(root, 'bench', 'results', 'deploy.json'), `${JSON.stringify(result, null, 2)}\n`);
