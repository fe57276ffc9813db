// Cron schedules of the spec, read the way the systemd timer will run them. Pure.
//
// The spec keeps the familiar five cron fields; the servers run systemd timers, so each schedule is converted to
// OnCalendar= lines here, once, and validated field by field first: a value the timer would reject or silently
// read differently ("0 25 * * *") is an error with the field named, not a timer that never fires.

export type CronFieldName = 'minute' | 'hour' | 'day of month' | 'month' | 'day of week';

interface FieldRule {
  name: CronFieldName;
  min: number;
  max: number;
}

const FIELDS: readonly FieldRule[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  // 0 and 7 are both Sunday, as in cron.
  { name: 'day of week', min: 0, max: 7 },
];

export interface CronField {
  /** The field as written. */
  text: string;
  /** Begins with `*`: cron's own test for an unrestricted day field (it ORs two restricted day fields). */
  star: boolean;
  /** Matches every value of its range. */
  all: boolean;
  /** Every value the field matches, ascending (day of week: 0-6, Sunday 0). */
  values: number[];
}

export interface Cron {
  text: string;
  minute: CronField;
  hour: CronField;
  dayOfMonth: CronField;
  month: CronField;
  dayOfWeek: CronField;
}

export interface CronError {
  /** Which field is wrong (absent when the field count is). */
  field?: CronFieldName;
  /** 1-based index of the field, for the message. */
  index?: number;
  message: string;
}

export type CronResult = { ok: true; cron: Cron } | { ok: false; error: CronError };

const NUMBER = /^\d+$/;

function parseField(text: string, rule: FieldRule, index: number): CronField | CronError {
  const where = { field: rule.name, index };
  const fail = (message: string): CronError => ({ ...where, message });
  const values = new Set<number>();
  for (const part of text.split(',')) {
    if (part === '') return fail(`${rule.name} "${text}" has an empty list item`);
    const [range, step, extra] = part.split('/');
    if (extra !== undefined) return fail(`${rule.name} "${part}" has more than one step`);
    let from = rule.min;
    let to = rule.name === 'day of week' ? 6 : rule.max;
    if (range !== '*') {
      const bounds = (range ?? '').split('-');
      if (bounds.length > 2 || !bounds.every((b) => NUMBER.test(b))) {
        return fail(
          `${rule.name} "${part}" is not a number, a range (a-b), a step (*/n, a-b/n), a list or *` +
            (/[a-z]/i.test(part) ? '; names such as MON or JAN are not accepted, write numbers' : ''),
        );
      }
      const [a, b] = bounds.map(Number) as [number, number?];
      for (const v of [a, b]) {
        if (v !== undefined && (v < rule.min || v > rule.max)) {
          return fail(`${rule.name} ${v} is out of range ${rule.min}-${rule.max}`);
        }
      }
      from = a;
      to = b ?? (step === undefined ? a : rule.max === 7 ? 6 : rule.max);
      if (b !== undefined && b < a) return fail(`${rule.name} range ${range} runs backwards`);
    }
    let by = 1;
    if (step !== undefined) {
      if (!NUMBER.test(step) || Number(step) < 1)
        return fail(`${rule.name} step "${step}" must be 1 or more`);
      by = Number(step);
      if (by > rule.max) return fail(`${rule.name} step ${by} is larger than the field's range`);
    }
    for (let v = from; v <= to; v += by) values.add(rule.name === 'day of week' && v === 7 ? 0 : v);
  }
  const sorted = [...values].sort((x, y) => x - y);
  const size = (rule.name === 'day of week' ? 6 : rule.max) - rule.min + 1;
  return { text, star: text.startsWith('*'), all: sorted.length === size, values: sorted };
}

