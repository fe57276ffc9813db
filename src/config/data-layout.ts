// Where each stack preset keeps its data on the data node: directories under /data, as the reference lays them
// out (/data/<store>). Provisioning creates them (on the encrypted volume where the environment has one), the
// stacks bind-mount them, the backups read them. A store whose directory is missing does not start: that is what
// keeps a store from writing to the unencrypted disk while the volume is still locked after a reboot. Pure.
import type { Spec } from './schema.js';

export const DATA_ROOT = '/data';

export interface DataDir {
  /** Relative to DATA_ROOT. */
  path: string;
  /**
   * Numeric owner and group, for stores whose image runs as a fixed user and never changes ownership itself.
   * Absent: root creates it and the store's entrypoint takes it over (provisioning then leaves its owner alone).
   */
  owner?: number;
  group?: number;
  mode?: string;
}

export const dataPath = (dir: string) => `${DATA_ROOT}/${dir}`;

/** The demo's app image runs as this user (stacks/demo/app/Dockerfile). */
const DEMO_APP_UID = 10001;
/** Elasticsearch's image runs as uid 1000 in group 0 and needs its data directories writable by it. */
const ELASTICSEARCH_UID = 1000;

const DEMO: DataDir[] = [
  // The entrypoint makes it postgres's own, 0700, on every start.
  { path: 'postgres' },
  { path: 'documents', owner: DEMO_APP_UID, group: DEMO_APP_UID, mode: '0750' },
];

// The bind mounts of opencrvs-countryconfig v1.9.0's docker-compose.deploy.yml under /data (Traefik's ACME store
// is a named volume in crvs's routing, src/deploy/opencrvs/routes.ts).
const OPENCRVS: DataDir[] = [
  { path: 'mongo' },
  { path: 'elasticsearch', owner: ELASTICSEARCH_UID, group: 0, mode: '0770' },
  { path: 'backups' },
  { path: 'backups/elasticsearch', owner: ELASTICSEARCH_UID, group: 0, mode: '0770' },
  { path: 'backups/influxdb' },
  { path: 'influxdb' },
  { path: 'minio' },
  { path: 'postgres' },
  { path: 'vsexport' },
];

export function dataDirs(preset: Spec['stack']['preset']): DataDir[] {
  return preset === 'demo' ? DEMO : OPENCRVS;
}

/** On the backup server: where each source's borg repository lives (/srv/borg/<source>). */
export const BORG_ROOT = '/srv/borg';
