import { describe, expect, it } from 'vitest';
import { staleAfterMinutes } from '../../../src/config/freshness.js';
import { type Cron, firings, onCalendar, parseCron, previousFiring } from '../../../src/config/schedule.js';

const cron = (text: string): Cron => {
  const r = parseCron(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.cron;
};

describe('cron to OnCalendar', () => {
  // Every row was compared with `systemd-analyze calendar --iterations=12` (systemd 252): the same 12 firings.
  it.each([
    ['0 0 * * *', ['*-*-* 00:00:00']],
    ['0 * * * *', ['*-*-* *:00:00']],
    ['*/15 * * * *', ['*-*-* *:00,15,30,45:00']],
    ['30 2 * * 1-5', ['Mon..Fri *-*-* 02:30:00']],
    ['0 3 1 * *', ['*-*-01 03:00:00']],
    ['5-20/5 1,13 * * *', ['*-*-* 01,13:05,10,15,20:00']],
    ['0 0 * * 7', ['Sun *-*-* 00:00:00']],
    ['0 22 * * 0,6', ['Sun,Sat *-*-* 22:00:00']],
    ['0 12 */10 2-11/3 *', ['*-02,05,08,11-01,11,21,31 12:00:00']],
    ['0 4 * * */2', ['Sun,Tue,Thu,Sat *-*-* 04:00:00']],
    ['59 23 31 12 *', ['*-12-31 23:59:00']],
    ['0 0 29 2 *', ['*-02-29 00:00:00']],
    ['0 1-4 * * *', ['*-*-* 01..04:00:00']],
    // cron ORs a restricted day of month with a restricted day of week; systemd ANDs them: two lines.
    ['0 3 1,15 * 0', ['*-*-01,15 03:00:00', 'Sun *-*-* 03:00:00']],
    ['0 0 13 * 5', ['*-*-13 00:00:00', 'Fri *-*-* 00:00:00']],
  ])('%s', (text, expected) => {
    expect(onCalendar(cron(text))).toEqual(expected);
  });
});

describe('cron validation', () => {
  it.each([
    ['0 25 * * *', 'hour 25 is out of range 0-23', 2],
    ['60 0 * * *', 'minute 60 is out of range 0-59', 1],
    ['0 0 0 * *', 'day of month 0 is out of range 1-31', 3],
    ['0 0 * 13 *', 'month 13 is out of range 1-12', 4],
    ['0 0 * * 8', 'day of week 8 is out of range 0-7', 5],
    [
      '0 0 * * MON',
      'day of week "MON" is not a number, a range (a-b), a step (*/n, a-b/n), a list or *; names such as MON or JAN are not accepted, write numbers',
      5,
    ],
    ['0 5-1 * * *', 'hour range 5-1 runs backwards', 2],
    ['*/0 * * * *', 'minute step "0" must be 1 or more', 1],
    ['*/61 * * * *', "minute step 61 is larger than the field's range", 1],
    ['0 0,,1 * * *', 'hour "0,,1" has an empty list item', 2],
    ['0 0 1/2/3 * *', 'day of month "1/2/3" has more than one step', 3],
    ['0 0 31 2 *', 'day of month 31 never occurs in month 2', 3],
    ['0 0 30 2,4 *', undefined, undefined],
    [
      '@daily',
      '"@daily" has 1 fields; a schedule has five: minute hour day-of-month month day-of-week',
      undefined,
    ],
    [
      '0 0 * * * *',
      '"0 0 * * * *" has 6 fields; a schedule has five: minute hour day-of-month month day-of-week',
      undefined,
    ],
  ])('%s', (text, message, index) => {
    const r = parseCron(text);
    if (message === undefined) expect(r.ok).toBe(true);
    else expect(r).toMatchObject({ ok: false, error: { message, ...(index ? { index } : {}) } });
  });
});

describe('firings', () => {
  it('lists the firings of a window in order, Sunday as 0 or 7', () => {
    const from = new Date('2027-01-01T00:00:00Z');
    const to = new Date('2027-01-15T00:00:00Z');
    const iso = (c: string) => firings(cron(c), from, to).map((d) => d.toISOString());
    expect(iso('0 22 * * 7')).toEqual(['2027-01-03T22:00:00.000Z', '2027-01-10T22:00:00.000Z']);
    expect(iso('0 22 * * 0')).toEqual(iso('0 22 * * 7'));
    expect(iso('30 6 1,10 * 5')).toEqual([
      '2027-01-01T06:30:00.000Z',
      '2027-01-08T06:30:00.000Z',
      '2027-01-10T06:30:00.000Z',
    ]);
  });

  it('finds the previous firing', () => {
    expect(previousFiring(cron('0 0 * * *'), new Date('2027-03-05T13:10:00Z'))?.toISOString()).toBe(
      '2027-03-05T00:00:00.000Z',
    );
    expect(previousFiring(cron('0 0 * * *'), new Date('2027-03-05T00:00:00Z'))?.toISOString()).toBe(
      '2027-03-05T00:00:00.000Z',
    );
  });

  it.each([
    ['0 * * * *', 60 + 120],
    ['0 0 * * *', 1440 + 120],
    ['0 2 * * 1-5', 3 * 1440 + 120],
    ['0 0 1 * *', 31 * 1440 + 120],
  ])('an archive of "%s" is stale after %d minutes', (text, minutes) => {
    expect(staleAfterMinutes(cron(text))).toBe(minutes);
  });
});
