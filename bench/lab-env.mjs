// Shared by the lab benchmarks: where the default lab keeps its spec and key, and crvs run against it.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const lab = join(root, '.crvs', 'lab');
export const spec = join(lab, 'crvs.yaml');
export const env = {
  ...process.env,
  CI: 'true',
  CRVS_IDENTITY: join(lab, 'id_ed25519'),
  // Nothing listens there in the lab; alerts are delivered best-effort.
  CRVS_SECRET_ALERT_WEBHOOK_URL: process.env.CRVS_SECRET_ALERT_WEBHOOK_URL ?? 'http://10.77.0.2:9000/alerts',
};

/** Runs crvs (with the lab spec, except for `lab` itself); returns the seconds it took. Throws on failure. */
export function crvs(...args) {
  return crvsRun(...args).seconds;
}

/** Runs crvs as `crvs` does, with `--json`; returns the seconds it took and its parsed output. */
export function crvsJson(...args) {
  const r = crvsRun(...args, '--json');
  return { seconds: r.seconds, json: JSON.parse(r.stdout) };
}

function crvsRun(...args) {
  const withSpec = args[0] === 'lab' ? args : [...args, '--spec', spec];
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(root, 'bin', 'crvs.js'), ...withSpec], {
    cwd: root,
    encoding: 'utf8',
    env,
  });
  if (r.status !== 0) throw new Error(`crvs ${args.join(' ')} failed:\n${r.stderr}`);
  return {
    seconds: Math.round((Number(process.hrtime.bigint() - started) / 1e9) * 10) / 10,
    stdout: r.stdout,
  };
}
