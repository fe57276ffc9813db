import type { Command } from 'commander';
import type { HostStats } from '../provision/events.js';
import { paint } from '../report/output.js';
import { renderTable } from '../report/table.js';
import { type CliContext, examples } from './context.js';
import { type EnvironmentFlags, environmentOptions, specContext } from './environment.js';

export function summaryRows(stats: Record<string, HostStats>): string[][] {
  return Object.entries(stats).map(([host, s]) => [
    host,
    String(s.ok),
    String(s.changed),
    String(s.failures + s.unreachable),
    String(s.skipped),
  ]);
}

const changes = (stats: Record<string, HostStats>) => Object.values(stats).reduce((n, s) => n + s.changed, 0);

export function registerProvision(program: Command, ctx: CliContext): void {
  environmentOptions(
    program
      .command('provision')
      .description(
        'Harden and cluster the servers of environments with the shipped Ansible playbooks, in one run, servers in parallel.',
      )
      .argument('[environment...]', 'production, staging, qa, development, backup or jump (several allowed)'),
    'connects with it',
  )
    .option('--all', 'every environment the spec has, in one run')
    .option('--check', 'show what would change on servers already provisioned, change nothing')
    .option(
      '--tags <tags>',
      'only these roles (comma-separated): users, base, ssh, alerts, firewall, docker, swarm, backup, jump',
    )
    .option(
      '--server <names>',
      'only these servers of the environments (comma-separated), e.g. one rebuilt after a loss',
    )
    .option('--json', 'print the per-host summary as JSON')
    .addHelpText(
      'after',
      examples(
        ['crvs provision qa', 'provision the qa server'],
        ['crvs provision production --check', 'what would change on production'],
        ['crvs provision --all --check', 'drift of every environment, in one run'],
        ['crvs provision production --server prod-2', 'only the server rebuilt after a loss'],
        ['crvs provision production --tags users', 'apply a change of admins only'],
        [
          'crvs provision production staging backup jump --spec .crvs/lab/crvs.yaml --identity .crvs/lab/id_ed25519',
          'the lab',
        ],
      ),
    )
    .action(
      async (
        named: string[],
        o: EnvironmentFlags & { all?: boolean; check?: boolean; tags?: string; server?: string },
      ) => {
        const { environmentsToProvision, provision } = await import('../usecases/provision.js');
        const { parseTags } = await import('../provision/playbook.js');
        const tags = o.tags === undefined ? undefined : parseTags(o.tags);
        const { s, fx, out } = await specContext(ctx, o);
        const environments = environmentsToProvision(s.spec, named, o.all === true);
        out.err(
          paint(out, 'bold', `provisioning ${environments.join(', ')}${o.check ? ' (check mode)' : ''}`),
        );
        const results = await provision(fx, s, {
          environments,
          ...(o.check ? { check: true } : {}),
          ...(tags ? { tags } : {}),
          ...(o.server ? { servers: o.server.split(',') } : {}),
        });
        for (const r of results) {
          const environment = r.environment;
          if (r.enrolled.length && o.check)
            out.err(
              `check mode: a TOTP secret would be enrolled for ${r.enrolled.join(', ')} on ${environment}.`,
            );
          else if (r.enrolled.length)
            out.err(
              `TOTP enrolled for ${r.enrolled.join(', ')} on ${environment}: each admin scans their own code once with ` +
                `\`crvs secrets totp ${environment} <admin> --qr\` (or reads the otpauth URI without --qr).`,
            );
          if (!o.json) {
            out.out(renderTable(['HOST', 'OK', 'CHANGED', 'FAILED', 'SKIPPED'], summaryRows(r.stats)));
            const seconds = Math.round(r.ms / 1000);
            out.out(
              o.check
                ? `${environment}: checked in ${seconds} s, ${changes(r.stats)} change(s) would be made, nothing was changed\n`
                : `${environment}: provisioned in ${seconds} s\n`,
            );
          }
        }
        if (o.json)
          out.out(
            JSON.stringify(
              results.map(({ environment, stats, connectedAs, ms }) => ({
                environment,
                ...(o.check ? { check: true } : {}),
                stats,
                connectedAs,
                ms,
              })),
              null,
              2,
            ),
          );
      },
    );
}
