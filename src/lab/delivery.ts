// What a hosting provider does before handing a server over: an admin account with the customer's key,
// password login left on, an apt mirror nearby. Scripts run inside the container over `docker exec` stdin.
import { quote } from '../remote/shell.js';
import { renderDnsmasq } from './dns.js';
import type { LabTopology } from './topology.js';

export const MARKER = '/etc/crvs-lab/delivered';

export interface Delivery {
  /** Public key that the initial admin account accepts. */
  publicKey: string;
  /** Password of `admin` and `root` (password login stays enabled, as on many delivered servers). */
  password: string;
  aptProxy: string;
}

const waitForBoot = [
  'for _ in $(seq 1 120); do',
  '  systemctl is-active --quiet ssh.service && break',
  '  sleep 0.5',
  'done',
  'systemctl is-active --quiet ssh.service || { echo "sshd did not start" >&2; exit 1; }',
];

/**
 * Idempotent: the marker holds the delivered key, so a second `lab up` leaves a server (perhaps provisioned
 * and hardened since) untouched. A server delivered with another key answers `foreign` and is left alone.
 */
export function serverDeliveryScript(d: Delivery): string {
  return [
    'set -eu',
    ...waitForBoot,
    `if [ -f ${MARKER} ] && [ "$(cat ${MARKER})" = ${quote(d.publicKey)} ]; then echo unchanged; exit 0; fi`,
    // Delivered with another key: a lab from another directory, or one whose key was lost. Handing it over
    // again on top of whatever was provisioned since would leave a server nobody has configured; refuse.
    `if [ -f ${MARKER} ]; then echo foreign; exit 0; fi`,
    'id admin >/dev/null 2>&1 || useradd --create-home --shell /bin/bash --groups sudo admin',
    "printf 'admin ALL=(ALL) NOPASSWD:ALL\\n' > /etc/sudoers.d/90-delivered-admin",
    'chmod 0440 /etc/sudoers.d/90-delivered-admin',
    'install -d -m 0700 -o admin -g admin /home/admin/.ssh',
    `printf '%s\\n' ${quote(d.publicKey)} > /home/admin/.ssh/authorized_keys`,
    'chown admin:admin /home/admin/.ssh/authorized_keys && chmod 0600 /home/admin/.ssh/authorized_keys',
    "chpasswd <<'CRVS_LAB_PASSWORDS'",
    `admin:${d.password}`,
    `root:${d.password}`,
    'CRVS_LAB_PASSWORDS',
    "printf 'PasswordAuthentication yes\\nPermitRootLogin yes\\n' > /etc/ssh/sshd_config.d/00-delivered.conf",
    `printf 'Acquire::http::Proxy "%s";\\n' ${quote(d.aptProxy)} > /etc/apt/apt.conf.d/00-lab-proxy`,
    'systemctl reload ssh.service',
    `install -d /etc/crvs-lab && printf '%s' ${quote(d.publicKey)} > ${MARKER}`,
    'echo delivered',
    '',
  ].join('\n');
}

/**
 * Debian's registry configuration asks for htpasswd authentication with no users; the lab registry is open
 * to the lab network (it is reachable only there and on the host's loopback).
 */
const REGISTRY_CONFIG = `version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/docker-registry
  delete:
    enabled: true
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
`;

/** The lab relay's account, as a country's relay would give its operators one: alerts@<domain>. */
const LAB_SMTP_LOCAL = 'alerts';
export const labSmtpUser = (domain: string) => `${LAB_SMTP_LOCAL}@${domain}`;

/** Where the lab's mail state lives in the services container (a named volume, see servicesVolumes). */
export const LAB_MAIL_DIR = '/etc/crvs-lab/mail';

/**
 * The relay's lab-specific part: a lab CA (made once, kept in the mail volume), a certificate for mail.<domain>
 * that it signs (made again when the name changes or it is within 30 days of expiry), the lab's domains as local,
 * and the account whose password `crvs lab up` generated. The password travels in this script, on stdin.
 */
