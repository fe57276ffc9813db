// Shared by the commands that act on one environment's stack: spec, identity, manager connection, executor.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { EnvironmentContext, ReleaseRun } from '../deploy/release.js';
import { defaultKnownHosts, managerFor } from '../deploy/target.js';
import { ProcessExecutor } from '../remote/executor.js';
import { type Output, paint } from '../report/output.js';
import { defaultIdentity } from '../secrets/store.js';
import { loadSpec } from '../config/load.js';
import type { CliContext } from './context.js';
import { SPEC_FLAG, SPEC_HELP, specPath } from './spec-option.js';

export interface EnvironmentFlags {
  spec?: string;
  identity?: string;
  knownHosts?: string;
  json?: boolean;
}

export function environmentOptions(cmd: Command): Command {
  return cmd
    .option(SPEC_FLAG, SPEC_HELP)
    .option(
      '--identity <key>',
      'SSH private key (default: $CRVS_IDENTITY or ~/.ssh/id_ed25519); also opens the secrets',
    )
    .option('--known-hosts <file>', 'pinned host keys (default: known_hosts next to the spec)');
}

export async function environmentContext(
  ctx: CliContext,
  environment: string,
  o: EnvironmentFlags,
): Promise<{ c: EnvironmentContext; run: ReleaseRun; out: Output }> {
  const out = ctx.output({ json: o.json ?? false });
  const specFile = specPath(ctx.io, o.spec);
  const { spec } = await loadSpec(specFile);
  const identity = o.identity ? resolve(ctx.io.cwd, o.identity) : defaultIdentity(ctx.io.env);
  const knownHosts = o.knownHosts ? resolve(ctx.io.cwd, o.knownHosts) : defaultKnownHosts(specFile);
  const manager = managerFor(spec, environment, { identity, knownHosts });
  const exec = new ProcessExecutor((e) => {
    if (ctx.verbose && e.type === 'start') out.err(paint(out, 'dim', `$ ${e.command.argv.join(' ')}`));
  });
  return {
    c: { spec, specFile, environment, identity, manager },
    run: { exec, progress: (line) => out.err(`${paint(out, 'cyan', `[${environment}]`)} ${line}`) },
    out,
  };
}
