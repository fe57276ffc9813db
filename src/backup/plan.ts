// The backup plan one data node runs: everything the runner (ansible/roles/crvs_backup_client/files/crvs-backup)
// needs, as one JSON document written by Ansible to /etc/crvs/backup/plan.json. No secret is in it: the
// passphrase is read by borg itself through BORG_PASSCOMMAND. Pure.
import type { Spec } from '../config/schema.js';
import { borgCreate, borgInit, borgList } from './borg.js';
import { archiveGlob } from './naming.js';
import { demoSources, openCrvsSources, type SourceSet } from './sources.js';

/** Where the FIFOs and the manifest live while a backup runs (systemd RuntimeDirectory, root only, memory). */
export const RUN_DIR = '/run/crvs-backup';
export const ARCHIVE_TOKEN = '{archive}';

export interface BackupPlan extends SourceSet {
  format: 1;
  environment: string;
  repository: string;
  runDir: string;
  /** `borg create` with `{archive}` standing for the archive's name, decided when the run starts. */
  create: string[];
  /** Run when `borg list` says the repository does not exist yet (the first backup). */
  init: string[];
  check: string[];
  /** Finds a service's running container on this node: `{service}` is replaced by `<stack>_<service>`. */
  containerLookup: string[];
  releaseFile: string;
}

export function containerLookup(): string[] {
  return [
    'docker',
    'ps',
    '--quiet',
    '--filter',
    'label=com.docker.swarm.service.name={service}',
    '--filter',
    'status=running',
  ];
}

export function sourcesFor(spec: Spec): SourceSet {
  return spec.stack.preset === 'demo' ? demoSources() : openCrvsSources();
}

export function backupPlan(spec: Spec, environment: string, repository: string): BackupPlan {
  return {
    format: 1,
    environment,
    repository,
    runDir: RUN_DIR,
    create: borgCreate(repository, ARCHIVE_TOKEN),
    init: borgInit(repository),
    check: borgList(repository, archiveGlob(environment)),
    containerLookup: containerLookup(),
    releaseFile: `/var/lib/crvs/${environment}/release.json`,
    ...sourcesFor(spec),
  };
}

export const renderBackupPlan = (plan: BackupPlan) => `${JSON.stringify(plan, null, 2)}\n`;
