// The seed's disk formula, computed exactly in decimal units (1 GB = 1000 MB = 1,000,000 kB).
//   records/year      = population x (birth rate + death rate) / 1000
//   attachments/year  = records x attachments per record x 0.4 MB
//   record data/year  = records x 18.33 kB
//   application disk  = 100 GB + years x (attachments + record data)
//   backup disk       = 2 x application disk

export const OS_GB = 100;
export const ATTACHMENT_MB = 0.4;
export const RECORD_KB = 18.33;

export interface SizingInput {
  population: number;
  birthRate: number;
  deathRate: number;
  attachmentsPerRecord: number;
  years: number;
}

/** The seed's rates where the spec's sizing section and the flags leave them out. */
export const DEFAULT_RATES = { birthRate: 17.299, deathRate: 7.7, attachmentsPerRecord: 3, years: 1 };

/** Flags over the spec's sizing section over the seed's rates; undefined without a population. */
export function sizingInputs(
  section: Partial<SizingInput> | undefined,
  flags: Partial<SizingInput> = {},
): SizingInput | undefined {
  const population = flags.population ?? section?.population;
  if (population === undefined) return undefined;
  const pick = <K extends keyof typeof DEFAULT_RATES>(k: K) => flags[k] ?? section?.[k] ?? DEFAULT_RATES[k];
  return {
    population,
    birthRate: pick('birthRate'),
    deathRate: pick('deathRate'),
    attachmentsPerRecord: pick('attachmentsPerRecord'),
    years: Math.round(pick('years')),
  };
}

export interface DiskEstimate {
  recordsPerYear: number;
  attachmentsGBPerYear: number;
  recordDataGBPerYear: number;
  operatingSystemGB: number;
  applicationGB: number;
  backupGB: number;
}

/** Round to cents without binary floating-point surprises (1013.7110001 -> 1013.71). */
export function round2(x: number): number {
  return Math.round((x + Number.EPSILON) * 100) / 100;
}

export function estimateDisk(input: SizingInput): DiskEstimate {
  // Rates have at most a few decimals: scale to integers per 1000 people to keep the arithmetic exact.
  const ratePerMillion = Math.round((input.birthRate + input.deathRate) * 1000);
  const recordsPerYear = Math.round((input.population * ratePerMillion) / 1_000_000);
  // In thousandths of a GB (MB) and millionths (kB), still integers for realistic inputs.
  const attachmentsMB =
    (recordsPerYear * Math.round(input.attachmentsPerRecord * 1000) * Math.round(ATTACHMENT_MB * 1000)) /
    1_000_000;
  const recordDataKB = (recordsPerYear * Math.round(RECORD_KB * 100)) / 100;
  const attachmentsGBPerYear = attachmentsMB / 1000;
  const recordDataGBPerYear = recordDataKB / 1_000_000;
  const applicationGB = OS_GB + input.years * (attachmentsGBPerYear + recordDataGBPerYear);
  return {
    recordsPerYear,
    attachmentsGBPerYear: round2(attachmentsGBPerYear),
    recordDataGBPerYear: round2(recordDataGBPerYear),
    operatingSystemGB: OS_GB,
    applicationGB: round2(applicationGB),
    backupGB: round2(2 * applicationGB),
  };
}
