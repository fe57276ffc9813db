import { z } from 'zod';
import { hostname, secretName } from './common.js';
import { doc } from './doc.js';

/** Let's Encrypt's production directory: where the ACME modes ask unless the spec names another CA. */
export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

/** The ACME CA the http-01 and dns-01 modes ask: Let's Encrypt, or a country's own (or the lab's) ACME server. */
const acmeServer = {
  directory: doc(
    z.url({ protocol: /^https$/ }).default(LETS_ENCRYPT_DIRECTORY),
    "ACME directory URL of the certificate authority. Default: Let's Encrypt.",
    'https://acme.gov.example/directory',
  ),
  caCertificate: doc(
    z.string().min(1).optional(),
    "Path (relative to crvs.yaml) of the PEM certificate of the CA that signs the ACME server's own HTTPS certificate, when that is a private CA; without it, the system's CAs.",
    'tls/acme-ca.pem',
  ),
  caaIdentity: doc(
    hostname.optional(),
    "The CA's issuer domain name in CAA records (`0 issue \"...\"`), checked by crvs dns check. Default: letsencrypt.org for Let's Encrypt's directory, none (no CAA check) for another.",
    'ca.gov.example',
  ),
};

export const tlsSchema = doc(
  z
    .discriminatedUnion('mode', [
      z.strictObject({
        mode: doc(
          z.literal('http-01'),
          "Let's Encrypt certificates through the HTTP-01 challenge.",
          'http-01',
        ),
        email: doc(z.email(), 'ACME account e-mail.', 'ops@gov.example'),
        ...acmeServer,
      }),
      z.strictObject({
        mode: doc(
          z.literal('dns-01'),
          'ACME certificates through a DNS-01 challenge (works behind a VPN).',
          'dns-01',
        ),
        email: doc(z.email(), 'ACME account e-mail.', 'ops@gov.example'),
        provider: doc(
          z.string().min(1),
          'DNS provider name as the ingress (Traefik/lego) knows it.',
          'cloudflare',
        ),
        credentialsSecret: secretName(
          'Secret holding the DNS provider credentials (KEY=value lines).',
          'DNS_PROVIDER_CREDENTIALS',
        ),
        ...acmeServer,
      }),
      z.strictObject({
        mode: doc(z.literal('static'), 'Certificate files supplied by the country.', 'static'),
        certificate: doc(
          z.string().min(1),
          'Path (relative to crvs.yaml) of the PEM certificate chain.',
          'tls/fullchain.pem',
        ),
        keySecret: secretName('Secret holding the PEM private key.', 'TLS_PRIVATE_KEY'),
      }),
      z.strictObject({
        mode: doc(
          z.literal('self-signed'),
          'A certificate made by crvs (lab and rehearsals only).',
          'self-signed',
        ),
      }),
    ])
    .default({ mode: 'self-signed' }),
  'How the ingress obtains TLS certificates.',
  { mode: 'http-01', email: 'ops@gov.example' },
);

export const smtpSchema = doc(
  z
    .strictObject({
      host: doc(hostname, 'SMTP server host.', 'smtp.gov.example'),
      port: doc(z.int().min(1).max(65535).default(587), 'SMTP port.', 587),
      secure: doc(
        z.boolean().default(false),
        'Implicit TLS (port 465). With false, STARTTLS is used when the server offers it, and credentials are never sent without it.',
        false,
      ),
      ca: doc(
        z.string().min(1).optional(),
        "Path (relative to crvs.yaml) of the PEM certificate of the CA that signs the relay's certificate, when it is a government or private CA. The servers then trust that CA alone for the relay; without it, the system's CAs. The certificate is always verified.",
        'tls/smtp-ca.pem',
      ),
      sender: doc(z.email(), 'From address of notification and alert e-mails.', 'noreply@gov.example'),
      usernameSecret: secretName('Secret holding the SMTP user name.', 'SMTP_USERNAME').default(
        'SMTP_USERNAME',
      ),
      passwordSecret: secretName('Secret holding the SMTP password.', 'SMTP_PASSWORD').default(
        'SMTP_PASSWORD',
      ),
    })
    .optional(),
  'Outgoing e-mail for staff onboarding and alerts. Required for production.',
  { host: 'smtp.gov.example', sender: 'noreply@gov.example' },
);

export const alertsSchema = doc(
  z
    .strictObject({
      email: doc(z.array(z.email()).default([]), 'Addresses that receive alerts (sent through smtp).', [
        'ops@gov.example',
      ]),
      slackWebhookSecret: secretName(
        'Secret holding a Slack incoming-webhook URL that receives alerts.',
        'SLACK_WEBHOOK_URL',
      ).optional(),
      webhookSecret: secretName(
        'Secret holding a generic webhook URL (JSON POST) that receives alerts.',
        'ALERT_WEBHOOK_URL',
      ).optional(),
      sshLogins: doc(z.boolean().default(true), 'Alert on every SSH login, on every server.', true),
      dataDiskPercent: doc(
        z.number().int().min(1).max(99).default(70),
        "Alert when the data disk (/data on the data node, the repositories on the backup server) is this full, in percent; checked by each server every five minutes. The guide's figure is 70.",
        70,
      ),
      rootDiskPercent: doc(
        z.number().int().min(1).max(99).default(85),
        "Alert when a server's root filesystem is this full, in percent.",
        85,
      ),
      cpuPercent: doc(
        z.number().int().min(1).max(100).default(90),
        "Alert when a server's CPUs are this busy on average over 15 minutes, in percent.",
        90,
      ),
    })
    .default({ email: [], sshLogins: true, dataDiskPercent: 70, rootDiskPercent: 85, cpuPercent: 90 }),
  'Where operational alerts (SSH logins, failed backups, disk space, CPU) go, and the thresholds the servers watch.',
  { email: ['ops@gov.example'], slackWebhookSecret: 'SLACK_WEBHOOK_URL' },
);

