import { inferPhase, recommendedProductionServers } from './cluster.js';
import {
  APPLICATION_ENVIRONMENTS,
  ENVIRONMENTS as ENVIRONMENT_KINDS,
  type EnvironmentName as EnvironmentKind,
  restoreSettings,
} from './environment.js';
import type { PathSegment } from './positions.js';
import { SCHEDULE_RULES } from './rules-schedules.js';
import type { Spec } from './schema.js';

export type { Rule, RuleContext, RuleProblem } from './rule.js';

import type { Rule, RuleProblem } from './rule.js';

type AppKind = (typeof APPLICATION_ENVIRONMENTS)[number];

/** Whether an environment holds citizen data: production and staging by default, and any that restores
 * production's backups. */
export function citizenData(
  kind: AppKind,
  env: { citizenData?: boolean | undefined; restore?: { enabled: boolean } | undefined },
): boolean {
  return env.citizenData ?? (kind === 'production' || kind === 'staging' || env.restore?.enabled === true);
}

/**
 * Whether the environment's data stores live on the encrypted data volume (src/provision/data-volume.ts): by
 * default on production and staging, which hold citizen data. False for the backup server and the jump host, which
 * hold no stores.
 */
export function environmentEncrypted(spec: Spec, name: string): boolean {
  if (!(APPLICATION_ENVIRONMENTS as readonly string[]).includes(name)) return false;
  return spec.environments[name as AppKind]?.encryptData ?? (name === 'production' || name === 'staging');
}

export function allServers(spec: Spec) {
  return ENVIRONMENT_KINDS.flatMap((kind) =>
    (spec.environments[kind]?.servers ?? []).map((server, index) => ({ kind, index, server })),
  );
}

const envPath = (kind: EnvironmentKind, ...rest: PathSegment[]): PathSegment[] => [
  'environments',
  kind,
  ...rest,
];

