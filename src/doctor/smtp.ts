// The SMTP check of `crvs doctor`: from a server of the environment, the relay is greeted, STARTTLS (or implicit
// TLS) is required to verify against smtp.ca or the system's CAs, the store's credentials are tried, and the relay
// is asked to take mail for the first alert address (MAIL and RCPT, then RSET; nothing is sent) or, with
// --send-test-to, sends a message there. The settings, password included, reach the server's python on stdin.
// The probe and its parser are pure data; smtpFindings turns its steps into findings.

import { onHost, type RemoteHost } from '../remote/host.js';
import { cmd } from '../remote/shell.js';
import { parseJsonLines } from '../report/jsonl.js';
import type { Finding } from './verdicts.js';

export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  sender: string;
  username: string;
  password: string;
  /** PEM of smtp.ca; empty: the system's CAs. */
  ca: string;
  /** Asked to accept mail for this address (MAIL, RCPT, RSET). */
  probeTo: string;
  /** Sent a test message (--send-test-to). */
  sendTo: string;
  /** The line that names where the test came from. */
  origin: string;
}

/** One step of the conversation, as the probe prints it. */
export interface SmtpStep {
  step: 'connect' | 'tls' | 'auth' | 'accept' | 'send';
  ok: boolean;
  detail: string;
  /** tls: the certificate's issuer and its days left. */
  issuer?: string;
  days?: number;
}

/** Runs with python3's standard library, which every provisioned server has. Prints one JSON line per step. */
export const SMTP_PROBE = String.raw`import json, smtplib, ssl, sys, time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
c = json.load(sys.stdin)
def say(step, ok, detail, **extra):
    print(json.dumps(dict(step=step, ok=ok, detail=str(detail)[:300], **extra)), flush=True)
def peer(sock):
    cert = sock.getpeercert()
    issuer = dict(x[0] for x in cert.get("issuer", ())).get("commonName", "?")
    days = int((ssl.cert_time_to_seconds(cert["notAfter"]) - time.time()) // 86400)
    return dict(issuer=issuer, days=days), sock.version()
ctx = ssl.create_default_context(cadata=c["ca"] or None)
try:
    if c["secure"]:
        client = smtplib.SMTP_SSL(c["host"], c["port"], timeout=15, context=ctx)
    else:
        client = smtplib.SMTP(c["host"], c["port"], timeout=15)
except ssl.SSLCertVerificationError as e:
    say("connect", True, "answers")
    say("tls", False, "implicit TLS: " + (e.verify_message or str(e)))
    sys.exit(0)
except (OSError, smtplib.SMTPException) as e:
    say("connect", False, e)
    sys.exit(0)
with client:
    say("connect", True, "answers")
    client.ehlo()
    if c["secure"]:
        info, version = peer(client.sock)
        say("tls", True, "implicit " + version, **info)
    elif client.has_extn("starttls"):
        try:
            client.starttls(context=ctx)
        except ssl.SSLCertVerificationError as e:
            say("tls", False, "STARTTLS: " + (e.verify_message or str(e)))
            sys.exit(0)
        client.ehlo()
        info, version = peer(client.sock)
        say("tls", True, "STARTTLS, " + version, **info)
    else:
        say("tls", False, "no STARTTLS offered")
        if c["username"]:
            sys.exit(0)
    if c["username"]:
        try:
            client.login(c["username"], c["password"])
            say("auth", True, "accepted")
        except smtplib.SMTPAuthenticationError as e:
            say("auth", False, "%d %s" % (e.smtp_code, e.smtp_error.decode(errors="replace")))
            sys.exit(0)
        except smtplib.SMTPNotSupportedError:
            say("auth", False, "the relay offers no authentication")
            sys.exit(0)
    to = c["sendTo"] or c["probeTo"]
    if not to:
        sys.exit(0)
    if c["sendTo"]:
        message = EmailMessage()
        message["Subject"] = "crvs doctor: test message"
        message["From"] = c["sender"]
        message["To"] = to
        message["Date"] = formatdate()
        message["Message-ID"] = make_msgid()
        message.set_content(c["origin"] + "\n")
        try:
            client.send_message(message)
            say("send", True, to)
        except smtplib.SMTPException as e:
            say("send", False, e)
        sys.exit(0)
    code, reply = client.mail(c["sender"])
    if code == 250:
        code, reply = client.rcpt(to)
    say("accept", code in (250, 251), "%d %s" % (code, reply.decode(errors="replace")))
    client.rset()
`;

