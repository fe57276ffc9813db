import { request } from 'node:http';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CrvsError } from '../errors.js';
import { DEFAULT_LAB_DIR } from '../lab/state.js';
import { renderTable } from '../report/table.js';
import { type CliContext, examples } from './context.js';

const APP_ENVIRONMENTS = ['qa', 'production', 'staging'] as const;
const ALL_ENVIRONMENTS = ['qa', 'production', 'staging', 'backup', 'jump'];

function get(host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolveGet) => {
    const req = request({ host, port: 80, path, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolveGet({ status: 0, body: '' }));
    req.end();
  });
}

/**
 * The README's main job: the whole rehearsal on the local lab. Every step is idempotent, so running it again
 * converges instead of starting over.
 */
export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description(
      'The whole rehearsal on the local lab: lab up, provision every environment, secrets, deploy and seed the demo stack.',
    )
    .option('--dir <path>', 'lab state directory', DEFAULT_LAB_DIR)
    .addHelpText(
      'after',
      examples(['crvs demo', 'build the lab and run everything on it (again: converges)']),
    )
    .action(async (o: { dir: string }) => {
      const { runMain } = await import('./main.js');
      const out = ctx.output();
      const dir = resolve(ctx.io.cwd, o.dir);
      const spec = join(dir, 'crvs.yaml');
      const env = {
        ...ctx.io.env,
        CRVS_IDENTITY: join(dir, 'id_ed25519'),
        CRVS_LAB_DIR: dir,
        // The lab has no receiver of a country's own: every server's alerts go to the lab's (crvs lab alerts).
        CRVS_SECRET_ALERT_WEBHOOK_URL:
          ctx.io.env.CRVS_SECRET_ALERT_WEBHOOK_URL ?? 'http://10.77.0.2:9000/alerts',
      };
      const io = { ...ctx.io, env };
      const step = async (title: string, argv: string[], accept?: (stderr: string) => boolean) => {
        out.err(`\n== ${title}: crvs ${argv.join(' ')}`);
        let stderr = '';
        const code = await runMain(argv, {
          ...io,
          stderr: (s) => {
            stderr += s;
            ctx.io.stderr(s);
          },
        });
        if (code !== 0 && !accept?.(stderr))
          throw new CrvsError('E_DEMO', `step "${title}" failed`, {
            exitCode: code,
            hint: 'run crvs demo again to continue',
          });
      };
      await step('the lab', ['lab', 'up', '--dir', dir]);
      // Secrets first: provisioning reads the alert webhook from the environment's store.
      for (const e of ALL_ENVIRONMENTS) await step(`secrets of ${e}`, ['secrets', 'init', e, '--spec', spec]);
      await step('provision every environment', ['provision', ...ALL_ENVIRONMENTS, '--spec', spec]);
      for (const e of APP_ENVIRONMENTS) {
        await step(`deploy ${e}`, ['deploy', e, '--spec', spec]);
        await step(`seed ${e}`, ['seed', e, '--spec', spec], (s) => s.includes('already seeded'));
      }
      const { loadSpec } = await import('../config/load.js');
      const { spec: lab } = await loadSpec(spec);
      const rows: string[][] = [];
      for (const e of APP_ENVIRONMENTS) {
        const server = lab.environments[e]?.servers[0];
        if (!server) continue;
        const version = await get(server.address, '/version');
        const ready = await get(server.address, '/ready');
        const stats = await get(server.address, '/stats');
        const s = stats.status === 200 ? (JSON.parse(stats.body) as Record<string, number>) : {};
        rows.push([
          e,
          `http://${server.address}/ (${e === 'production' ? lab.domain : `${e}.${lab.domain}`})`,
          version.status === 200 ? String((JSON.parse(version.body) as { version: string }).version) : '-',
          ready.status === 200 ? 'ready' : `not ready (${ready.status})`,
          `${s.records ?? '-'} records, ${s.offices ?? '-'} offices, ${s.users ?? '-'} users`,
        ]);
      }
      out.out(`\n${renderTable(['ENVIRONMENT', 'ADDRESS', 'VERSION', 'HEALTH', 'DATA'], rows)}`);
      out.out(
        `\nThe lab spec is ${spec}. Try: crvs lab status; crvs lab alerts (every SSH login, as the staff would be told); ` +
          `crvs deploy log production --spec ${spec} --identity ${env.CRVS_IDENTITY}`,
      );
      if (rows.some((r) => r[3] !== 'ready')) throw new CrvsError('E_DEMO', 'an environment is not healthy');
    });
}
