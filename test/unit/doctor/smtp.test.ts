import { describe, expect, it } from 'vitest';
import { parseSmtp, type SmtpSettings, smtpCommand, smtpFindings } from '../../../src/doctor/smtp.js';
import type { RemoteHost } from '../../../src/remote/host.js';

// The verdicts of doctor's SMTP check, from recorded probe answers; the probe itself runs against the lab's
// Postfix in test/integration/doctor.test.ts.
const settings: SmtpSettings = {
  host: 'mail.lab.crvs.test',
  port: 587,
  secure: false,
  sender: 'noreply@lab.crvs.test',
  username: 'alerts@lab.crvs.test',
  password: 'canary-smtp-password-7f3a',
  ca: '',
  probeTo: 'ops@lab.crvs.test',
  sendTo: '',
  origin: 'Sent by crvs doctor from qa-1 (qa).',
};
const steps = (...lines: object[]) => parseSmtp(lines.map((l) => JSON.stringify(l)).join('\n'));
const find = (s: Partial<SmtpSettings>, ...lines: object[]) =>
  smtpFindings('qa', 'qa-1', { ...settings, ...s }, steps(...lines)).map((f) => [
    f.status,
    f.detail,
    f.action,
  ]);

describe('doctor: the SMTP relay', () => {
  it('a relay that answers, verifies, takes the credentials and the alert address: four passes', () => {
    expect(
      find(
        {},
        { step: 'connect', ok: true, detail: 'answers' },
        { step: 'tls', ok: true, detail: 'STARTTLS, TLSv1.3', issuer: 'crvs lab crvs-lab CA', days: 397 },
        { step: 'auth', ok: true, detail: 'accepted' },
        { step: 'accept', ok: true, detail: '250 2.1.5 Ok' },
      ),
    ).toEqual([
      ['ok', 'from qa-1: the relay answers', undefined],
      ['ok', 'from qa-1: STARTTLS, TLSv1.3, certificate by crvs lab crvs-lab CA, 397 days left', undefined],
      ['ok', "from qa-1: the store's credentials were accepted", undefined],
      ['ok', 'from qa-1: takes mail for ops@lab.crvs.test (nothing sent)', undefined],
    ]);
  });

  it('no STARTTLS: fails with credentials (they are never sent in clear), warns without', () => {
    const line = { step: 'tls', ok: false, detail: 'no STARTTLS offered' };
    expect(find({}, { step: 'connect', ok: true, detail: 'answers' }, line)[1]?.slice(0, 2)).toEqual([
      'fail',
      'from qa-1: the relay offers no STARTTLS: crvs does not send the credentials in clear, so no alert e-mail leaves',
    ]);
    expect(find({ username: '' }, line)[0]?.slice(0, 2)).toEqual([
      'warn',
      'from qa-1: the relay offers no STARTTLS: alert e-mails travel unencrypted',
    ]);
  });

  it('an untrusted certificate names smtp.ca; one that ends in under 21 days warns', () => {
    const bad = { step: 'tls', ok: false, detail: 'STARTTLS: unable to get local issuer certificate' };
    expect(find({}, bad)).toEqual([
      [
        'fail',
        "from qa-1: the relay's certificate is not trusted: STARTTLS: unable to get local issuer certificate",
        'set smtp.ca to the PEM of the CA that signs the relay certificate',
      ],
    ]);
    expect(find({ ca: '-----BEGIN CERTIFICATE-----' }, bad)[0]?.[2]).toBe(
      'smtp.ca must be the CA that signs the relay certificate for this host name',
    );
    expect(
      find({}, { step: 'tls', ok: true, detail: 'implicit TLSv1.3', issuer: 'R11', days: 9 })[0]?.[0],
    ).toBe('warn');
  });

  it('refused credentials say which secrets to set; a refused recipient and a failed send fail', () => {
    expect(find({}, { step: 'auth', ok: false, detail: '535 5.7.8 Error: authentication failed' })).toEqual([
      [
        'fail',
        'from qa-1: the relay refused the credentials: 535 5.7.8 Error: authentication failed',
        'crvs secrets set qa SMTP_USERNAME / SMTP_PASSWORD (the names smtp.usernameSecret and smtp.passwordSecret give)',
      ],
    ]);
    expect(
      find({ username: '' }, { step: 'accept', ok: false, detail: '554 5.7.1 Relay access denied' }),
    ).toEqual([
      [
        'fail',
        'from qa-1: refuses mail for ops@lab.crvs.test: 554 5.7.1 Relay access denied',
        'the relay may need credentials: set them in the store',
      ],
    ]);
    expect(
      find({ sendTo: 'x@lab.crvs.test' }, { step: 'send', ok: true, detail: 'x@lab.crvs.test' }),
    ).toEqual([['ok', 'from qa-1: test message sent to x@lab.crvs.test', undefined]]);
  });

  it('an unreachable relay, and a probe that never ran, fail with the reason', () => {
    expect(find({}, { step: 'connect', ok: false, detail: '[Errno 111] Connection refused' })[0]).toEqual([
      'fail',
      'from qa-1: cannot reach the relay: [Errno 111] Connection refused',
      'let qa-1 reach mail.lab.crvs.test:587, or fix smtp.host',
    ]);
    expect(
      smtpFindings(
        'qa',
        'qa-1',
        settings,
        parseSmtp('{"step": "conn'),
        'bash: line 1: python3: command not found\n',
      ),
    ).toEqual([
      {
        environment: 'qa',
        check: 'smtp',
        subject: 'mail.lab.crvs.test:587',
        status: 'fail',
        detail: 'from qa-1: the check did not run: bash: line 1: python3: command not found',
        action: 'see the message',
      },
    ]);
  });

  it('the password reaches the server on stdin, never on the command line', () => {
    const host = {
      environment: 'qa',
      ssh: ['ssh', '-F', '/dev/null', 'crvs@10.77.0.11'],
    } as unknown as RemoteHost;
    const c = smtpCommand(host, settings);
    expect(c.argv.join(' ')).not.toContain(settings.password);
    expect(c.argv.slice(0, 4)).toEqual(['ssh', '-F', '/dev/null', 'crvs@10.77.0.11']);
    expect(JSON.parse(String(c.stdin))).toEqual(settings);
  });
});