/** Parse and validate five cron fields: numbers, lists, ranges, steps and `*`. */
export function parseCron(text: string): CronResult {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5 || text.trim() === '') {
    return {
      ok: false,
      error: {
        message: `"${text}" has ${text.trim() === '' ? 0 : parts.length} fields; a schedule has five: minute hour day-of-month month day-of-week`,
      },
    };
  }
  const fields: CronField[] = [];
  for (const [i, rule] of FIELDS.entries()) {
    const f = parseField(parts[i] ?? '', rule, i + 1);
    if ('message' in f) return { ok: false, error: f };
    fields.push(f);
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields as [
    CronField,
    CronField,
    CronField,
    CronField,
    CronField,
  ];
  const days = impossibleDays(dayOfMonth, month);
  if (days && dayOfWeek.star) return { ok: false, error: { field: 'day of month', index: 3, message: days } };
  return { ok: true, cron: { text, minute, hour, dayOfMonth, month, dayOfWeek } };
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** "0 0 31 2 *" parses but never fires; say so instead of installing a timer that never runs. */
function impossibleDays(dom: CronField, month: CronField): string | undefined {
  if (dom.all) return undefined;
  const possible = month.values.some((m) => dom.values.some((d) => d <= (DAYS_IN_MONTH[m - 1] ?? 31)));
  return possible ? undefined : `day of month ${dom.text} never occurs in month ${month.text}`;
}

// ---- systemd OnCalendar ----

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const pad = (n: number) => String(n).padStart(2, '0');

/** Consecutive runs of values as systemd ranges: [1,2,3,5] -> "01..03,05". */
function compact(values: number[], show: (n: number) => string): string {
  const out: string[] = [];
  let i = 0;
  while (i < values.length) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === (values[j] ?? 0) + 1) j++;
    const a = values[i] as number;
    const b = values[j] as number;
    out.push(j - i >= 2 ? `${show(a)}..${show(b)}` : j > i ? `${show(a)},${show(b)}` : show(a));
    i = j + 1;
  }
  return out.join(',');
}

const component = (f: CronField, show: (n: number) => string = pad) =>
  f.all ? '*' : compact(f.values, show);

/**
 * The OnCalendar= values of a timer that fires exactly when cron would. Cron ORs day-of-month and day-of-week
 * when both are restricted while systemd ANDs them, so that case becomes two lines (a timer may have several).
 */
export function onCalendar(cron: Cron): string[] {
  const time = `${component(cron.hour)}:${component(cron.minute)}:00`;
  const date = (dom: string) => `*-${component(cron.month)}-${dom}`;
  const dow = cron.dayOfWeek.all ? '' : `${compact(cron.dayOfWeek.values, (n) => WEEKDAYS[n] ?? '?')} `;
  if (cron.dayOfMonth.star || cron.dayOfWeek.star) {
    return [`${dow}${date(component(cron.dayOfMonth))} ${time}`];
  }
  return [`${date(component(cron.dayOfMonth))} ${time}`, `${dow}${date('*')} ${time}`];
}

// ---- when it fires ----

/** Whether the schedule fires at this minute (times are server time; servers run UTC). */
export function fires(cron: Cron, at: Date): boolean {
  const has = (f: CronField, v: number) => f.values.includes(v);
  if (!has(cron.minute, at.getUTCMinutes()) || !has(cron.hour, at.getUTCHours())) return false;
  if (!has(cron.month, at.getUTCMonth() + 1)) return false;
  const dom = has(cron.dayOfMonth, at.getUTCDate());
  const dow = has(cron.dayOfWeek, at.getUTCDay());
  if (cron.dayOfMonth.star || cron.dayOfWeek.star) return dom && dow;
  return dom || dow;
}

const MINUTE = 60_000;

/** Every firing in [from, to), minute by minute over matching days only. */
export function firings(cron: Cron, from: Date, to: Date): Date[] {
  const out: Date[] = [];
  const day = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()));
  for (; day < to; day.setUTCDate(day.getUTCDate() + 1)) {
    const noon = new Date(day.getTime() + 12 * 60 * MINUTE);
    if (!cron.month.values.includes(noon.getUTCMonth() + 1)) continue;
    for (const h of cron.hour.values) {
      for (const m of cron.minute.values) {
        const at = new Date(day.getTime() + (h * 60 + m) * MINUTE);
        if (at >= from && at < to && fires(cron, at)) out.push(at);
      }
    }
  }
  return out;
}

/** The last firing at or before `at`, looking back at most `lookbackDays`. */
export function previousFiring(cron: Cron, at: Date, lookbackDays = 400): Date | undefined {
  const list = firings(
    cron,
    new Date(at.getTime() - lookbackDays * 1440 * MINUTE),
    new Date(at.getTime() + 1),
  );
  return list.at(-1);
}

/** The longest gap between two consecutive firings over a leap-year-spanning window, in minutes. */
export function longestGapMinutes(cron: Cron, from = new Date(Date.UTC(2027, 0, 1))): number {
  const list = firings(cron, from, new Date(from.getTime() + 2 * 366 * 1440 * MINUTE));
  let longest = 0;
  for (let i = 1; i < list.length; i++) {
    longest = Math.max(longest, ((list[i] as Date).getTime() - (list[i - 1] as Date).getTime()) / MINUTE);
  }
  return longest;
}
