// The archive list the prune job records after each run, for its guard (retention.ts guardPrune) the next time.
// It must live where production cannot write: beside the spec in the configuration repository (committed), not
// in the borg repository, where production (which holds the key) could add a forged, shorter list. Pure.

export interface PruneRecord {
  format: 1;
  environment: string;
  /** UTC, ISO 8601. */
  at: string;
  /** Archive names left after the prune, sorted. */
  archives: string[];
}

export const pruneRecordFile = (environment: string) => `backups/${environment}-archives.json`;

export function renderPruneRecord(environment: string, at: Date, archives: string[]): string {
  const record: PruneRecord = {
    format: 1,
    environment,
    at: at.toISOString(),
    archives: [...archives].sort(),
  };
  return `${JSON.stringify(record, null, 2)}\n`;
}

export function parsePruneRecord(text: string, environment: string): PruneRecord {
  const r = JSON.parse(text) as Partial<PruneRecord>;
  if (
    r.format !== 1 ||
    r.environment !== environment ||
    !Array.isArray(r.archives) ||
    typeof r.at !== 'string'
  )
    throw new Error(`not a prune record of ${environment}`);
  if (!r.archives.every((a) => typeof a === 'string'))
    throw new Error('a prune record lists archive names only');
  return r as PruneRecord;
}
