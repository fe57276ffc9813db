import type { Command } from 'commander';
import { environmentDomain, serversOf } from '../config/environment.js';
import { CrvsError, NotFoundError, UsageError } from '../errors.js';
import { renderTable } from '../report/table.js';
import type { SecretDef } from '../secrets/catalogue.js';
import type { SecretsContext } from '../secrets/manage.js';
import { type CliContext, examples } from './context.js';
import { specContext } from './environment.js';
import { SPEC_FLAG, SPEC_HELP } from './spec-option.js';

interface Flags {
  spec?: string;
  identity?: string;
  json?: boolean;
}

export function registerSecrets(program: Command, ctx: CliContext): void {
  const secrets = program
    .command('secrets')
    .description("Each environment's encrypted secrets store (age, to the admins' SSH keys and the CI key).")
    .addHelpText(
      'after',
      examples(
        ['crvs secrets init production', 'generate every secret, ask for the rest'],
        ['crvs secrets list production', 'names, dates, fingerprints; never values'],
        ['crvs secrets get production SUPER_USER_PASSWORD', 'one value, to stdout'],
        ['printf %s "$TOKEN" | crvs secrets set production REGISTRY_TOKEN', 'a value from stdin'],
        ['crvs secrets totp production amina --qr', "an admin's SSH TOTP enrolment, as a QR code"],
      ),
    );
  const context = async (environment: string, o: Flags): Promise<SecretsContext> => {
    const { s, fx } = await specContext(ctx, o);
    serversOf(s.spec, environment);
    return { exec: fx.exec, spec: s.spec, specFile: s.specFile, environment, identity: s.identity };
  };
  const sub = (name: string, description: string) =>
    secrets
      .command(name)
      .description(description)
      .argument('<environment>', 'environment')
      .option(SPEC_FLAG, SPEC_HELP)
      .option(
        '--identity <key>',
        'SSH private key that opens the store (default: $CRVS_IDENTITY or ~/.ssh/id_ed25519)',
      );

  sub(
    'init',
    'Generate every secret the stack needs; take the rest from $CRVS_SECRET_<NAME> or a hidden prompt.',
  )
    .option('--json', 'print the result as JSON')
    .action(async (environment: string, o: Flags) => {
      const { initSecrets, openStore } = await import('../secrets/manage.js');
      const out = ctx.output({ json: o.json ?? false });
      const c = await context(environment, o);
      const ask = async (def: SecretDef) => {
        const fromEnv = ctx.io.env[`CRVS_SECRET_${def.name}`];
        if (fromEnv) return fromEnv;
        if (!ctx.io.interactive) return undefined;
        const { password } = await import('@inquirer/prompts');
        const v = await password({
          message: `${def.name} (${def.description})${def.optional ? ', empty to skip' : ''}:`,
          mask: '*',
        });
        return v || undefined;
      };
      const r = await initSecrets(c, ask);
      if (o.json) out.out(JSON.stringify({ environment, ...r }, null, 2));
      else
        out.out(
          `${environment}: ${r.generated.length} generated, ${r.supplied.length} supplied${r.missingOptional.length ? `, optional and not set: ${r.missingOptional.join(', ')}` : ''}; store: ${openStore(c).file}`,
        );
    });

  sub('list', 'Names, when each was set and a fingerprint; never values.')
    .option('--json', 'print as JSON')
    .action(async (environment: string, o: Flags) => {
      const { openStore, secretRows } = await import('../secrets/manage.js');
      const out = ctx.output({ json: o.json ?? false });
      const c = await context(environment, o);
      const rows = secretRows(c, await openStore(c).load(c.identity));
      if (o.json) out.out(JSON.stringify(rows, null, 2));
      else
        out.out(
          renderTable(
            ['NAME', 'STATUS', 'SOURCE', 'SET AT', 'FINGERPRINT'],
            rows.map((r) => [r.name, r.status, r.source, r.setAt ?? '-', r.fingerprint ?? '-']),
          ),
        );
    });

  sub('check', 'Every secret the stack needs is present and well-formed (exit 1 otherwise).')
    .option('--json', 'print as JSON')
    .action(async (environment: string, o: Flags) => {
      const { openStore, secretRows } = await import('../secrets/manage.js');
      const out = ctx.output({ json: o.json ?? false });
      const c = await context(environment, o);
      const bad = secretRows(c, await openStore(c).load(c.identity)).filter(
        (r) => r.status === 'missing' || r.status === 'malformed',
      );
      if (o.json)
        out.out(
          JSON.stringify(
            {
              environment,
              ok: bad.length === 0,
              problems: bad.map((b) => ({ name: b.name, status: b.status })),
            },
            null,
            2,
          ),
        );
      if (bad.length)
        throw new CrvsError(
          'E_SECRETS_CHECK',
          `${environment}: ${bad.map((b) => `${b.name} ${b.status}`).join(', ')}`,
          {
            hint: `crvs secrets init ${environment}`,
          },
        );
      if (!o.json) out.out(`${environment}: every secret the stack needs is present and well-formed`);
    });

  sub('get', 'Print one secret value to stdout (and nowhere else).')
    .argument('<name>', 'secret name')
    .action(async (environment: string, name: string, o: Flags) => {
      const { openStore } = await import('../secrets/manage.js');
      const c = await context(environment, o);
      const s = (await openStore(c).load(c.identity)).get(name);
      if (!s) throw new NotFoundError('secret', name, environment, `crvs secrets list ${environment}`);
      ctx.io.stdout(`${s.value.reveal()}\n`);
    });

  sub('totp', "Show an admin's SSH TOTP enrolment link (otpauth URI, or a QR code with --qr) to that admin.")
    .argument('<admin>', 'admin name from crvs.yaml')
    .option('--qr', 'draw a QR code on the terminal (needs qrencode: apt-get install qrencode)')
    .action(async (environment: string, admin: string, o: Flags & { qr?: boolean }) => {
      const { openStore } = await import('../secrets/manage.js');
      const { totpSecretName } = await import('../secrets/catalogue.js');
      const { otpauthUri } = await import('../secrets/totp.js');
      const c = await context(environment, o);
      if (!c.spec.admins.some((a) => a.name === admin && a.state === 'present'))
        throw new NotFoundError('admin', admin, 'the spec', 'present admins can be enrolled');
      const s = (await openStore(c).load(c.identity)).get(totpSecretName(admin));
      if (!s)
        throw new NotFoundError(
          'secret',
          totpSecretName(admin),
          environment,
          `${admin} has no TOTP secret yet: crvs provision ${environment} enrols every present admin of production and staging`,
        );
      const domain = environmentDomain(c.spec.domain, environment);
      const uri = otpauthUri({ environment, admin, domain }, s.value);
      if (o.qr) {
        // The URI goes to qrencode on stdin, never on its command line.
        const r = await c.exec.run({
          argv: ['qrencode', '-t', 'ansiutf8'],
          stdin: uri,
          secretOutput: true,
          description: 'draw the QR code',
        });
        ctx.io.stdout(r.stdout);
      } else ctx.io.stdout(`${uri.reveal()}\n`);
    });

  sub('set', 'Set a value from stdin (or a hidden prompt on a terminal); never from the command line.')
    .argument('<name>', 'secret name')
    .action(async (environment: string, name: string, o: Flags) => {
      const { setSecret } = await import('../secrets/manage.js');
      const c = await context(environment, o);
      const value = ctx.io.interactive
        ? await (await import('@inquirer/prompts')).password({ message: `${name}:`, mask: '*' })
        : (await (ctx.io.readStdin?.() ?? Promise.resolve(''))).replace(/\r?\n$/, '');
      if (!value) throw new UsageError(`no value for ${name} on stdin`);
      await setSecret(c, name, value);
      ctx.output().out(`${environment}: ${name} set`);
    });

  sub('rotate', 'Generate a new value for a generated secret and say which services to redeploy.')
    .argument('<name>', 'secret name')
    .action(async (environment: string, name: string, o: Flags) => {
      const { rotateSecret } = await import('../secrets/manage.js');
      const consumers = await rotateSecret(await context(environment, o), name);
      ctx
        .output()
        .out(
          consumers.includes('backup')
            ? `${environment}: ${name} rotated; provision to apply (the backup server authorizes the new key): crvs provision ${environment} backup`
            : `${environment}: ${name} rotated; redeploy to apply (services: ${consumers.join(', ')}): crvs deploy ${environment}`,
        );
    });

  sub(
    'reencrypt',
    "Encrypt the store again to the spec's current admins and CI key (after adding or removing one).",
  ).action(async (environment: string, o: Flags) => {
    const { reencrypt } = await import('../secrets/manage.js');
    const n = await reencrypt(await context(environment, o));
    ctx.output().out(`${environment}: store encrypted to ${n} key(s)`);
  });
}
