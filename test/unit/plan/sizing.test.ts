import { describe, expect, it } from 'vitest';
import { inferPhase, populationBand, recommendedCluster } from '../../../src/config/cluster.js';
import { capacityPlan } from '../../../src/plan/capacity.js';
import { estimateDisk } from '../../../src/plan/sizing.js';

const seed = { population: 30_000_000, birthRate: 17.299, deathRate: 7.7, attachmentsPerRecord: 3, years: 1 };

describe('disk formula (seed document)', () => {
  it("computes the seed's worked example exactly", () => {
    expect(estimateDisk(seed)).toEqual({
      recordsPerYear: 749_970,
      attachmentsGBPerYear: 899.96,
      recordDataGBPerYear: 13.75,
      operatingSystemGB: 100,
      applicationGB: 1013.71,
      backupGB: 2027.42,
    });
  });

  it.each([
    // population, births, deaths, attachments, years -> records, application GB, backup GB
    [1_000_000, 20, 10, 2, 1, 30_000, 100 + 24 + 0.5499, 2 * (124 + 0.5499)],
    [1_000_000, 20, 10, 2, 5, 30_000, 100 + 5 * 24.5499, 2 * (100 + 5 * 24.5499)],
    [10_000, 0, 0, 3, 1, 0, 100, 200],
    [5_000_000, 35.5, 9.25, 0, 2, 223_750, 100 + 2 * 4.1013375, 2 * (100 + 2 * 4.1013375)],
    [100_000_000, 17.299, 7.7, 3, 1, 2_499_900, 100 + 2999.88 + 45.823167, 2 * (100 + 2999.88 + 45.823167)],
  ])(
    '%d people, %d+%d per 1000, %d attachments, %d years',
    (population, birthRate, deathRate, attachments, years, records, app, backup) => {
      const d = estimateDisk({ population, birthRate, deathRate, attachmentsPerRecord: attachments, years });
      expect(d.recordsPerYear).toBe(records);
      expect(d.applicationGB).toBe(Math.round(app * 100) / 100);
      expect(d.backupGB).toBe(Math.round(backup * 100) / 100);
    },
  );
});

describe('population bands (lower bound inclusive)', () => {
  it.each([
    [1, 2, '< 30M'],
    [29_999_999, 2, '< 30M'],
    [30_000_000, 3, '30M - 60M'],
    [59_999_999, 3, '30M - 60M'],
    [60_000_000, 5, '60M+'],
    [1_400_000_000, 5, '60M+'],
  ])('%d people -> production x%d (%s)', (population, production, label) => {
    expect(populationBand(population).label).toBe(label);
    expect(recommendedCluster('national', population)).toEqual({ qa: 1, production, staging: 1, backup: 1 });
  });

  it('proof of concept is one qa server and no backup; pilot one server per environment', () => {
    expect(recommendedCluster('poc', 80_000_000)).toEqual({ qa: 1, production: 0, staging: 0, backup: 0 });
    expect(recommendedCluster('pilot', 80_000_000)).toEqual({ qa: 1, production: 1, staging: 1, backup: 1 });
  });

  it('infers the phase from the production cluster', () => {
    const envs = (n: number) =>
      ({
        environments: n ? { production: { servers: Array.from({ length: n }) } } : {},
      }) as Parameters<typeof inferPhase>[0];
    expect([0, 1, 2, 5].map((n) => inferPhase(envs(n)))).toEqual(['poc', 'pilot', 'national', 'national']);
  });
});

describe('server specifications', () => {
  it('uses the seed minimums and the computed disks', () => {
    const plan = capacityPlan(seed, 'national');
    expect(plan.servers).toEqual({ qa: 1, production: 3, staging: 1, backup: 1 });
    const byEnv = Object.fromEntries(
      plan.specifications.map((s) => [s.environment, [s.count, s.ramGB, s.cpus, s.diskGB]]),
    );
    expect(byEnv).toEqual({
      qa: [1, 16, 4, 320],
      production: [3, 16, 8, 1013.71],
      staging: [1, 16, 8, 1013.71],
      backup: [1, 1, 2, 2027.42],
      development: [0, 16, 4, 320],
    });
    expect(new Set(plan.specifications.map((s) => s.os))).toEqual(new Set(['Ubuntu 24.04 LTS x86_64']));
  });
});
