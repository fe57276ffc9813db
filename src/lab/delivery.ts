// What a hosting provider does before handing a server over: an admin account with the customer's key,
// password login left on, an apt mirror nearby. Scripts run inside the container over `docker exec` stdin.
import { quote } from '../remote/shell.js';
import {
  LAB_TSIG_FILE,
  LAB_ZONE_FILE,
  renderLabZone,
  renderNamedLocal,
  renderNamedOptions,
  renderTsigKey,
} from './dns.js';
import type { LabTopology } from './topology.js';

export const MARKER = '/etc/crvs-lab/delivered';

export interface Delivery {
  /** Public key that the initial admin account accepts. */
  publicKey: string;
  /** Password of `admin` and `root` (password login stays enabled, as on many delivered servers). */
  password: string;
  aptProxy: string;
  /** The data centre's DNS (the lab services) and search domain, in the server's own resolv.conf. */
  dns: { server: string; search: string };
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
    // The data centre's resolver itself, as a delivered server has it, not Docker's 127.0.0.11: the Docker engine
    // on the server (20.10) drops a loopback resolver and would give its containers 8.8.8.8, which the lab cannot
    // reach. Written in place: the file is a bind mount.
    `resolv=${quote(`search ${d.dns.search}\nnameserver ${d.dns.server}\noptions ndots:0`)}`,
    `[ "$(cat /etc/resolv.conf)" = "$resolv" ] || printf '%s\\n' "$resolv" > /etc/resolv.conf`,
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
const EC_KEY = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';

/**
 * A certificate for `host` signed by the lab CA, at <dir>/<name>.pem with its key at <dir>/<key>.pem, made
 * again when the name changes or it is within 30 days of expiry; sets <flag>=1 when it made one.
 */
function labCertificate(host: string, files: { cert: string; key: string }, flag: string): string[] {
  const m = LAB_MAIL_DIR;
  const { cert, key } = files;
  return [
    `if ! openssl verify -CAfile ${m}/ca.pem ${cert} >/dev/null 2>&1 \\`,
    `  || ! openssl x509 -in ${cert} -noout -checkhost ${host} | grep -q 'does match' \\`,
    `  || ! openssl x509 -in ${cert} -noout -checkend $((30 * 86400)) >/dev/null; then`,
    `  openssl req ${EC_KEY} -subj ${quote(`/CN=${host}`)} -keyout ${key} -out ${cert}.csr 2>/dev/null`,
    `  printf 'subjectAltName=DNS:%s\\nextendedKeyUsage=serverAuth\\nbasicConstraints=CA:FALSE\\n' ${quote(host)} > ${cert}.ext`,
    `  openssl x509 -req -in ${cert}.csr -CA ${m}/ca.pem -CAkey ${m}/ca.key -CAcreateserial -days 398 \\`,
    `    -extfile ${cert}.ext -out ${cert} 2>/dev/null`,
    `  rm -f ${cert}.csr ${cert}.ext`,
    `  ${flag}=1`,
    'fi',
    `chmod 0644 ${cert}`,
  ];
}

function mailSetup(t: LabTopology, password: string): string[] {
  const m = LAB_MAIL_DIR;
  const host = `mail.${t.domain}`;
  const settings = [
    `myhostname = ${host}`,
    `mydomain = ${t.domain}`,
    `mydestination = ${host}, ${t.domain}, localhost`,
  ];
  return [
    'umask 077',
    'mail_changed=0',
    `if [ ! -s ${m}/ca.pem ] || [ ! -s ${m}/ca.key ]; then`,
    `  openssl req -x509 ${EC_KEY} -days 3650 -subj ${quote(`/CN=crvs lab ${t.name} CA`)} \\`,
    "    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \\",
    `    -keyout ${m}/ca.key -out ${m}/ca.pem 2>/dev/null`,
    `  rm -f ${m}/cert.pem ${m}/acme-cert.pem`,
    'fi',
    ...labCertificate(host, { cert: `${m}/cert.pem`, key: `${m}/key.pem` }, 'mail_changed'),
    `chmod 0644 ${m}/ca.pem`,
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

/** How long the lab's ACME CA makes its certificates last: short enough for a test to watch one renewed. */
export const LAB_CERTIFICATE_SECONDS = 150;
export const LAB_ACME_PORT = 14000;
export const LAB_ACME_MANAGEMENT_PORT = 15000;
const ACME_CONFIG = '/etc/crvs-lab/acme/pebble.json';

/** `cat > file.new`, then replace the file and run `changed` only when the content differs. */
function writeIfChanged(file: string, content: string, changed: string): string[] {
  return [
    `cat > ${file}.new <<'CRVS_LAB_FILE'`,
    content.trimEnd(),
    'CRVS_LAB_FILE',
    `if cmp -s ${file}.new ${file}; then rm ${file}.new; else mv ${file}.new ${file}; ${changed}; fi`,
  ];
}

/**
 * BIND: options and zone declaration, the TSIG key (0640 root:bind; the secret travels in this script, on
 * stdin), and the zone. BIND rewrites its zone file as it applies dynamic updates, so the file crvs wrote is
 * kept beside the configuration and compared; a new one replaces the zone and its journal.
 */
function dnsSetup(t: LabTopology, tsigSecret: string): string[] {
  const source = '/etc/bind/crvs-lab.zone';
  return [
    'dns_changed=0',
    ...writeIfChanged('/etc/bind/named.conf.options', renderNamedOptions(t), 'dns_changed=1'),
    ...writeIfChanged('/etc/bind/named.conf.local', renderNamedLocal(t), 'dns_changed=1'),
    'umask 027',
    ...writeIfChanged(LAB_TSIG_FILE, renderTsigKey(tsigSecret), 'dns_changed=1'),
    `chown root:bind ${LAB_TSIG_FILE} && chmod 0640 ${LAB_TSIG_FILE}`,
    'umask 022',
    ...writeIfChanged(source, renderLabZone(t), 'dns_changed=2'),
    `if [ "$dns_changed" = 2 ] || [ ! -s ${LAB_ZONE_FILE} ]; then`,
    '  systemctl stop named.service',
    `  install -o bind -g bind -m 0644 ${source} ${LAB_ZONE_FILE} && rm -f ${LAB_ZONE_FILE}.jnl`,
    '  dns_changed=1',
    'fi',
    'if [ "$dns_changed" = 1 ]; then systemctl restart named.service; fi',
  ];
}

/**
 * The ACME CA (Debian's pebble): its API on acme.<domain>:14000 with a certificate the lab CA signs, checking
 * challenges against the lab DNS and the names' port 80, issuing certificates that last LAB_CERTIFICATE_SECONDS.
 */
function acmeSetup(t: LabTopology): string[] {
  const m = LAB_MAIL_DIR;
  const config = {
    pebble: {
      listenAddress: `0.0.0.0:${LAB_ACME_PORT}`,
      managementListenAddress: `0.0.0.0:${LAB_ACME_MANAGEMENT_PORT}`,
      certificate: `${m}/acme-cert.pem`,
      privateKey: `${m}/acme-key.pem`,
      httpPort: 80,
      tlsPort: 443,
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
      certificateValidityPeriod: LAB_CERTIFICATE_SECONDS,
    },
  };
  return [
    'acme_changed=0',
    'umask 077',
    ...labCertificate(
      `acme.${t.domain}`,
      { cert: `${m}/acme-cert.pem`, key: `${m}/acme-key.pem` },
      'acme_changed',
    ),
    'umask 022',
    `install -d ${ACME_CONFIG.slice(0, ACME_CONFIG.lastIndexOf('/'))}`,
    ...writeIfChanged(ACME_CONFIG, JSON.stringify(config, null, 2), 'acme_changed=1'),
    'if [ "$acme_changed" = 1 ]; then systemctl restart crvs-lab-acme.service; fi',
  ];
}

/** The lab's ACME directory, as a spec names it. */
export const labAcmeDirectory = (domain: string) => `https://acme.${domain}:${LAB_ACME_PORT}/dir`;

const SERVICE_UNITS = 'docker-registry named apt-cacher-ng crvs-lab-alerts postfix crvs-lab-acme';

/**
 * Writes the DNS, ACME and mail configuration and makes sure registry, DNS, apt cache, alert receiver, relay
 * and ACME CA run.
 */
export function servicesDeliveryScript(
  t: LabTopology,
  secrets: { password: string; tsigSecret: string },
): string {
  const registryConf = '/etc/docker/registry/config.yml';
  return [
    'set -eu',
    'for _ in $(seq 1 120); do systemctl is-system-running --quiet 2>/dev/null && break;',
    '  case "$(systemctl is-system-running 2>/dev/null)" in degraded|running) break;; esac; sleep 0.5; done',
    ...dnsSetup(t, secrets.tsigSecret),
    `cat > ${registryConf}.new <<'CRVS_LAB_REGISTRY'`,
    REGISTRY_CONFIG.trimEnd(),
    'CRVS_LAB_REGISTRY',
    `if cmp -s ${registryConf}.new ${registryConf}; then rm ${registryConf}.new; else mv ${registryConf}.new ${registryConf}; systemctl restart docker-registry.service; fi`,
    ...mailSetup(t, secrets.password),
    ...acmeSetup(t),
    // The cache and the registry live in volumes that outlive the container; a new image may have given their
    // users other ids (packages added before them take ids first), so their files are handed to the users again.
    'give_back() { [ "$(stat -c %U "$2")" = "$1" ] || chown -R "$1:$1" "$2"; }',
    'give_back apt-cacher-ng /var/cache/apt-cacher-ng',
    'give_back docker-registry /var/lib/docker-registry',
    `for unit in ${SERVICE_UNITS}; do`,
    '  systemctl is-active --quiet "$unit.service" || { systemctl reset-failed "$unit.service"; systemctl restart "$unit.service"; }',
    'done',
    'for _ in $(seq 1 60); do',
    `  (for port in 5000 3142 9000 587 53 ${LAB_ACME_PORT}; do exec 3<>/dev/tcp/127.0.0.1/$port || exit 1; done) 2>/dev/null && break`,
    '  sleep 0.5',
    'done',
    `systemctl is-active ${SERVICE_UNITS.split(' ')
      .map((u) => `${u}.service`)
      .join(' ')}`,
    '',
  ].join('\n');
}
