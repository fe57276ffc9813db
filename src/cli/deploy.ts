import type { Command } from 'commander';
import { renderTable } from '../report/table.js';
import type { ReleasePlan } from '../usecases/deploy.js';
import { type CliContext, examples } from './context.js';
import { type EnvironmentFlags, environmentContext, environmentOptions } from './environment.js';

export function registerDeploy(program: Command, ctx: CliContext): void {
  const cmd = environmentOptions(
    program
      .command('deploy')
      .description(
        'Deploy the stack to an environment: health-gated rolling update, automatic rollback, audit log.',
      )
      .argument('<environment>', 'production, staging, qa or development')
      .option('--version <version>', 'release to deploy (default: stack.version in the spec)')
      .option(
        '--dry-run',
        'show the plan (steps, secrets, stack file diff against what runs); change nothing',
      )
      .option('--json', 'print the result as JSON'),
  ).addHelpText(
    'after',
    examples(
      ['crvs deploy qa', "deploy the spec's version to qa"],
      ['crvs deploy production --version v1.9.1', 'a given release'],
      ['crvs deploy qa --dry-run', 'the plan: what would be done, and the diff against what runs'],
      ['crvs deploy log production', 'who deployed what, when'],
      ['crvs deploy history production', 'what runs, and the releases kept for rollback'],
    ) +
      '\nThe deploy lock is a lease, renewed while the deploy works: a deploy that was killed holds it until its\n' +
      'lease runs out (180 s; CRVS_DEPLOY_LEASE_SECONDS), then the next deploy takes it over and says whose it was.\n',
  );
  cmd.action(async (environment: string, o: EnvironmentFlags & { version?: string; dryRun?: boolean }) => {
    const { applyRelease, planDeploy } = await import('../usecases/deploy.js');
    const { c, fx, out } = await environmentContext(ctx, environment, o);
    const plan = await planDeploy(fx, c, o.version ?? c.spec.stack.version);
    if (o.dryRun) {
      out.out(o.json ? JSON.stringify(planJson(plan), null, 2) : renderPlan(plan));
      return;
    }
    const r = await applyRelease(fx, c, plan);
    if (o.json) {
      out.out(JSON.stringify({ environment, ...r }, null, 2));
      return;
    }
    out.out(
      renderTable(
        ['SERVICE', 'REPLICAS', 'IMAGE'],
        r.services.map((s) => [s.name, s.replicas, s.image]),
      ),
    );
    out.out(
      `${environment}: ${r.version} deployed in ${Math.round(r.ms / 1000)} s${r.previous ? ` (was ${r.previous})` : ''}`,
    );
  });

  environmentOptions(
    cmd
      .command('log')
      .description("Show the environment's append-only audit log (on its manager).")
      .argument('<environment>', 'environment')
      .option('-n, --lines <n>', 'entries to show', '20')
      .option('--json', 'print the entries as JSON'),
  ).action(async (environment: string, o: EnvironmentFlags & { lines: string }) => {
    const { auditLog } = await import('../usecases/audit.js');
    const { c, fx, out } = await environmentContext(ctx, environment, o);
    const entries = await auditLog(fx, c, Number(o.lines));
    if (o.json) out.out(JSON.stringify(entries, null, 2));
    else
      out.out(
        renderTable(
          ['AT', 'ACTION', 'VERSION', 'RESULT', 'WHO', 'FROM'],
          entries.map((e) => [e.at, e.action, e.version ?? '', e.result, e.who, e.from]),
        ),
      );
  });

  environmentOptions(
    cmd
      .command('history')
      .description(
        'Show the running release and the releases kept on the manager (each can be rolled back to).',
      )
      .argument('<environment>', 'environment')
      .option('--json', 'print as JSON'),
  ).action(async (environment: string, o: EnvironmentFlags) => {
    const { releaseHistory } = await import('../usecases/audit.js');
    const { c, fx, out } = await environmentContext(ctx, environment, o);
    const h = await releaseHistory(fx, c);
    if (o.json) out.out(JSON.stringify({ environment, ...h }, null, 2));
    else
      out.out(
        renderTable(
          ['RELEASE', 'STATE'],
          [...h.kept].reverse().map((v) => [v, v === h.running ? 'running' : 'kept']),
        ),
      );
  });

  environmentOptions(
    cmd
      .command('unlock')
      .description('Break a stale deploy lock (recorded in the audit log).')
      .argument('<environment>', 'environment'),
  ).action(async (environment: string, o: EnvironmentFlags) => {
    const { breakLock } = await import('../usecases/audit.js');
    const { c, fx, out } = await environmentContext(ctx, environment, o);
    await breakLock(fx, c);
    out.out(`${environment}: deploy lock removed`);
  });
}

/** The plan as JSON: the same value apply executes, secret values left out (names and whether each exists). */
export function planJson(p: ReleasePlan) {
  return {
    ...p,
    build: p.build.map((i) => `${i.repository}:${i.tag}`),
    secrets: p.secrets.map(({ key, name, exists }) => ({ key, name, exists })),
  };
}

export function renderPlan(p: ReleasePlan): string {
  if (p.diff === '' && p.build.length === 0 && p.secrets.every((s) => s.exists))
    return `${p.environment}: ${p.version} is what runs; deploying it would change nothing`;
  const running = p.running ? `running: ${p.running}` : 'nothing running';
  return [
    `plan: ${p.action} ${p.version} to ${p.environment} (${running})`,
    ...p.steps.map((s, i) => `  ${i + 1}. ${s}`),
    ...(p.diff ? ['', p.diff.trimEnd()] : []),
  ].join('\n');
}
