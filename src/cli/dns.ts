import type { Command } from 'commander';
import { CrvsError } from '../errors.js';
import { renderTable } from '../report/table.js';
import { type CliContext, examples } from './context.js';
import { specContext } from './environment.js';
import { SPEC_FLAG, SPEC_HELP } from './spec-option.js';

export function registerDns(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('dns')
    .description(
      'The DNS records an environment needs (every name its stack answers, pointing at its servers), and whether they resolve.',
    )
    .addHelpText(
      'after',
      examples(
        ['crvs dns plan production', 'the records to create, as a table'],
        ['crvs dns plan production --zone', 'the same as a zone-file fragment'],
        [
          'crvs dns check production',
          'ask the system resolver for each; exit 1 when one is missing or wrong',
        ],
        ['crvs dns check qa --resolver 10.77.0.2', "ask the lab's DNS server"],
      ),
    );

  cmd
    .command('plan')
    .description('List the records the environment needs: one A record per server for each name.')
    .argument('<environment>', 'an application environment (production, staging, qa, development)')
    .option(SPEC_FLAG, SPEC_HELP)
    .option('--zone', 'print a zone-file fragment')
    .option('--json', 'print the plan as JSON')
    .action(async (environment: string, o: { spec?: string; zone?: boolean; json?: boolean }) => {
      const { planDns } = await import('../usecases/dns.js');
      const { renderZone } = await import('../dns/plan.js');
      const { s, out } = await specContext(ctx, o);
      const plan = planDns(s, environment);
      if (o.json) return out.out(JSON.stringify(plan, null, 2));
      if (o.zone) return out.out(renderZone(plan).trimEnd());
      out.out(
        renderTable(
          ['NAME', 'TYPE', 'VALUE'],
          plan.records.flatMap((r) => r.values.map((v) => [r.name, r.type, v])),
        ),
      );
      if (plan.certificateAuthority)
        out.out(
          `\nCAA, if ${plan.domain} or a parent has any: 0 issue "${plan.certificateAuthority}" among them`,
        );
    });

  cmd
    .command('check')
    .description(
      'Resolve every record of the plan; report missing and wrong ones and a CAA set that forbids the CA.',
    )
    .argument('<environment>', 'an application environment')
    .option(SPEC_FLAG, SPEC_HELP)
    .option('--resolver <address>', "ask this DNS server (address or address:port) instead of the system's")
    .option('--json', 'print the findings as JSON')
    .action(async (environment: string, o: { spec?: string; resolver?: string; json?: boolean }) => {
      const { checkEnvironmentDns } = await import('../usecases/dns.js');
      const { nodeLookup } = await import('../dns/resolver.js');
      const { s, out } = await specContext(ctx, o);
      const r = await checkEnvironmentDns(s, environment, nodeLookup(o.resolver));
      out.out(
        o.json
          ? JSON.stringify(r, null, 2)
          : renderTable(
              ['NAME', 'STATUS', 'DETAIL'],
              r.findings.map((f) => [f.name, f.status, f.detail]),
            ),
      );
      const bad = r.findings.filter((f) => f.status !== 'ok');
      if (bad.length)
        throw new CrvsError(
          'E_DNS',
          `${bad.length} of ${r.findings.length} names of ${environment} do not resolve as planned`,
          { hint: `crvs dns plan ${environment} --zone gives the records to create` },
        );
    });
}
