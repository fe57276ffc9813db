import { recommendedCluster } from './cluster.js';
import { SPEC_VERSION } from './schema.js';
import type { Phase } from './sections/sizing.js';

export interface StarterInput {
  country: string;
  domain: string;
  phase: Phase;
  population: number;
  admin?: { name: string; sshKey: string } | undefined;
  schemaPath?: string;
}

/**
 * A commented starter crvs.yaml for a phase and population. Pure: returns text that validates (tested).
 * Addresses are placeholders from the documentation range 192.0.2.0/24 to be replaced.
 */
export function starterSpec(input: StarterInput): string {
  const cluster = recommendedCluster(input.phase, input.population);
  let host = 10;
  const server = (name: string, extra: string[] = []) =>
    [
      `      - name: ${name}`,
      `        address: 192.0.2.${host++}  # replace with the server's address`,
      ...extra.map((l) => `        ${l}`),
    ].join('\n');
  const productionServers = Array.from({ length: cluster.production }, (_, i) =>
    server(
      `prod-${i + 1}`,
      i === 0 ? ['role: manager', "labels: { data: 'true' }  # data stores live here"] : ['role: worker'],
    ),
  );
  const admin = input.admin
    ? `admins:\n  - name: ${input.admin.name}\n    sshKeys:\n      - ${input.admin.sshKey}\n`
    : `admins: []  # add: - { name: alice, sshKeys: ['ssh-ed25519 AAAA... alice@laptop'] }\n`;
  const hasProduction = cluster.production > 0;
  const parts = [
    `# yaml-language-server: $schema=${input.schemaPath ?? './node_modules/crvs-deploy/schema/crvs.schema.json'}`,
    `# crvs.yaml: the ${input.phase} deployment of ${input.country}. Reference: crvs schema --markdown`,
    `version: ${SPEC_VERSION}`,
    `country: ${input.country}`,
    `phase: ${input.phase}`,
    `domain: ${input.domain}`,
    '',
    '# How crvs and CI reach the servers: direct, bastion (through environments.jump) or vpn.',
    'connection:',
    '  method: direct',
    '',
    admin,
    'environments:',
    '  qa:  # testers and trainers; accepts the test 2FA code 000000',
    '    testTwoFactorCodes: true',
    '    servers:',
    server('qa-1'),
  ];
  if (hasProduction) {
    parts.push(
      '  production:  # citizen data; real 2FA',
      '    servers:',
      ...productionServers,
      "  staging:  # mirror of production, restored daily from production's backup",
      '    servers:',
      server('staging-1'),
      '    restore:',
      '      source: production',
      "      schedule: '0 1 * * *'",
      '  backup:  # stores encrypted backups only',
      '    servers:',
      server('backup-1'),
    );
  }
  parts.push(
    '',
    'tls:',
    '  mode: http-01',
    `  email: ops@${input.domain}`,
    '',
    ...(hasProduction
      ? [
          '# SMTP credentials live in the encrypted store as SMTP_USERNAME and SMTP_PASSWORD (crvs secrets).',
          'smtp:',
          `  host: smtp.${input.domain}`,
          '  port: 587',
          `  sender: noreply@${input.domain}`,
          '',
          'alerts:',
          `  email: [ops@${input.domain}]`,
          '',
          'backups:',
          "  schedule: '0 0 * * *'",
          '  retention: { daily: 7, weekly: 4, monthly: 12 }',
          '',
        ]
      : []),
    'stack:',
    '  preset: opencrvs',
    '  version: v1.9.0',
    '  countryConfig:',
    `    image: opencrvs/${input.country.toLowerCase()}-countryconfig`,
    '    version: v1.9.0',
    '',
    '# Used by crvs plan to size disks and the production cluster.',
    'sizing:',
    `  population: ${input.population}`,
    '  birthRate: 17.299  # per 1000 people',
    '  deathRate: 7.7',
    '  attachmentsPerRecord: 3',
    '  years: 1',
    '',
  );
  return parts.join('\n');
}
