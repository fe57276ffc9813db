// Secrets crvs computes at deploy time from the store's values: per-service passwords, the env file of each
// service that reads credentials from variables, the MongoDB key file, the Redis users file, the public half of
// the JWT key. Pure.
import { createHash, createPublicKey } from 'node:crypto';
import { SECRET_MARK } from '../compose/interpolate.js';
import { DERIVED_PASSWORDS, derivePassword } from './variables.js';

export interface DerivedSecret {
  key: string;
  /** Secrets the value is made from (store secrets, or derived ones listed before it). */
  from: string[];
  derive(values: (name: string) => string | undefined, readFile: (path: string) => string): string;
}

export const envSecretName = (service: string) => `ENV_${service.toUpperCase().replace(/-/g, '_')}`;

const shellQuote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/** KEY='value' lines a POSIX shell sources, with each secret mark replaced by its value. */
export function envFile(service: string, vars: Record<string, string>): DerivedSecret {
  const from = new Set<string>();
  for (const v of Object.values(vars)) for (const m of v.matchAll(SECRET_MARK)) from.add(m[1] as string);
  return {
    key: envSecretName(service),
    from: [...from].sort(),
    derive: (values) =>
      Object.entries(vars)
        .map(([k, v]) => `${k}=${shellQuote(v.replace(SECRET_MARK, (_, n: string) => values(n) ?? ''))}\n`)
        .join(''),
  };
}

export const derivedPasswords = (): DerivedSecret[] =>
  DERIVED_PASSWORDS.map((d) => ({
    key: d.key,
    from: [d.from],
    derive: (values) => derivePassword(d.key, values(d.from) ?? ''),
  }));

export const mongoKeyfile: DerivedSecret = {
  key: 'MONGO_KEYFILE',
  from: ['MONGODB_ADMIN_PASSWORD'],
  // Replica-set members authenticate with it; one-way, so it changes when the admin password rotates.
  derive: (values) =>
    `${createHash('sha512')
      .update(`crvs:mongo-keyfile:${values('MONGODB_ADMIN_PASSWORD') ?? ''}`)
      .digest('base64')}\n`,
};

/** The reference's users.acl: the default user and one user per service that uses Redis. */
export const redisAcl: DerivedSecret = {
  key: 'REDIS_ACL',
  from: [
    'REDIS_PASSWORD',
    'GATEWAY_REDIS_PASSWORD',
    'WORKFLOW_REDIS_PASSWORD',
    'AUTH_REDIS_PASSWORD',
    'WEBHOOKS_REDIS_PASSWORD',
  ],
  derive: (values) =>
    [
      `user default on >${values('REDIS_PASSWORD') ?? ''} ~* +@all`,
      ...['gateway', 'workflow', 'auth', 'webhooks'].map(
        (u) => `user ${u} on >${values(`${u.toUpperCase()}_REDIS_PASSWORD`) ?? ''} ~* +@all`,
      ),
      '',
    ].join('\n'),
};

export const authPublicKey: DerivedSecret = {
  key: 'AUTH_PUBLIC_KEY',
  from: ['AUTH_PRIVATE_KEY'],
  derive: (values) =>
    createPublicKey(values('AUTH_PRIVATE_KEY') ?? '')
      .export({ type: 'spki', format: 'pem' })
      .toString(),
};
