import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CrvsError } from '../errors.js';
import { DEFAULT_LAB_DIR, labPaths, labSmtpSecrets } from '../lab/state.js';
import { renderTable } from '../report/table.js';
import type { DemoStep, HttpAnswer } from '../usecases/demo.js';
import { type CliContext, examples } from './context.js';

async function get(host: string, path: string): Promise<HttpAnswer> {
  const { request } = await import('node:http');
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
      const { demoHealth, demoPlan, runStages } = await import('../usecases/demo.js');
      const { loadSpec } = await import('../config/load.js');
      const out = ctx.output();
      const dir = resolve(ctx.io.cwd, o.dir);
      const plan = demoPlan(dir, ctx.io.env);
      const io = { ...ctx.io, env: { ...ctx.io.env, ...plan.env } };
      /** Runs one step; true when it succeeded (or failed as its plan accepts). */
      const runStep = async (step: DemoStep): Promise<boolean> => {
        out.err(`\n== ${step.title}: crvs ${step.argv.join(' ')}`);
        let stderr = '';
        const started = Date.now();
        const code = await ctx.runCommand(step.argv, {
          ...io,
          // The lab relay's account, once the lab has made it: secrets init puts it in each store.
          env: { ...io.env, ...labSmtpSecrets(labPaths(dir)) },
          stderr: (s) => {
            stderr += s;
            ctx.io.stderr(s);
          },
        });
        out.err(
          `== ${step.title}: ${code === 0 ? 'done' : `exit ${code}`} in ${Math.round((Date.now() - started) / 1000)} s`,
        );
        return code === 0 || Boolean(step.acceptWhen && stderr.includes(step.acceptWhen));
      };
      const failed = await runStages(plan.stages, runStep);
      if (failed.length)
        throw new CrvsError('E_DEMO', `step ${failed.map((t) => `"${t}"`).join(' and ')} failed`, {
          hint: 'run crvs demo again to continue',
        });
      const rows = await demoHealth((await loadSpec(plan.spec)).spec, get);
      out.out(`\n${renderTable(['ENVIRONMENT', 'ADDRESS', 'VERSION', 'HEALTH', 'DATA'], rows)}`);
      out.out(
        `\nThe lab spec is ${plan.spec}. Try: crvs lab status; crvs lab alerts (every SSH login, as the staff would be told); ` +
          `crvs deploy log production --spec ${plan.spec} --identity ${plan.identity}`,
      );
      if (rows.some((r) => r[3] !== 'ready')) throw new CrvsError('E_DEMO', 'an environment is not healthy');
    });
}
