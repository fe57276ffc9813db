import { POPULATION_BANDS, recommendedCluster } from '../config/cluster.js';
import type { CapacityPlan } from '../plan/capacity.js';
import { renderTable } from '../report/table.js';

const n0 = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 0 });
const gb = (x: number) =>
  `${x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} GB`;

export interface DeclaredCounts {
  [environment: string]: number;
}

/** Human rendering of a capacity plan. Pure: returns text. */
export function renderCapacityPlan(plan: CapacityPlan, declared?: DeclaredCounts): string {
  const { inputs, disk } = plan;
  const years = `${inputs.years} year${inputs.years === 1 ? '' : 's'}`;
  const lines = [
    `Capacity plan: ${plan.phase} phase, population ${n0(inputs.population)} (band ${plan.populationBand})`,
    `Inputs: ${inputs.birthRate} births + ${inputs.deathRate} deaths per 1000 people, ${inputs.attachmentsPerRecord} attachments per record, ${years}`,
    '',
    renderTable(
      ['Quantity', 'Value', 'Formula'],
      [
        ['Records per year', n0(disk.recordsPerYear), 'population x (births + deaths) / 1000'],
        ['Attachments per year', gb(disk.attachmentsGBPerYear), 'records x attachments x 0.4 MB'],
        ['Record data per year', gb(disk.recordDataGBPerYear), 'records x 18.33 kB'],
        ['Application disk', gb(disk.applicationGB), `100 GB + ${years} of attachments and record data`],
        ['Backup disk', gb(disk.backupGB), '2 x application disk'],
      ],
      ['left', 'right', 'left'],
    ),
    '',
    renderTable(
      ['Environment', 'Servers', ...(declared ? ['Declared'] : []), 'RAM', 'CPUs', 'Disk', 'OS'],
      plan.specifications
        .filter((s) => s.count > 0 || (declared?.[s.environment] ?? 0) > 0)
        .map((s) => [
          s.environment,
          String(s.count),
          ...(declared ? [String(declared[s.environment] ?? 0)] : []),
          `${s.ramGB} GB`,
          String(s.cpus),
          gb(s.diskGB),
          s.os,
        ]),
      ['left', 'right', ...(declared ? (['right'] as const) : []), 'right', 'right', 'right', 'left'],
    ),
    '',
    'Clusters by phase (seed recommendation):',
    `  poc       qa x1, no backup (no citizen data)`,
    `  pilot     ${counts(recommendedCluster('pilot'))}`,
    ...POPULATION_BANDS.map(
      (b) => `  national  ${b.label.padEnd(10)} ${counts(recommendedCluster('national', b.from))}`,
    ),
    '',
    'Units are decimal (1 GB = 1000 MB). Disks must be monitored and grown on demand.',
  ];
  return lines.join('\n');
}

function counts(c: Record<string, number>): string {
  return Object.entries(c)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} x${n}`)
    .join(', ');
}