export const smtpCommand = (host: RemoteHost, settings: SmtpSettings) =>
  onHost(host, cmd('python3', '-c', SMTP_PROBE), {
    stdin: JSON.stringify(settings),
    description: `talk to the SMTP relay from a server of ${host.environment}`,
    allowFailure: true,
    timeoutMs: 90_000,
  });

export const parseSmtp = (stdout: string): SmtpStep[] => parseJsonLines<SmtpStep>(stdout);

/** The verdict on each step; a step that was never reached is no finding. */
export function smtpFindings(
  environment: string,
  server: string,
  s: Pick<SmtpSettings, 'host' | 'port' | 'username' | 'sendTo' | 'probeTo' | 'ca'>,
  steps: SmtpStep[],
  stderr = '',
): Finding[] {
  const subject = `${s.host}:${s.port}`;
  const at = (status: Finding['status'], detail: string, action?: string): Finding => ({
    environment,
    check: 'smtp',
    subject,
    status,
    detail: `from ${server}: ${detail}`,
    ...(action ? { action } : {}),
  });
  if (!steps.length)
    return [
      at(
        'fail',
        `the check did not run: ${stderr.trim().split('\n').pop() || 'no answer'}`,
        'see the message',
      ),
    ];
  const out: Finding[] = [];
  for (const step of steps) {
    if (step.step === 'connect')
      out.push(
        step.ok
          ? at('ok', 'the relay answers')
          : at(
              'fail',
              `cannot reach the relay: ${step.detail}`,
              `let ${server} reach ${subject}, or fix smtp.host`,
            ),
      );
    else if (step.step === 'tls') {
      if (step.ok) {
        const soon = step.days !== undefined && step.days < 21;
        out.push(
          at(
            soon ? 'warn' : 'ok',
            `${step.detail}, certificate by ${step.issuer ?? '?'}, ${step.days ?? '?'} days left`,
            soon ? "the relay's certificate expires soon: tell its administrators" : undefined,
          ),
        );
      } else if (step.detail === 'no STARTTLS offered')
        out.push(
          s.username
            ? at(
                'fail',
                'the relay offers no STARTTLS: crvs does not send the credentials in clear, so no alert e-mail leaves',
                'ask for STARTTLS on the relay, or smtp.secure: true and port 465 if it speaks implicit TLS',
              )
            : at(
                'warn',
                'the relay offers no STARTTLS: alert e-mails travel unencrypted',
                'ask for STARTTLS',
              ),
        );
      else
        out.push(
          at(
            'fail',
            `the relay's certificate is not trusted: ${step.detail}`,
            s.ca
              ? 'smtp.ca must be the CA that signs the relay certificate for this host name'
              : 'set smtp.ca to the PEM of the CA that signs the relay certificate',
          ),
        );
    } else if (step.step === 'auth')
      out.push(
        step.ok
          ? at('ok', "the store's credentials were accepted")
          : at(
              'fail',
              `the relay refused the credentials: ${step.detail}`,
              `crvs secrets set ${environment} SMTP_USERNAME / SMTP_PASSWORD (the names smtp.usernameSecret and smtp.passwordSecret give)`,
            ),
      );
    else if (step.step === 'accept')
      out.push(
        step.ok
          ? at('ok', `takes mail for ${s.probeTo} (nothing sent)`)
          : at(
              'fail',
              `refuses mail for ${s.probeTo}: ${step.detail}`,
              s.username
                ? 'ask the relay administrators to let this account send'
                : 'the relay may need credentials: set them in the store',
            ),
      );
    else if (step.step === 'send')
      out.push(
        step.ok
          ? at('ok', `test message sent to ${s.sendTo}`)
          : at('fail', `the test message was refused: ${step.detail}`, 'see the message'),
      );
  }
  return out;
}
