import type { Spec } from './schema.js';
import type { Phase } from './sections/sizing.js';

export type ServerCounts = Record<'qa' | 'production' | 'staging' | 'backup', number>;

/** Population bands of the seed document, lower bound inclusive: [0, 30M) -> 2, [30M, 60M) -> 3, 60M+ -> 5. */
export const POPULATION_BANDS = [
  { from: 0, below: 30_000_000, production: 2, label: '< 30M' },
  { from: 30_000_000, below: 60_000_000, production: 3, label: '30M - 60M' },
  { from: 60_000_000, below: Number.POSITIVE_INFINITY, production: 5, label: '60M+' },
] as const;

export function populationBand(population: number) {
  const band = POPULATION_BANDS.find((b) => population >= b.from && population < b.below);
  if (!band) throw new RangeError(`population must be a non-negative number, got ${population}`);
  return band;
}

export function recommendedProductionServers(population: number): number {
  return populationBand(population).production;
}

/** Servers per environment for a phase (the seed's "server clusters by project"). */
export function recommendedCluster(phase: Phase, population?: number): ServerCounts {
  switch (phase) {
    case 'poc':
      return { qa: 1, production: 0, staging: 0, backup: 0 };
    case 'pilot':
      return { qa: 1, production: 1, staging: 1, backup: 1 };
    case 'national':
      return { qa: 1, production: recommendedProductionServers(population ?? 0), staging: 1, backup: 1 };
  }
}

/** A spec without production is a proof of concept; one production server a pilot; more, national scale. */
export function inferPhase(spec: Pick<Spec, 'environments'>): Phase {
  const production = spec.environments.production?.servers.length ?? 0;
  if (production === 0) return 'poc';
  return production === 1 ? 'pilot' : 'national';
}
