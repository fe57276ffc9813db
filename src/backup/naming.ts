// Archive names: `<environment>-<UTC time>`, e.g. `production-2027-01-01T00:00:00Z`. The time in the name is the
// backup's own clock, so the age of an archive can be read from its name without trusting borg's local-time
// fields; checkpoints that borg leaves behind an interrupted create (`.checkpoint`, `.checkpoint.1`) are not
// archives to restore. Pure.

export interface ArchiveName {
  name: string;
  environment: string;
  time: Date;
}

const STAMP = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z$/;

export function archiveName(environment: string, at: Date): string {
  return `${environment}-${at.toISOString().slice(0, 19)}Z`;
}

/** The glob that selects one environment's archives (`borg --glob-archives`). */
export const archiveGlob = (environment: string) => `${environment}-*`;

export function parseArchiveName(name: string): ArchiveName | undefined {
  if (/\.checkpoint(\.\d+)?$/.test(name)) return undefined;
  const cut = name.length - '0000-00-00T00:00:00Z'.length;
  if (cut < 2 || name[cut - 1] !== '-') return undefined;
  const environment = name.slice(0, cut - 1);
  const m = STAMP.exec(name.slice(cut));
  if (!m || !/^[a-z][a-z0-9-]*$/.test(environment)) return undefined;
  const time = new Date(name.slice(cut));
  return Number.isNaN(time.getTime()) ? undefined : { name, environment, time };
}

/** The newest archive of an environment among borg's list, ignoring checkpoints and foreign names. */
export function newestArchive(names: string[], environment: string): ArchiveName | undefined {
  return names
    .map(parseArchiveName)
    .filter((a): a is ArchiveName => a?.environment === environment)
    .sort((a, b) => b.time.getTime() - a.time.getTime())[0];
}
