import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { CrvsError, UsageError } from '../errors.js';
import { labAcmeDirectory } from '../lab/delivery.js';
import { DEFAULT_LAB_DIR, labPaths, readLabState } from '../lab/state.js';
import { DEFAULT_LAB_NAME, findServer } from '../lab/topology.js';
import { paint } from '../report/output.js';
import { renderTable } from '../report/table.js';
import { type CliContext, examples } from './context.js';

interface DirOption {
  dir?: string;
}

export function registerLab(program: Command, ctx: CliContext): void {
  const lab = program
    .command('lab')
    .description(
      'A local data center of real servers (containers with systemd, OpenSSH and Docker) to rehearse on.',
    )
    .addHelpText(
      'after',
      examples(
        ['crvs lab up', 'build and start the default lab (qa, production x2, staging, backup, jump)'],
        ['crvs lab status', 'servers, addresses, state'],
        ['crvs lab ssh prod-1', 'open a shell on a lab server'],
        ['crvs lab shape --rate 10mbit', "rehearse the seed's minimum link"],
        ['crvs lab stop prod-2', 'simulate a server failure'],
        ['crvs lab alerts', 'the SSH login alerts the lab received'],
        ['crvs lab mail', 'the e-mails the lab relay delivered'],
        ['crvs lab down', 'remove everything the lab created'],
      ),
    );

  const dirOf = (o: DirOption) => resolve(ctx.io.cwd, o.dir ?? ctx.io.env.CRVS_LAB_DIR ?? DEFAULT_LAB_DIR);
  const shown = (p: string) => relative(ctx.io.cwd, p) || p;
  const runner = (json = false) => {
    const out = ctx.output({ json });
    const fx = ctx.effects(out, (line) => out.err(`${paint(out, 'cyan', '[lab]')} ${line}`));
    return { out, run: { exec: fx.exec, progress: fx.progress, root: ctx.io.uid === 0 } };
  };
  const dirFlag = ['--dir <path>', 'lab state directory (default: $CRVS_LAB_DIR or .crvs/lab)'] as const;

  lab
    .command('up')
    .description('Build (or repair) the lab from a spec and write a ready-to-use spec for it. Idempotent.')
    .option('--spec <file>', 'lab spec (default: the embedded examples/lab/crvs.yaml)')
    .option('--name <name>', 'lab name: prefix of every container, volume and network', DEFAULT_LAB_NAME)
    .option(...dirFlag)
    .option(
      '--mirror <url>',
      'Debian mirror for the base image (default: $CRVS_DEBIAN_MIRROR or deb.debian.org)',
    )
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        ['crvs lab up', 'the default lab, state in .crvs/lab'],
        ['crvs lab up --spec mylab.yaml --name lab2 --dir .crvs/lab2', 'a second, independent lab'],
      ),
    )
    .action(async (o: DirOption & { spec?: string; name: string; mirror?: string; json?: boolean }) => {
      const { labUp } = await import('../lab/up.js');
      const { packagePath } = await import('../paths.js');
      const { out, run } = runner(o.json);
      const specFile = o.spec ? resolve(ctx.io.cwd, o.spec) : packagePath('examples', 'lab', 'crvs.yaml');
      const mirror = o.mirror ?? ctx.io.env.CRVS_DEBIAN_MIRROR;
      const r = await labUp(run, { specFile, name: o.name, dir: dirOf(o), ...(mirror ? { mirror } : {}) });
      const t = r.state.topology;
      if (o.json) {
        out.out(
          JSON.stringify(
            { ...r.state, spec: r.paths.spec, sshConfig: r.paths.sshConfig, created: r.created, ms: r.ms },
            null,
            2,
          ),
        );
        return;
      }
      out.out(
        renderTable(
          ['SERVER', 'ENVIRONMENT', 'ADDRESS'],
          t.servers.map((s) => [s.name, s.environment, s.address]),
        ),
      );
      out.out(
        [
          '',
          `lab ${t.name} ready in ${Math.round(r.ms / 1000)} s (${r.created.length ? `created ${r.created.length}` : 'nothing to change'})`,
          `  spec:        ${shown(r.paths.spec)}   (use: crvs <command> --spec ${shown(r.paths.spec)})`,
          `  ssh:         crvs lab ssh ${t.servers[0]?.name}   or   ssh -F ${shown(r.paths.sshConfig)} ${t.servers[0]?.name}`,
          `  registry:    ${t.services.address}:5000    DNS: ${t.services.address} (${t.domain})    apt cache: ${t.services.address}:3142`,
          `  ACME CA:     ${labAcmeDirectory(t.domain)}   (trust ${shown(r.paths.ca)}; DNS updates: ${shown(r.paths.dnsUpdateKey)})`,
        ].join('\n'),
      );
    });

  lab
    .command('status')
    .description('Servers of the lab, their addresses and state.')
    .option(...dirFlag)
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples(['crvs lab status --json', 'machine-readable']))
    .action(async (o: DirOption & { json?: boolean }) => {
      const { labStatus } = await import('../lab/ops.js');
      const { out, run } = runner(o.json);
      const { state, servers } = await labStatus(run.exec, labPaths(dirOf(o)));
      if (o.json) {
        out.out(
          JSON.stringify({ name: state.topology.name, shaping: state.shaping ?? null, servers }, null, 2),
        );
        return;
      }
      out.out(
        renderTable(
          ['SERVER', 'ENVIRONMENT', 'ADDRESS', 'STATE', 'SSH'],
          servers.map((s) => [
            s.name,
            s.environment,
            s.address,
            s.state,
            s.environment === 'lab' ? '-' : s.ssh,
          ]),
        ),
      );
      if (state.shaping) out.out(`\nlinks shaped to ${state.shaping.rate}`);
    });

  lab
    .command('ssh')
    .description(
      'Open an SSH session (or run a command) on a lab server with the lab key, as the account it accepts now.',
    )
    .argument('<server>', 'server name, e.g. prod-1')
    .argument('[command...]', 'command to run instead of a shell')
    .option(...dirFlag)
    .option(
      '--user <user>',
      "log in as this user (default: the spec's first admin once provisioned, else admin)",
    )
    .addHelpText(
      'after',
      examples(
        ['crvs lab ssh qa-1', 'a shell'],
        ['crvs lab ssh prod-1 -- docker node ls', 'one command'],
      ).concat(
        '\nOn production and staging the admin also needs a TOTP code: the lab types it from its own store.\n',
      ),
    )
    .action(async (server: string, command: string[], o: DirOption & { user?: string }) => {
      const { labLogin } = await import('../lab/login.js');
      const { runInteractive } = await import('../remote/interactive.js');
      const paths = labPaths(dirOf(o));
      const s = findServer((await readLabState(paths)).topology, server);
      const { run, out } = runner();
      const login = await labLogin(run.exec, paths, s, {
        ...(o.user ? { user: o.user } : {}),
        now: ctx.io.now ?? (() => new Date()),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        say: (line) => out.err(`${paint(out, 'cyan', '[lab]')} ${line}`),
      });
      try {
        const code = await runInteractive(
          ['ssh', '-F', paths.sshConfig, '-l', login.user, s.name, ...command],
          {
            ...ctx.io.env,
            ...login.env,
          },
        );
        if (code !== 0) throw new CrvsError('E_SSH', `ssh to ${s.name} as ${login.user} exited with ${code}`);
      } finally {
        await login.cleanUp();
      }
    });

  lab
    .command('shape')
    .description(
      "Limit every lab server's link (both directions) to a rate, e.g. the seed's 10 Mbit/s minimum.",
    )
    .option('--rate <rate>', 'rate in kbit, mbit or gbit, e.g. 10mbit')
    .option('--clear', 'remove the limit')
    .option(...dirFlag)
    .addHelpText(
      'after',
      examples(
        ['crvs lab shape --rate 10mbit', 'a 10 Mbit/s link'],
        ['crvs lab shape --clear', 'full speed'],
      ),
    )
    .action(async (o: DirOption & { rate?: string; clear?: boolean }) => {
      if (Boolean(o.rate) === Boolean(o.clear))
        throw new UsageError('give exactly one of --rate <rate> or --clear');
      const { labShape } = await import('../lab/ops.js');
      const { run } = runner();
      await labShape(run, labPaths(dirOf(o)), o.clear ? undefined : o.rate);
    });

  for (const [verb, what] of [
    ['stop', 'Stop a lab server, as if it lost power (simulate a failure).'],
    ['start', 'Start a stopped lab server again and wait for SSH.'],
  ] as const) {
    lab
      .command(verb)
      .description(what)
      .argument('<server>', 'server name, e.g. prod-2')
      .option(...dirFlag)
      .addHelpText(
        'after',
        examples([`crvs lab ${verb} prod-2`, verb === 'stop' ? 'the worker fails' : 'it comes back']),
      )
      .action(async (server: string, o: DirOption) => {
        const { labStart, labStop } = await import('../lab/ops.js');
        const { run } = runner();
        const paths = labPaths(dirOf(o));
        await (verb === 'stop' ? labStop(run, paths, server) : labStart(run, paths, server));
      });
  }

  lab
    .command('alerts')
    .description(
      "Alerts the lab's receiver got (it stands in for the country's webhook at http://<services>:9000/): " +
        "SSH logins, failed backup and restore units, and the servers' disk and CPU alerts, oldest first.",
    )
    .option('--last <n>', 'only the last n alerts', (v) => Number.parseInt(v, 10))
    .option(...dirFlag)
    .option('--json', 'print the alerts as JSON')
    .addHelpText(
      'after',
      examples(
        ['crvs lab alerts', 'who logged in where, as the technical staff would be told'],
        ['crvs lab alerts --last 5 --json', 'the last five, machine-readable'],
      ),
    )
    .action(async (o: DirOption & { last?: number; json?: boolean }) => {
      if (o.last !== undefined && !(o.last > 0)) throw new UsageError('--last takes a positive number');
      const { alertText, labAlerts } = await import('../lab/ops.js');
      const { out, run } = runner(o.json);
      const all = await labAlerts(run.exec, labPaths(dirOf(o)));
      const alerts = o.last ? all.slice(-o.last) : all;
      if (o.json) {
        out.out(JSON.stringify(alerts, null, 2));
        return;
      }
      if (!alerts.length) {
        out.out('no alerts received yet (alerts start once servers are provisioned with the lab webhook)');
        return;
      }
      out.out(
        renderTable(
          ['RECEIVED', 'FROM', 'PATH', 'ALERT'],
          alerts.map((a) => [a.received, a.from, a.path, alertText(a)]),
        ),
      );
    });

  lab
    .command('mail')
    .description(
      "E-mails the lab's relay (mail.<domain>, submission on 587 with STARTTLS and an account) delivered to " +
        'addresses of the lab domain, oldest first: login, backup, monitor and doctor alerts sent by e-mail.',
    )
    .option('--last <n>', 'only the last n messages', (v) => Number.parseInt(v, 10))
    .option('--to <address>', 'only messages to this address')
    .option('--body', 'print each message with its text')
    .option(...dirFlag)
    .option('--json', 'print the messages, with their text, as JSON')
    .addHelpText(
      'after',
      examples(
        ['crvs lab mail', 'what the technical staff would have read'],
        ['crvs lab mail --to ops@lab.crvs.test --last 1 --body', 'the newest message to ops, in full'],
      ),
    )
    .action(async (o: DirOption & { last?: number; to?: string; body?: boolean; json?: boolean }) => {
      if (o.last !== undefined && !(o.last > 0)) throw new UsageError('--last takes a positive number');
      const { labMail } = await import('../lab/ops.js');
      const { out, run } = runner(o.json);
      const to = o.to?.toLowerCase();
      const all = (await labMail(run.exec, labPaths(dirOf(o)))).filter(
        (m) => !to || m.to.some((a) => a.toLowerCase().includes(to)),
      );
      const messages = o.last ? all.slice(-o.last) : all;
      if (o.json) {
        out.out(JSON.stringify(messages, null, 2));
        return;
      }
      if (!messages.length) {
        out.out('no mail delivered yet (mail starts once servers are provisioned with the lab relay)');
        return;
      }
      if (o.body) {
        for (const m of messages)
          out.out(
            `Received: ${m.received}\nFrom: ${m.from}\nTo: ${m.to.join(', ')}\nSubject: ${m.subject}\n\n${m.body.trimEnd()}\n`,
          );
        return;
      }
      out.out(
        renderTable(
          ['RECEIVED', 'FROM', 'TO', 'SUBJECT'],
          messages.map((m) => [m.received, m.from, m.to.join(', '), m.subject]),
        ),
      );
    });

  lab
    .command('down')
    .description(
      'Remove every container, volume and network of the lab, and its state directory. Images stay cached.',
    )
    .option('--name <name>', 'lab to remove when its state is gone (default: the lab recorded in --dir)')
    .option(...dirFlag)
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples(['crvs lab down', 'remove the default lab']))
    .action(async (o: DirOption & { name?: string; json?: boolean }) => {
      const { labDown } = await import('../lab/ops.js');
      const { out, run } = runner(o.json);
      const paths = labPaths(dirOf(o));
      // Never guess for a directory the user named: without its state file the lab must be named explicitly.
      const defaultDir = !o.dir && !ctx.io.env.CRVS_LAB_DIR;
      const name =
        o.name ??
        (await readLabState(paths).then(
          (s) => s.topology.name,
          (e: unknown) => {
            if (defaultDir) return DEFAULT_LAB_NAME;
            throw e;
          },
        ));
      const r = await labDown(run, paths, name);
      if (o.json) out.out(JSON.stringify({ name, removed: r }, null, 2));
      else
        out.out(
          `lab ${name} removed: ${r.containers} container(s), ${r.volumes} volume(s), ${r.networks} network(s)`,
        );
    });
}
