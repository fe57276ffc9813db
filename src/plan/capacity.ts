import { populationBand, recommendedCluster, type ServerCounts } from '../config/cluster.js';
import type { Phase } from '../config/sections/sizing.js';
import { type DiskEstimate, estimateDisk, type SizingInput } from './sizing.js';

export interface ServerSpecification {
  environment: string;
  count: number;
  ramGB: number;
  cpus: number;
  diskGB: number;
  os: string;
}

export interface CapacityPlan {
  phase: Phase;
  populationBand: string;
  inputs: SizingInput;
  recordsPerYear: number;
  disk: DiskEstimate;
  servers: ServerCounts;
  specifications: ServerSpecification[];
}

export const OS = 'Ubuntu 24.04 LTS x86_64';

/** The seed's minimum server specifications; production/staging/backup disks come from the formula. */
export function serverSpecifications(servers: ServerCounts, disk: DiskEstimate): ServerSpecification[] {
  const rows: ServerSpecification[] = [
    { environment: 'qa', count: servers.qa, ramGB: 16, cpus: 4, diskGB: 320, os: OS },
    {
      environment: 'production',
      count: servers.production,
      ramGB: 16,
      cpus: 8,
      diskGB: disk.applicationGB,
      os: OS,
    },
    {
      environment: 'staging',
      count: servers.staging,
      ramGB: 16,
      cpus: 8,
      diskGB: disk.applicationGB,
      os: OS,
    },
    { environment: 'backup', count: servers.backup, ramGB: 1, cpus: 2, diskGB: disk.backupGB, os: OS },
    { environment: 'development', count: 0, ramGB: 16, cpus: 4, diskGB: 320, os: OS },
  ];
  return rows;
}

export function capacityPlan(inputs: SizingInput, phase: Phase): CapacityPlan {
  const disk = estimateDisk(inputs);
  const servers = recommendedCluster(phase, inputs.population);
  return {
    phase,
    populationBand: populationBand(inputs.population).label,
    inputs,
    recordsPerYear: disk.recordsPerYear,
    disk,
    servers,
    specifications: serverSpecifications(servers, disk),
  };
}
