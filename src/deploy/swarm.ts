// Swarm operations on the manager, as data.
import { createHash } from 'node:crypto';
import type { CommandSpec } from '../remote/executor.js';
import { onHost, type RemoteHost } from '../remote/host.js';
import { and, cmd, discardErrors, discardOutput, mergeErrors, or, pipe, seq, sudo } from '../remote/shell.js';
import type { Sensitive } from '../secrets/sensitive.js';
import { STATE_DIR } from './lock.js';

export const releaseDir = (environment: string) => `${STATE_DIR}/${environment}`;
export const stackFile = (environment: string, version: string) =>
  `${releaseDir(environment)}/stack-${version.replace(/[^A-Za-z0-9._-]/g, '_')}.yml`;

/**
 * Swarm secrets cannot change, so each value gets its own name: the stack's secret key plus a short digest of
 * name and value. Only people with Docker rights on the manager see these names, and they can read the secrets
 * themselves anyway.
 */
export function dockerSecretName(stack: string, key: string, value: Sensitive<string>): string {
  const digest = createHash('sha256')
    .update(key)
    .update('\0')
    .update(value.reveal())
    .digest('hex')
    .slice(0, 10);
  return `${stack}_${key.toLowerCase()}_${digest}`;
}

export const listSecrets = (m: RemoteHost): CommandSpec =>
  onHost(m, sudo('docker', 'secret', 'ls', '--format', '{{.Name}}'), {
    description: 'list Docker secrets',
  });

/** The value goes on stdin (`-`), never on a command line. */
export const createSecret = (
  m: RemoteHost,
  name: string,
  key: string,
  value: Sensitive<string>,
): CommandSpec =>
  onHost(m, sudo('docker', 'secret', 'create', '--label', `crvs.secret=${key}`, name, '-'), {
    stdin: value,
    description: `create Docker secret for ${key}`,
  });

export const uploadStack = (m: RemoteHost, version: string, compose: string): CommandSpec =>
  onHost(
    m,
    and(
      sudo('mkdir', '-p', releaseDir(m.environment)),
      discardOutput(sudo('tee', stackFile(m.environment, version))),
    ),
    { stdin: compose, description: `upload the ${version} stack file` },
  );

/**
 * A file the stack file's configs point at, beside it in the release folder. Its name carries its content's
 * digest, so a kept release's files stay as they were.
 */
export const uploadFile = (m: RemoteHost, path: string, content: string): CommandSpec => {
  const target = `${releaseDir(m.environment)}/${path}`;
  return onHost(
    m,
    and(sudo('mkdir', '-p', target.slice(0, target.lastIndexOf('/'))), discardOutput(sudo('tee', target))),
    { stdin: content, description: `upload ${path}` },
  );
};

export const readStack = (m: RemoteHost, version: string): CommandSpec =>
  onHost(m, sudo('cat', stackFile(m.environment, version)), {
    allowFailure: true,
    description: `read the ${version} stack file`,
  });

export const stackDeploy = (m: RemoteHost, stack: string, version: string): CommandSpec =>
  onHost(
    m,
    sudo(
      'docker',
      'stack',
      'deploy',
      '--with-registry-auth',
      '--resolve-image',
      'changed',
      '--compose-file',
      stackFile(m.environment, version),
      stack,
    ),
    { description: `docker stack deploy ${stack} (${version})`, timeoutMs: 10 * 60_000 },
  );

export const managerClock = (m: RemoteHost): CommandSpec =>
  onHost(m, cmd('date', '-u', '+%Y-%m-%dT%H:%M:%SZ'), { description: "read the manager's clock" });

export interface Release {
  version: string;
  at: string;
  history: string[];
}

export const releaseFile = (environment: string) => `${releaseDir(environment)}/release.json`;

export const readRelease = (m: RemoteHost): CommandSpec =>
  onHost(m, or(discardErrors(sudo('cat', releaseFile(m.environment))), cmd('echo', '{}')), {
    description: 'read the running release',
  });

export const writeRelease = (m: RemoteHost, release: Release): CommandSpec =>
  onHost(m, discardOutput(sudo('tee', releaseFile(m.environment))), {
    stdin: `${JSON.stringify(release, null, 2)}\n`,
    description: `record release ${release.version}`,
  });

/** Last log lines and task errors of a service, for the report of a failed release. */
export const serviceDiagnostics = (m: RemoteHost, service: string): CommandSpec =>
  onHost(
    m,
    seq(
      sudo(
        'docker',
        'service',
        'ps',
        '--no-trunc',
        '--format',
        '{{.Name}} {{.CurrentState}} {{.Error}}',
        service,
      ),
      pipe(
        mergeErrors(
          sudo('docker', 'service', 'logs', '--tail', '30', '--no-task-ids', '--timestamps', service),
        ),
        cmd('tail', '-n', '30'),
      ),
    ),
    { allowFailure: true, description: `diagnose ${service}`, timeoutMs: 60_000 },
  );