function mailSetup(t: LabTopology, password: string): string[] {
  const m = LAB_MAIL_DIR;
  const host = `mail.${t.domain}`;
  const ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
  const settings = [
    `myhostname = ${host}`,
    `mydomain = ${t.domain}`,
    `mydestination = ${host}, ${t.domain}, localhost`,
  ];
  return [
    'umask 077',
    'mail_changed=0',
    `if [ ! -s ${m}/ca.pem ] || [ ! -s ${m}/ca.key ]; then`,
    `  openssl req -x509 ${ec} -days 3650 -subj ${quote(`/CN=crvs lab ${t.name} CA`)} \\`,
    "    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \\",
    `    -keyout ${m}/ca.key -out ${m}/ca.pem 2>/dev/null`,
    `  rm -f ${m}/cert.pem`,
    'fi',
    `if ! openssl verify -CAfile ${m}/ca.pem ${m}/cert.pem >/dev/null 2>&1 \\`,
    `  || ! openssl x509 -in ${m}/cert.pem -noout -checkhost ${host} | grep -q 'does match' \\`,
    `  || ! openssl x509 -in ${m}/cert.pem -noout -checkend $((30 * 86400)) >/dev/null; then`,
    `  openssl req ${ec} -subj ${quote(`/CN=${host}`)} -keyout ${m}/key.pem -out ${m}/cert.csr 2>/dev/null`,
    `  printf 'subjectAltName=DNS:%s\\nextendedKeyUsage=serverAuth\\nbasicConstraints=CA:FALSE\\n' ${quote(host)} > ${m}/cert.ext`,
    `  openssl x509 -req -in ${m}/cert.csr -CA ${m}/ca.pem -CAkey ${m}/ca.key -CAcreateserial -days 398 \\`,
    `    -extfile ${m}/cert.ext -out ${m}/cert.pem 2>/dev/null`,
    `  rm -f ${m}/cert.csr ${m}/cert.ext`,
    '  mail_changed=1',
    'fi',
    `chmod 0644 ${m}/ca.pem ${m}/cert.pem`,
    `want=${quote(settings.join('\n'))}`,
    'have="$(postconf myhostname mydomain mydestination)"',
    'if [ "$have" != "$want" ]; then',
    `  postconf -e ${settings.map(quote).join(' ')}`,
    '  mail_changed=1',
    'fi',
    // printf is bash's own: the password is on no command line.
    `printf '%s' ${quote(password)} | saslpasswd2 -p -c -u ${quote(t.domain)} ${LAB_SMTP_LOCAL}`,
    'chown root:sasl /etc/sasldb2 && chmod 0640 /etc/sasldb2',
    'umask 022',
    'if [ "$mail_changed" = 1 ]; then systemctl restart postfix.service; fi',
  ];
}

/** Writes the DNS and mail configuration and makes sure registry, DNS, apt cache, alert receiver and relay run. */
export function servicesDeliveryScript(t: LabTopology, mail: { password: string }): string {
  const conf = '/etc/dnsmasq.d/crvs-lab.conf';
  const registryConf = '/etc/docker/registry/config.yml';
  return [
    'set -eu',
    'for _ in $(seq 1 120); do systemctl is-system-running --quiet 2>/dev/null && break;',
    '  case "$(systemctl is-system-running 2>/dev/null)" in degraded|running) break;; esac; sleep 0.5; done',
    `cat > ${conf}.new <<'CRVS_LAB_DNS'`,
    renderDnsmasq(t).trimEnd(),
    'CRVS_LAB_DNS',
    `if cmp -s ${conf}.new ${conf}; then rm ${conf}.new; else mv ${conf}.new ${conf}; systemctl restart dnsmasq.service; fi`,
    `cat > ${registryConf}.new <<'CRVS_LAB_REGISTRY'`,
    REGISTRY_CONFIG.trimEnd(),
    'CRVS_LAB_REGISTRY',
    `if cmp -s ${registryConf}.new ${registryConf}; then rm ${registryConf}.new; else mv ${registryConf}.new ${registryConf}; systemctl restart docker-registry.service; fi`,
    ...mailSetup(t, mail.password),
    'for unit in docker-registry dnsmasq apt-cacher-ng crvs-lab-alerts postfix; do',
    '  systemctl is-active --quiet "$unit.service" || systemctl restart "$unit.service"',
    'done',
    'for _ in $(seq 1 60); do',
    '  (exec 3<>/dev/tcp/127.0.0.1/5000 && exec 3<>/dev/tcp/127.0.0.1/3142 && exec 3<>/dev/tcp/127.0.0.1/9000 && exec 3<>/dev/tcp/127.0.0.1/587) 2>/dev/null && break',
    '  sleep 0.5',
    'done',
    'systemctl is-active docker-registry.service dnsmasq.service apt-cacher-ng.service crvs-lab-alerts.service postfix.service',
    '',
  ].join('\n');
}