/** The cross-field rules, each named; every rule runs and reports every problem it finds. */
export const RULES: Rule[] = [
  {
    name: 'test-2fa-only-outside-production',
    check({ spec, error }) {
      for (const kind of ['production', 'staging'] as const) {
        if (spec.environments[kind]?.testTwoFactorCodes) {
          error(
            envPath(kind, 'testTwoFactorCodes'),
            `${kind} must not accept the test 2FA code 000000`,
            'only qa and development may use testTwoFactorCodes',
          );
        }
      }
      for (const kind of ['qa', 'development'] as const) {
        const env = spec.environments[kind];
        if (env?.testTwoFactorCodes && env.restore?.enabled) {
          error(
            envPath(kind, 'testTwoFactorCodes'),
            `${kind} restores production's citizen records, so it must not accept the test 2FA code 000000`,
            `turn testTwoFactorCodes off on ${kind}, or remove environments.${kind}.restore`,
          );
        }
      }
    },
  },
  {
    name: 'data-volume-size',
    check({ spec, error }) {
      for (const kind of APPLICATION_ENVIRONMENTS) {
        if (spec.environments[kind]?.dataVolumeGiB !== undefined && !environmentEncrypted(spec, kind))
          error(
            envPath(kind, 'dataVolumeGiB'),
            `dataVolumeGiB sizes the encrypted data volume, and ${kind} keeps its data on a plain directory`,
            `remove dataVolumeGiB, or set encryptData: true on ${kind}`,
          );
      }
    },
  },
  {
    name: 'citizen-data-needs-backup',
    check({ spec, error }) {
      for (const kind of APPLICATION_ENVIRONMENTS) {
        const env = spec.environments[kind];
        if (kind === 'production' && env && citizenData(kind, env) && !spec.environments.backup) {
          error(
            envPath('production'),
            'production holds citizen data but no backup environment is declared',
            'add environments.backup with one server, or set citizenData: false for a proof of concept',
          );
        }
        if (env && (kind === 'qa' || kind === 'development')) {
          const restores = spec.environments[kind]?.restore?.enabled === true;
          if (env.citizenData && !restores)
            error(
              envPath(kind, 'citizenData'),
              `${kind} must not hold citizen data`,
              `only production, its staging mirror and an environment that restores production's backup (environments.${kind}.restore) may hold personally identifiable information`,
            );
          if (env.citizenData === false && restores)
            error(
              envPath(kind, 'citizenData'),
              `${kind} restores production's backup, so it holds citizen data`,
              `remove citizenData: false, or remove environments.${kind}.restore`,
            );
        }
      }
      if (
        spec.environments.production &&
        citizenData('production', spec.environments.production) &&
        !spec.backups
      ) {
        error(
          ['backups'],
          'production holds citizen data but backups are not configured',
          'add a backups section',
        );
      }
    },
  },
  {
    name: 'backup-references',
    check({ spec, error }) {
      if (!spec.backups) return;
      if (!spec.environments.production)
        error(['backups', 'source'], 'backups.source is production, which is not declared');
      if (!spec.environments.backup)
        error(['backups', 'target'], 'backups.target is backup, which is not declared');
    },
  },
  {
    name: 'restores-from-production',
    check({ spec, error }) {
      for (const { environment, restore } of restoreSettings(spec)) {
        const kind = environment as AppKind;
        if (restore.source !== 'production') {
          error(
            envPath(kind, 'restore', 'source'),
            `${environment} may restore only from production, not from "${restore.source}"`,
            'production is the only environment crvs backs up',
          );
        } else if (!spec.environments.production) {
          error(
            envPath(kind, 'restore', 'source'),
            `${environment} restores from production, which is not declared`,
          );
        }
      }
    },
  },
  {
    name: 'unique-servers',
    check({ spec, error }) {
      const byAddress = new Map<string, { kind: EnvironmentKind; index: number }>();
      const byName = new Map<string, { kind: EnvironmentKind; index: number }>();
      for (const { kind, index, server } of allServers(spec)) {
        const key = `${server.address.toLowerCase()}:${server.sshPort}`;
        const seen = byAddress.get(key);
        if (seen) {
          const same = seen.kind === kind;
          error(
            envPath(kind, 'servers', index, 'address'),
            `address ${server.address} is already used by environments.${seen.kind}.servers[${seen.index}]`,
            same
              ? 'each server in an environment needs its own address'
              : seen.kind === 'backup' || kind === 'backup'
                ? 'the backup server must be a separate machine: a compromised application server must not reach its backups'
                : 'environments must not share servers',
          );
        } else byAddress.set(key, { kind, index });
        const seenName = byName.get(server.name);
        if (seenName) {
          error(
            envPath(kind, 'servers', index, 'name'),
            `server name ${server.name} is already used by environments.${seenName.kind}.servers[${seenName.index}]`,
          );
        } else byName.set(server.name, { kind, index });
      }
    },
  },
  {
    name: 'x86-64-only',
    check({ spec, error }) {
      for (const { kind, index, server } of allServers(spec)) {
        if (server.architecture !== 'x86_64' && server.architecture !== 'amd64') {
          error(
            envPath(kind, 'servers', index, 'architecture'),
            `${server.name} is ${server.architecture}; OpenCRVS runs on x86_64 only`,
            'choose an x86_64 (amd64) server',
          );
        }
      }
    },
  },
  {
    name: 'one-manager-per-cluster',
    check({ spec, error }) {
      for (const kind of APPLICATION_ENVIRONMENTS) {
        const servers = spec.environments[kind]?.servers ?? [];
        const managers = servers.flatMap((s, i) => (s.role === 'manager' ? [i] : []));
        if (servers.length && managers.length !== 1) {
          error(
            envPath(kind, 'servers', managers[1] ?? 0, 'role'),
            `${kind} has ${managers.length} managers; exactly one server must be the manager`,
            'set role: worker on the other servers',
          );
        }
        const dataNodes = servers.filter((s) => s.labels.data === 'true').length;
        if (servers.length > 1 && dataNodes !== 1) {
          error(
            envPath(kind, 'servers'),
            `${kind} has ${servers.length} servers and ${dataNodes} data nodes; label exactly one with data: "true"`,
            'the data stores are placed on the labelled node',
          );
        }
      }
      for (const kind of ['backup', 'jump'] as const) {
        const n = spec.environments[kind]?.servers.length ?? 0;
        if (n > 1) error(envPath(kind, 'servers'), `${kind} takes one server, not ${n}`);
      }
    },
  },
  {
    name: 'bastion-needs-jump-host',
    check({ spec, error, warn }) {
      if (spec.connection.method === 'bastion' && !spec.environments.jump) {
        error(
          ['connection', 'method'],
          'connection method is bastion but no jump host is declared',
          'add environments.jump',
        );
      }
      if (spec.connection.method === 'vpn' && !spec.connection.vpn) {
        error(['connection', 'vpn'], 'connection method is vpn but the vpn recipe is missing');
      }
      const vpn = spec.connection.vpn;
      if (vpn?.kind === 'openconnect' && (!vpn.usernameSecret || !vpn.passwordSecret)) {
        error(['connection', 'vpn'], 'openconnect needs usernameSecret and passwordSecret');
      }
      if (vpn?.kind === 'wireguard' && !vpn.configSecret) {
        error(['connection', 'vpn'], 'wireguard needs configSecret');
      }
      if (spec.connection.method !== 'vpn' && vpn) {
        warn(
          ['connection', 'vpn'],
          `a vpn recipe is declared but connection method is ${spec.connection.method}`,
        );
      }
    },
  },
  {
    name: 'production-needs-smtp',
    check({ spec, error }) {
      if (spec.environments.production && !spec.smtp) {
        error(
          ['smtp'],
          'production needs an SMTP server for staff onboarding and alerts',
          'add an smtp section',
        );
      }
      if (spec.alerts.email.length && !spec.smtp) {
        error(['alerts', 'email'], 'alert e-mails need an smtp section');
      }
    },
  },
  {
    name: 'production-cluster-size',
    check({ spec, warn }) {
      const production = spec.environments.production;
      if (!production) return;
      const count = production.servers.length;
      const phase = spec.phase ?? inferPhase(spec);
      if (phase === 'national' && spec.sizing) {
        const recommended = recommendedProductionServers(spec.sizing.population);
        if (count < recommended) {
          warn(
            envPath('production', 'servers'),
            `production has ${count} server${count === 1 ? '' : 's'}; ${recommended} are recommended for a population of ${spec.sizing.population.toLocaleString('en-US')}`,
            'see crvs plan',
          );
          return;
        }
      }
      if (count < 2 && phase === 'national') {
        warn(
          envPath('production', 'servers'),
          'production has 1 server; at least 2 are recommended for high availability',
        );
      }
    },
  },
  {
    name: 'qa-for-pilot-and-national',
    check({ spec, warn }) {
      const phase = spec.phase ?? inferPhase(spec);
      if ((phase === 'pilot' || phase === 'national') && !spec.environments.qa) {
        warn(
          ['environments'],
          `a ${phase} needs a qa environment to test releases before production`,
          'add environments.qa',
        );
      }
    },
  },
  {
    name: 'poc-has-no-citizen-data',
    check({ spec, warn }) {
      if (spec.phase === 'poc' && spec.environments.production) {
        warn(
          ['phase'],
          'a proof of concept runs on qa only and must not capture citizen data',
          'set phase: pilot',
        );
      }
    },
  },
  {
    name: 'someone-can-log-in',
    check({ spec, warn }) {
      if (!presentAdmins(spec).length)
        warn(
          ['admins'],
          'no admin is present: once provisioning hardens the servers (no passwords, no root), nobody could log in',
          'add one: admins: [{ name: alice, sshKeys: ["ssh-ed25519 AAAA... alice@laptop"] }] (crvs provision refuses until then)',
        );
    },
  },
  {
    name: 'citizen-data-encrypted-at-rest',
    check({ spec, warn }) {
      for (const kind of APPLICATION_ENVIRONMENTS) {
        const env = spec.environments[kind];
        if (env && citizenData(kind, env) && env.encryptData === false)
          warn(
            envPath(kind, 'encryptData'),
            `${kind} holds citizen data and keeps it unencrypted on its data node's disk`,
            'remove encryptData: false, unless the disks are encrypted another way (docs/provisioning.md)',
          );
      }
    },
  },
  ...SCHEDULE_RULES,
];

/** The admins whose accounts provisioning creates. */
export const presentAdmins = (spec: Pick<Spec, 'admins'>) => spec.admins.filter((a) => a.state === 'present');

export function runRules(spec: Spec, rules: Rule[] = RULES): RuleProblem[] {
  const problems: RuleProblem[] = [];
  for (const rule of rules) {
    rule.check({
      spec,
      error: (path, message, hint) =>
        problems.push({ severity: 'error', rule: rule.name, path, message, ...(hint ? { hint } : {}) }),
      warn: (path, message, hint) =>
        problems.push({ severity: 'warning', rule: rule.name, path, message, ...(hint ? { hint } : {}) }),
    });
  }
  return problems;
}
