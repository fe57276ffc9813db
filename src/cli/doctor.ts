import { type Command, InvalidArgumentError } from 'commander';
import { CrvsError } from '../errors.js';
import { renderTable } from '../report/table.js';
import { type CliContext, examples } from './context.js';
import { type EnvironmentFlags, environmentOptions, specContext } from './environment.js';

interface DoctorFlags extends EnvironmentFlags {
  resolver?: string;
  linkMb: number;
  checklist?: boolean;
  sendTestTo?: string;
}

const address = (v: string) => {
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) throw new InvalidArgumentError('an e-mail address');
  return v;
};

const megabytes = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 256)
    throw new InvalidArgumentError('a number of MiB from 0 to 256');
  return n;
};

export function registerDoctor(program: Command, ctx: CliContext): void {
  environmentOptions(
    program
      .command('doctor')
      .description(
        "Check the deployment guide's requirements on the servers as they are: CPU, memory, disk, architecture, OS and clock against `crvs plan`; the link; egress; DNS; TLS; the SMTP relay; disk use and when it fills; backups and restore drills.",
      )
      .argument('[environments...]', 'environments to check (default: every one the spec defines)')
      .option('--resolver <address>', "ask this DNS server (address or address:port) instead of the system's")
      .option(
        '--link-mb <n>',
        'MiB of random data sent to time the link to each environment; 0 skips it',
        megabytes,
        4,
      )
      .option(
        '--send-test-to <address>',
        'send a test message through the SMTP relay, from a server of each environment checked',
        address,
      )
      .option('--checklist', "also print the guide's data-centre requirements, which a person confirms")
      .option('--json', 'print the reports as JSON')
      .addHelpText(
        'after',
        examples(
          ['crvs doctor', 'every environment of the spec'],
          ['crvs doctor production --json', 'one environment, as JSON (exit 1 when a requirement fails)'],
          ['crvs doctor qa --link-mb 0', 'without timing the link'],
          ['crvs doctor production --send-test-to ops@gov.example', 'and a test e-mail through the relay'],
          ['crvs doctor --checklist', "with the data centre's items a person confirms"],
        ),
      )
      .addHelpText(
        'after',
        '\nEach server keeps a disk sample per run (/var/lib/crvs/doctor/disk.log): from a run a day or more later,\n' +
          'doctor reports the growth and the date the disk is full at that rate, wherever it runs from.\n',
      ),
    'the key crvs logs in with',
  ).action(async (environments: string[], o: DoctorFlags) => {
    const { doctor } = await import('../usecases/doctor.js');
    const { DATA_CENTRE_CHECKLIST } = await import('../doctor/verdicts.js');
    const { nodeLookup } = await import('../dns/resolver.js');
    const { s, fx, out } = await specContext(ctx, o);
    const { readCertificate } = await import('../doctor/tls.js');
    const reports = await doctor(fx, s, environments, {
      linkBytes: Math.round(o.linkMb * 1024 * 1024),
      ...(o.sendTestTo ? { sendTestTo: o.sendTestTo } : {}),
      dns: nodeLookup(o.resolver),
      certificate: (address, port, name) => readCertificate(address, port, name),
    });
    if (o.json)
      out.out(JSON.stringify(o.checklist ? { reports, checklist: DATA_CENTRE_CHECKLIST } : reports, null, 2));
    else {
      for (const r of reports) {
        out.out(`${r.environment}: ${r.status}`);
        out.out(
          renderTable(
            ['CHECK', 'SUBJECT', 'STATUS', 'DETAIL'],
            r.findings.map((f) => [f.check, f.subject, f.status, f.detail]),
          ),
        );
        const todo = r.findings.filter((f) => f.action);
        if (todo.length)
          out.out(['to do:', ...todo.map((f) => `  ${f.subject} (${f.check}): ${f.action}`)].join('\n'));
        out.out('');
      }
      if (o.checklist)
        out.out(
          [
            'Confirm in person (no command can see these):',
            ...DATA_CENTRE_CHECKLIST.map((item) => `  [ ] ${item}`),
          ].join('\n'),
        );
    }
    const failing = reports.filter((r) => r.status === 'fail');
    if (failing.length)
      throw new CrvsError(
        'E_DOCTOR',
        `${failing.map((r) => r.environment).join(', ')}: ${
          failing.flatMap((r) => r.findings.filter((f) => f.status === 'fail')).length
        } requirement(s) not met`,
        { hint: 'see "to do" under each environment' },
      );
  });
}
