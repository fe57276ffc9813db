// What each variable of the reference compose files stands for in crvs: a value from the spec, or a secret of
// the environment's store, or a secret crvs derives from one (the reference generates those on every deploy; crvs
// derives them one-way from the store's secret, so they change exactly when that secret is rotated). Pure.
import { createHmac } from 'node:crypto';
import { environmentDomain } from '../../config/environment.js';
import type { Spec } from '../../config/schema.js';
import type { Resolved, Resolver } from '../compose/interpolate.js';

/** A secret made from one store secret: its name and the store secret it comes from. */
export interface DerivedPassword {
  key: string;
  from: string;
}

const MONGO_USERS = [
  'USER_MGNT',
  'HEARTH',
  'CONFIG',
  'METRICS',
  'PERFORMANCE',
  'OPENHIM',
  'WEBHOOKS',
  'NOTIFICATION',
  'EVENTS',
];
const REDIS_USERS = ['GATEWAY', 'WORKFLOW', 'AUTH', 'WEBHOOKS'];

/** Per-service database and search users: one password each, never the admin's. */
export const DERIVED_PASSWORDS: DerivedPassword[] = [
  ...MONGO_USERS.map((u) => ({ key: `${u}_MONGODB_PASSWORD`, from: 'MONGODB_ADMIN_PASSWORD' })),
  ...REDIS_USERS.map((u) => ({ key: `${u}_REDIS_PASSWORD`, from: 'REDIS_PASSWORD' })),
  ...['EVENTS_APP', 'EVENTS_MIGRATOR', 'ANALYTICS'].map((u) => ({
    key: `${u}_POSTGRES_PASSWORD`,
    from: 'POSTGRES_PASSWORD',
  })),
  ...['SEARCH', 'METRICBEAT', 'APM'].map((u) => ({
    key: `ROTATING_${u}_ELASTIC_PASSWORD`,
    from: 'ELASTICSEARCH_SUPERUSER_PASSWORD',
  })),
  { key: 'KIBANA_PASSWORD', from: 'KIBANA_SYSTEM_PASSWORD' },
];

/** HMAC-SHA256 of the derived secret's name under the store secret: one-way, and alphanumeric for URLs. */
export function derivePassword(key: string, storeValue: string): string {
  return createHmac('sha256', storeValue)
    .update(`crvs:${key}`)
    .digest('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 32);
}

const plain = (value: string): Resolved => ({ value });
const secret = (name: string): Resolved => ({ secret: name });

/** The image of the country configuration as the reference's three variables spell it. */
function countryImage(spec: Spec): { account: string; repo: string; version: string } {
  const cc = spec.stack.countryConfig;
  const image = cc?.image ?? '';
  const i = image.lastIndexOf('/');
  return { account: image.slice(0, i), repo: image.slice(i + 1), version: cc?.version ?? '' };
}

/**
 * `present` says which optional store secrets have a value (SMTP credentials, Sentry DSN): an absent one becomes
 * an empty value, as the reference's `${NAME:-}` does.
 */
export function opencrvsVariables(
  spec: Spec,
  environment: string,
  version: string,
  present: (name: string) => boolean,
): Resolver {
  const domain = environmentDomain(spec.domain, environment);
  const cc = countryImage(spec);
  const smtp = spec.smtp;
  const optional = (name: string | undefined) => (name && present(name) ? secret(name) : plain(''));
  const table: Record<string, Resolved> = {
    VERSION: plain(version),
    COUNTRY: plain(spec.country),
    DOCKERHUB_ACCOUNT: plain(cc.account),
    DOCKERHUB_REPO: plain(cc.repo),
    COUNTRY_CONFIG_VERSION: plain(cc.version),
    CONTENT_SECURITY_POLICY_WILDCARD: plain(`*.${domain}`),
    NOTIFICATION_TRANSPORT: plain(spec.stack.notification),
    // User names are not secret; their passwords are.
    MONGODB_ADMIN_USER: plain('admin'),
    POSTGRES_USER: plain('postgres'),
    MINIO_ROOT_USER: plain('minioadmin'),
    KIBANA_USERNAME: plain('kibana-admin'),
    ...Object.fromEntries(REDIS_USERS.map((u) => [`${u}_REDIS_USERNAME`, plain(u.toLowerCase())])),
    MONGODB_ADMIN_PASSWORD: secret('MONGODB_ADMIN_PASSWORD'),
    POSTGRES_PASSWORD: secret('POSTGRES_PASSWORD'),
    ELASTICSEARCH_SUPERUSER_PASSWORD: secret('ELASTICSEARCH_SUPERUSER_PASSWORD'),
    KIBANA_SYSTEM_PASSWORD: secret('KIBANA_SYSTEM_PASSWORD'),
    MINIO_ROOT_PASSWORD: secret('MINIO_ROOT_PASSWORD'),
    SUPER_USER_PASSWORD: secret('SUPER_USER_PASSWORD'),
    OPENCRVS_METABASE_ADMIN_PASSWORD: secret('METABASE_ADMIN_PASSWORD'),
    OPENCRVS_METABASE_ADMIN_EMAIL: plain(spec.alerts.email[0] ?? `metabase-admin@${spec.domain}`),
    ...Object.fromEntries(DERIVED_PASSWORDS.map((d) => [d.key, secret(d.key)])),
    SENTRY_DSN: optional('SENTRY_DSN'),
    SMTP_HOST: plain(smtp?.host ?? ''),
    SMTP_PORT: plain(smtp ? String(smtp.port) : ''),
    SMTP_SECURE: plain(smtp ? String(smtp.secure) : ''),
    SMTP_USERNAME: optional(smtp?.usernameSecret),
    SMTP_PASSWORD: optional(smtp?.passwordSecret),
    SENDER_EMAIL_ADDRESS: plain(smtp?.sender ?? ''),
    ALERT_EMAIL: plain(spec.alerts.email[0] ?? ''),
  };
  return (name) => table[name];
}
