import { z } from 'zod';
import { parseHostKey } from '../host-key.js';
import { cron, hostname } from './common.js';
import { doc } from './doc.js';

export const serverSchema = z.strictObject({
  name: doc(
    z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a lower-case host name label'),
    'Server host name, unique across the spec.',
    'prod-1',
  ),
  address: doc(
    hostname.or(z.ipv4()).or(z.ipv6()),
    'Address crvs and CI use to reach the server over SSH.',
    '10.20.0.11',
  ),
  sshPort: doc(z.int().min(1).max(65535).default(22), 'SSH port.', 22),
  role: doc(
    z.enum(['manager', 'worker']).default('manager'),
    'Docker Swarm role. Each application environment has exactly one manager.',
    'manager',
  ),
  labels: doc(
    z.record(z.string().regex(/^[a-z][a-z0-9.-]*$/), z.string()).default({}),
    'Docker Swarm node labels; `data: "true"` marks the node that holds the data stores.',
    { data: 'true' },
  ),
  architecture: doc(
    z.enum(['x86_64', 'amd64', 'arm64', 'aarch64']).default('x86_64'),
    'CPU architecture. OpenCRVS supports x86_64 only.',
    'x86_64',
  ),
  adminUser: doc(
    z.string().default('root'),
    'Account used for the very first provisioning run (before the automation user exists).',
    'ubuntu',
  ),
  hostKeys: doc(
    z
      .array(
        z.string().superRefine((line, ctx) => {
          const k = parseHostKey(line);
          if (typeof k === 'string') ctx.addIssue({ code: 'custom', message: k });
        }),
      )
      .min(1)
      .optional(),
    "The server's SSH host public keys (`/etc/ssh/ssh_host_*_key.pub`, or `crvs hostkeys` from a first contact you confirm). When given, crvs and CI reach the server only if it proves one of them, and refuse before authenticating otherwise; without them the first key seen is trusted (known_hosts).",
    ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb1qYhL0n1xXk3Qe2zP9mUQwqk7fM5yq3P0h2sQq3a1'],
  ),
});

const servers = doc(z.array(serverSchema).min(1), 'Servers of this environment.', [
  { name: 'prod-1', address: '10.20.0.11', labels: { data: 'true' } },
]);

const applicationFields = {
  servers,
  citizenData: doc(
    z.boolean().optional(),
    'Whether the environment holds real citizen data (PII). Defaults to true on production and staging.',
    true,
  ),
  testTwoFactorCodes: doc(
    z.boolean().default(false),
    'Accept the test 2FA code 000000 in the application. Only qa and development may use it.',
    false,
  ),
  encryptData: doc(
    z.boolean().optional(),
    "Keep the data stores (/data on the data node) on an encrypted volume (ext4 with the kernel's fscrypt, in an image file under /var/lib/crvs) whose key stays in the environment's secrets store; after a reboot `crvs volume unlock` opens it. Defaults to true on production and staging.",
    true,
  ),
  dataVolumeGiB: doc(
    z.int().min(1).max(1_000_000).optional(),
    "Size of the encrypted data volume in GiB. Provisioning grows it to a larger value (never shrinks it). Default: 80% of the free space of the data node's /var/lib/crvs when the volume is created.",
    200,
  ),
  sshTotp: doc(
    z.boolean().optional(),
    'Require a TOTP code (on top of the key) for admin SSH logins. Defaults to true on production and staging.',
    true,
  ),
  replicas: doc(
    z.int().min(1).max(10).optional(),
    'Replicas of each stateless service. Defaults to the server count.',
    2,
  ),
  ingressMode: doc(
    z.enum(['vip', 'dnsrr']).default('vip'),
    'Swarm endpoint mode. vip uses IPVS service addresses (real servers); dnsrr works on kernels without IPVS (the lab).',
    'vip',
  ),
};

export const applicationEnvironmentSchema = z.strictObject(applicationFields);

/**
 * Restoring production's backups into the environment. Staging's runs daily by default; qa's and development's
 * only when asked (`crvs restore`) unless they give a schedule.
 */
const restoreField = (defaultSchedule?: string) =>
  z.strictObject({
    source: doc(
      z.string().default('production'),
      'Environment whose backups are restored. Must be production.',
      'production',
    ),
    schedule: defaultSchedule
      ? doc(
          cron.default(defaultSchedule),
          'When the daily restore runs (cron, server time).',
          defaultSchedule,
        )
      : doc(
          cron.optional(),
          'When the restore runs by itself (cron, server time). Without it, only `crvs restore` runs it.',
          '0 3 * * 1',
        ),
    enabled: doc(z.boolean().default(true), 'Turn the restore on or off.', true),
  });

export const stagingEnvironmentSchema = z.strictObject({
  ...applicationFields,
  restore: doc(
    restoreField('0 1 * * *').optional(),
    "Daily restore of production's latest backup into staging.",
    { source: 'production', schedule: '0 1 * * *' },
  ),
});

/**
 * qa and development: production's records only by an explicit `restore`, which makes the environment one that
 * holds citizen data (no test 2FA codes, TOTP on SSH by default).
 */
export const testEnvironmentSchema = z.strictObject({
  ...applicationFields,
  restore: doc(
    restoreField().optional(),
    "Restore of production's backup into this environment, verified first. It then holds citizen data: it must not accept test 2FA codes.",
    { source: 'production' },
  ),
});

export const backupEnvironmentSchema = z.strictObject({
  servers,
});

export const jumpEnvironmentSchema = z.strictObject({
  servers,
});

export const environmentsSchema = doc(
  z.strictObject({
    production: doc(applicationEnvironmentSchema.optional(), 'Live environment with citizen data.', {
      servers: [
        { name: 'prod-1', address: '10.20.0.11', labels: { data: 'true' } },
        { name: 'prod-2', address: '10.20.0.12', role: 'worker' },
      ],
    }),
    staging: doc(
      stagingEnvironmentSchema.optional(),
      'Mirror of production, restored daily from its backup.',
      { servers: [{ name: 'staging-1', address: '10.20.0.21' }], restore: { source: 'production' } },
    ),
    qa: doc(testEnvironmentSchema.optional(), 'Quality assurance and training environment.', {
      servers: [{ name: 'qa-1', address: '10.20.0.5' }],
      testTwoFactorCodes: true,
    }),
    development: doc(
      testEnvironmentSchema.optional(),
      'Development and training only; production data only through an explicit restore.',
      { servers: [{ name: 'dev-1', address: '10.20.0.6' }], testTwoFactorCodes: true },
    ),
    backup: doc(
      backupEnvironmentSchema.optional(),
      'Stores encrypted backups of production; runs no application.',
      { servers: [{ name: 'backup-1', address: '10.20.0.31' }] },
    ),
    jump: doc(jumpEnvironmentSchema.optional(), 'Optional bastion host for SSH access behind the VPN.', {
      servers: [{ name: 'jump-1', address: '203.0.113.10' }],
    }),
  }),
  'The environments and their servers.',
  { qa: { servers: [{ name: 'qa-1', address: '10.20.0.5' }] } },
);
