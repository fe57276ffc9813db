import { z } from 'zod';
import { adminsSchema } from './sections/admins.js';
import { backupsSchema } from './sections/backups.js';
import { ciSchema } from './sections/ci.js';
import { hostname } from './sections/common.js';
import { connectionSchema } from './sections/connection.js';
import { doc } from './sections/doc.js';
import { environmentsSchema, type serverSchema } from './sections/environments.js';
import {
  alertsSchema,
  githubSchema,
  registrySchema,
  smtpSchema,
  stackSchema,
  tlsSchema,
} from './sections/services.js';
import { PHASES, sizingSchema } from './sections/sizing.js';

export const SPEC_VERSION = 1;

export const specSchema = z.strictObject({
  version: doc(z.literal(SPEC_VERSION), 'Version of this file format.', SPEC_VERSION),
  country: doc(
    z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 3166-1 alpha-3 code in capitals, such as FAR or KEN'),
    'Country code (ISO 3166-1 alpha-3).',
    'FAR',
  ),
  phase: doc(
    z.enum(PHASES).optional(),
    'Project phase: poc (one qa server, no citizen data), pilot (one server per environment) or national (production cluster). Inferred from the environments when omitted.',
    'pilot',
  ),
  domain: doc(
    hostname,
    'Base domain; services are published as <service>.<domain>.',
    'farajaland.gov.example',
  ),
  connection: connectionSchema,
  admins: adminsSchema,
  environments: environmentsSchema,
  tls: tlsSchema,
  smtp: smtpSchema,
  alerts: alertsSchema,
  registry: registrySchema,
  github: githubSchema,
  ci: ciSchema,
  stack: stackSchema,
  backups: backupsSchema,
  sizing: sizingSchema,
});

export type SpecInput = z.input<typeof specSchema>;
export type Spec = z.output<typeof specSchema>;
export type ServerSpec = z.output<typeof serverSchema>;
