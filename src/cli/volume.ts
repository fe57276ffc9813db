import type { Command } from 'commander';
import { CrvsError } from '../errors.js';
import { renderTable } from '../report/table.js';
import { type CliContext, examples } from './context.js';
import { type EnvironmentFlags, environmentOptions, specContext } from './environment.js';

export function registerVolume(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('volume')
    .description(
      "The encrypted data volume (/data) of an environment's data node: its state, and unlocking it after a reboot with the key from the secrets store.",
    )
    .addHelpText(
      'after',
      examples(
        ['crvs volume status production', 'unlocked, locked (after a reboot) or absent'],
        ['crvs volume unlock production', 'open it after a reboot: the stores start again by themselves'],
        ['crvs volume rekey production', 'a new DATA_VOLUME_KEY: the volume opens with it alone'],
      ),
    )
    .addHelpText(
      'after',
      "\nThe key (DATA_VOLUME_KEY) lives only in the environment's secrets store: a server that reboots keeps its\n" +
        'data locked, and its stores down, until someone who can open the store runs `crvs volume unlock`.\n',
    );

  environmentOptions(
    cmd
      .command('status')
      .description("Whether the data node's volume is unlocked, locked or not created yet.")
      .argument('<environment>', 'an application environment')
      .option('--json', 'print the state as JSON'),
  ).action(async (environment: string, o: EnvironmentFlags) => {
    const { volumeStatus } = await import('../usecases/volume.js');
    const { s, fx, out } = await specContext(ctx, o);
    const r = await volumeStatus(fx, s, environment);
    out.out(
      o.json
        ? JSON.stringify(r, null, 2)
        : renderTable(
            ['ENVIRONMENT', 'SERVER', 'ENCRYPTED', 'STATE', 'NEXT'],
            [[r.environment, r.server, r.encrypted ? 'yes' : 'no', r.state, r.action ?? '']],
          ),
    );
    if (r.state !== 'unlocked' && r.state !== 'plain')
      throw new CrvsError('E_DATA_VOLUME', `the data volume on ${r.server} is ${r.state}`, {
        hint: r.action ?? '',
      });
  });

  environmentOptions(
    cmd
      .command('unlock')
      .description(
        "Open the data node's encrypted volume with the key from the secrets store (after a reboot); nothing to do when it is open.",
      )
      .argument('<environment>', 'an application environment')
      .option('--json', 'print the result as JSON'),
  ).action(async (environment: string, o: EnvironmentFlags) => {
    const { unlockVolume } = await import('../usecases/volume.js');
    const { s, fx, out } = await specContext(ctx, o);
    const r = await unlockVolume(fx, s, environment);
    out.out(
      o.json
        ? JSON.stringify(r, null, 2)
        : r.opened
          ? `${environment}: the data volume on ${r.server} is unlocked; Swarm starts the stores again by itself within a minute`
          : `${environment}: the data volume on ${r.server} was already unlocked`,
    );
  });

  environmentOptions(
    cmd
      .command('rekey')
      .description(
        "Rotate DATA_VOLUME_KEY: a new key from node:crypto, learnt by the unlocked volume, saved in the secrets store, then the old key retired. The data is not re-encrypted (the volume's master key stays, wrapped by the new key).",
      )
      .argument('<environment>', 'an application environment')
      .option('--json', 'print the result as JSON'),
  ).action(async (environment: string, o: EnvironmentFlags) => {
    const { rekeyVolume } = await import('../usecases/volume.js');
    const { s, fx, out } = await specContext(ctx, o);
    const r = await rekeyVolume(fx, s, environment);
    out.out(
      o.json
        ? JSON.stringify({ environment, server: r.server, rotated: 'DATA_VOLUME_KEY' }, null, 2)
        : `${environment}: DATA_VOLUME_KEY rotated; the data volume on ${r.server} opens with the new key only`,
    );
  });
}
