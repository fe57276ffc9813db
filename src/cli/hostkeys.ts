import type { Command } from 'commander';
import { CrvsError, UsageError } from '../errors.js';
import { renderTable } from '../report/table.js';
import { type CliContext, examples } from './context.js';
import { type EnvironmentFlags, environmentOptions, specContext } from './environment.js';

export function registerHostkeys(program: Command, ctx: CliContext): void {
  environmentOptions(
    program
      .command('hostkeys')
      .description(
        "The SSH host keys each server presents on a first contact, beside the spec's pinned ones (servers[].hostKeys); --write pins them.",
      )
      .argument('[environments...]', 'environments to contact (default: every one in the spec)')
      .option('--write', 'write the keys of servers that pin none yet into the spec, after you confirm them')
      .option('--yes', 'confirm without asking (you compared the fingerprints with the servers yourself)')
      .option('--json', 'print the keys as JSON')
      .addHelpText(
        'after',
        examples(
          ['crvs hostkeys', "every server's key and fingerprint, and whether the spec pins it"],
          [
            'crvs hostkeys production --write',
            "pin production's keys once you have compared the fingerprints with the servers' consoles",
          ],
          ['crvs hostkeys --json', 'the same, for a script'],
        ),
      )
      .addHelpText(
        'after',
        '\nA pinned server is reached only if it proves one of its keys: crvs and CI refuse it before authenticating\n' +
          'otherwise (E_HOST_KEY). Compare fingerprints out of band: `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`\n' +
          "on the server's console, or the provider's boot log.\n",
      ),
    'only to open a tunnel through the jump host, when the spec has one',
  ).action(async (names: string[], o: EnvironmentFlags & { write?: boolean; yes?: boolean }) => {
    const { scanHostKeys, withHostKeys, allPinned } = await import('../usecases/hostkeys.js');
    const { readFile, writeFile } = await import('node:fs/promises');
    const { s, fx, out } = await specContext(ctx, o);
    const rows = await scanHostKeys(fx, s, names);
    out.out(
      o.json
        ? JSON.stringify(rows, null, 2)
        : renderTable(
            ['ENVIRONMENT', 'SERVER', 'ADDRESS', 'TYPE', 'FINGERPRINT', 'SPEC'],
            rows.map((r) => [
              r.environment,
              r.server,
              r.port === 22 ? r.address : `${r.address}:${r.port}`,
              r.key.split(' ')[0] ?? '',
              r.fingerprint || r.detail || '',
              r.status,
            ]),
          ),
    );
    const differs = rows.filter((r) => r.status === 'differs' || r.status === 'unreachable');
    if (o.write) {
      const { text, written } = withHostKeys(await readFile(s.specFile, 'utf8'), rows);
      if (!written.length) out.err('every server reached already pins its keys: the spec is unchanged');
      else {
        if (!o.yes) {
          if (!ctx.io.interactive)
            throw new UsageError(
              `pinning trusts these fingerprints from now on; confirm with --yes when no one can type`,
            );
          const { confirm } = await import('@inquirer/prompts');
          const ok = await confirm({
            message: `Do these fingerprints match what ${written.join(', ')} show on their own consoles?`,
            default: false,
          });
          if (!ok) throw new UsageError('not confirmed; the spec is unchanged');
        }
        await writeFile(s.specFile, text);
        out.err(`pinned the host keys of ${written.join(', ')} in ${s.specFile}`);
      }
    }
    const mismatched = differs.filter((r) => r.status === 'differs');
    const unreachable = differs.filter((r) => r.status === 'unreachable');
    if (mismatched.length)
      throw new CrvsError(
        'E_HOST_KEY',
        [
          ...mismatched.map((r) => `${r.server} presents ${r.fingerprint}, which the spec does not pin`),
          ...unreachable.map((r) => `${r.server} could not be reached: ${r.detail}`),
        ].join('; '),
        {
          hint: 'a server rebuilt on purpose: replace its hostKeys in the spec with the key above, once you have checked it; anything else: stop and find out who answers',
        },
      );
    if (unreachable.length)
      throw new CrvsError(
        'E_SSH',
        unreachable.map((r) => `${r.server} could not be reached: ${r.detail}`).join('; '),
        {
          hint: 'check the address and port in the spec, the jump host, and the key crvs uses (--identity)',
        },
      );
    if (!o.write && !allPinned(rows))
      out.err(
        'servers marked unpinned trust the first key seen; pin them with --write once you have compared the fingerprints',
      );
  });
}
