import { describe, expect, it } from 'vitest';
import { formatProblem, validateSpecText } from '../../../src/config/load.js';
import { PILOT_SPEC } from '../helpers/spec.js';

// The pilot spec of the broken-spec tests, with its two schedules changed one case at a time.
const base = PILOT_SPEC;

function withSchedules(backup: string, restore?: string): string {
  const text = base.replace("  schedule: '0 0 * * *'", `  schedule: '${backup}'`);
  return restore === undefined
    ? text
    : text.replace('      source: production\n', `      source: production\n      schedule: '${restore}'\n`);
}

const lines = (text: string) =>
  validateSpecText(text, 'crvs.yaml')
    .problems.filter((p) => p.severity === 'error')
    .map((p) => formatProblem(p));

describe('schedules', () => {
  it('accepts the base spec and its default restore schedule', () => {
    expect(lines(withSchedules('0 0 * * *'))).toEqual([]);
  });

  it.each([
    [
      'an hour that does not exist',
      withSchedules('0 25 * * *'),
      ['crvs.yaml:30:13  backups.schedule  hour 25 is out of range 0-23 (field 2 of "0 25 * * *")'],
    ],
    [
      'a restore schedule with a day name',
      withSchedules('0 0 * * *', '0 1 * * SUN'),
      [
        'crvs.yaml:22:17  environments.staging.restore.schedule  day of week "SUN" is not a number, a range (a-b), a step (*/n, a-b/n), a list or *; names such as MON or JAN are not accepted, write numbers (field 5 of "0 1 * * SUN")',
      ],
    ],
  ])('%s', (_, text, expected) => {
    expect(lines(text).map((l) => l.split('\n')[0])).toEqual(expected);
  });

  it('says how a schedule is written', () => {
    expect(validateSpecText(withSchedules('0 25 * * *')).problems[0]?.hint).toBe(
      'five fields, minute (0-59) hour (0-23) day-of-month (1-31) month (1-12) day-of-week (0-7, 0 and 7 are ' +
        'Sunday); each a number, a list (1,15), a range (1-5), a step (*/15, 0-30/10) or *',
    );
  });

  it.each([
    [
      '0 0 * * *',
      '0 0 * * *',
      'the restore at 00:00 (2027-01-01) starts 0 minutes after the backup of 00:00',
    ],
    [
      '0 0 * * *',
      '15 0 * * *',
      'the restore at 00:15 (2027-01-01) starts 15 minutes after the backup of 00:00',
    ],
    [
      '0 * * * *',
      '10 1 * * *',
      'the restore at 01:10 (2027-01-01) starts 10 minutes after the backup of 01:00',
    ],
    [
      '0 0 * * 1',
      '0 0 * * *',
      'the restore at 00:00 (2027-01-04) starts 0 minutes after the backup of 00:00',
    ],
  ])('backup "%s", restore "%s": refused', (backup, restore, message) => {
    const r = validateSpecText(withSchedules(backup, restore));
    expect(r.problems.map((p) => [p.rule, p.path, p.line, p.message.split(';')[0]])).toEqual([
      ['restore-after-backup', 'environments.staging.restore.schedule', 22, message],
    ]);
    expect(r.problems[0]?.hint).toBe(
      `leave at least 30 minutes between a backup and the restore (backups.schedule is "${backup}")`,
    );
  });

  it("checks qa's restore schedule too, and runs qa's restore only on demand without one", () => {
    const qa = (schedule?: string) =>
      base.replace(
        '    testTwoFactorCodes: true\n',
        `    restore: { source: production${schedule ? `, schedule: '${schedule}'` : ''} }\n`,
      );
    expect(lines(qa())).toEqual([]);
    expect(lines(qa('0 3 * * 1'))).toEqual([]);
    expect(lines(qa('0 25 * * *')).map((l) => l.split('\n')[0])).toEqual([
      'crvs.yaml:9:46  environments.qa.restore.schedule  hour 25 is out of range 0-23 (field 2 of "0 25 * * *")',
    ]);
    const r = validateSpecText(qa('10 0 * * *'));
    expect(r.problems.map((p) => [p.rule, p.path, p.line, p.message.split(';')[0]])).toEqual([
      [
        'restore-after-backup',
        'environments.qa.restore.schedule',
        9,
        'the restore at 00:10 (2027-01-01) starts 10 minutes after the backup of 00:00',
      ],
    ]);
  });

  it.each([
    ['0 0 * * *', '0 1 * * *'],
    ['0 * * * *', '30 1 * * *'],
    ['0 0 * * *', '0 23 * * *'],
    ['0 0 * * 1', '0 2 * * *'],
  ])('backup "%s", restore "%s": accepted', (backup, restore) => {
    expect(lines(withSchedules(backup, restore))).toEqual([]);
  });
});