export const registrySchema = doc(
  z
    .strictObject({
      host: doc(
        hostname.or(z.string().regex(/^[^\s/]+:\d+$/)),
        'Container registry host (with port if any).',
        'docker.io',
      ),
      username: doc(z.string().min(1).optional(), 'Registry user name.', 'farajaland-ci'),
      tokenSecret: secretName('Secret holding the registry access token.', 'REGISTRY_TOKEN').default(
        'REGISTRY_TOKEN',
      ),
      insecure: doc(
        z.boolean().default(false),
        'Plain-HTTP registry (the lab registry only); servers add it to Docker insecure-registries.',
        false,
      ),
      pushVia: doc(
        z
          .string()
          .regex(/^[^\s/]+:\d+$/)
          .optional(),
        "Where this machine pushes images when it cannot reach `host` as the servers do (a loopback publish or an SSH tunnel to the registry). crvs lab up sets it to the lab registry's loopback publish.",
        '127.0.0.1:5000',
      ),
    })
    .default({ host: 'docker.io', tokenSecret: 'REGISTRY_TOKEN', insecure: false }),
  "Registry that hosts the country's configuration image.",
  { host: 'docker.io', username: 'farajaland-ci' },
);

export const githubSchema = doc(
  z
    .strictObject({
      owner: doc(z.string().regex(/^[A-Za-z0-9-]+$/), 'GitHub organisation or user.', 'opencrvs-farajaland'),
      repository: doc(
        z.string().regex(/^[A-Za-z0-9._-]+$/),
        'Configuration repository that runs the CD workflows.',
        'farajaland',
      ),
      apiUrl: doc(
        z.url().default('https://api.github.com'),
        'GitHub REST API base URL (GitHub Enterprise Server).',
        'https://api.github.com',
      ),
    })
    .optional(),
  'GitHub repository whose environments, secrets and workflows crvs manages.',
  { owner: 'opencrvs-farajaland', repository: 'farajaland' },
);

const imageRef = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._/:-]*$/, 'must be an image name such as opencrvs/farajaland');
const version = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be an image tag such as v1.9.0');

export const stackSchema = doc(
  z.strictObject({
    preset: doc(
      z.enum(['opencrvs', 'demo']).default('opencrvs'),
      'Stack to deploy: opencrvs (the real system) or demo (the rehearsal app used in the lab).',
      'opencrvs',
    ),
    version: doc(version, 'Version (image tag) of the core services.', 'v1.9.0'),
    countryConfig: doc(
      z.strictObject({
        image: doc(imageRef, 'Country configuration image, without tag.', 'opencrvs/farajaland'),
        version: doc(version, 'Country configuration image tag.', 'v1.9.0'),
      }),
      "The country's configuration image.",
      { image: 'opencrvs/farajaland', version: 'v1.9.0' },
    ).optional(),
    notification: doc(z.enum(['email', 'sms']).default('email'), 'How users are notified.', 'email'),
    compose: doc(
      z
        .strictObject({
          country: doc(
            z.string().min(1).default('infrastructure'),
            "Folder (relative to crvs.yaml) holding the country's docker-compose.deploy.yml, docker-compose.<environment>-deploy.yml and the files they mount.",
            'infrastructure',
          ),
          core: doc(
            z.string().min(1).optional(),
            "Folder (relative to crvs.yaml) holding opencrvs-core's docker-compose.yml and docker-compose.deps.yml for stack.version, for operators without Internet access. Without it, crvs reads the copies `crvs stack lock` fetched and pinned in crvs.lock.json.",
            'vendor/opencrvs-core/v1.9.0',
          ),
          coreUrl: doc(
            z
              .string()
              .regex(/^https?:\/\/\S+\{version\}\S*$/, 'must be an http(s) URL containing {version}')
              .default('https://raw.githubusercontent.com/opencrvs/opencrvs-core/{version}/'),
            "Where `crvs stack lock` fetches core's compose files from; {version} becomes the tag.",
            'https://raw.githubusercontent.com/opencrvs/opencrvs-core/{version}/',
          ),
        })
        .default({
          country: 'infrastructure',
          coreUrl: 'https://raw.githubusercontent.com/opencrvs/opencrvs-core/{version}/',
        }),
      'The reference compose files the opencrvs preset is rendered from.',
      { country: 'infrastructure' },
    ),
  }),
  'What runs in the application environments.',
  {
    preset: 'opencrvs',
    version: 'v1.9.0',
    countryConfig: { image: 'opencrvs/farajaland', version: 'v1.9.0' },
  },
);
