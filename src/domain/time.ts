/**
 * Calendar dates (`YYYY-MM-DD`) and IANA time zones, on the Temporal API (`@js-temporal/polyfill`).
 * HiBob effective dates are local calendar dates at the employee's site; these helpers turn
 * them into UTC instants. No clock is read here: every instant is an argument, and every
 * function that takes both an instant or date and a zone takes the zone last.
 *
 * A full sync asks the same questions for tens of thousands of employees (the same zones, the
 * same run instant, the same start dates), and each answer through the polyfill costs tens of
 * microseconds; so plain calendar arithmetic is done without it, and zone answers are kept in
 * small caches. Every answer depends on its arguments alone, so a cached one is the same answer.
 */
import { Temporal } from '@js-temporal/polyfill';

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Answers kept by key; dropped all at once when full, which bounds memory in a long-lived worker. */
export class AnswerCache<V> {
  private readonly answers = new Map<string, V>();
  constructor(private readonly limit: number) {}

  get size(): number {
    return this.answers.size;
  }

  get(key: string, compute: () => V): V {
    const known = this.answers.get(key);
    if (known !== undefined || this.answers.has(key)) return known as V;
    const value = compute();
    if (this.answers.size >= this.limit) this.answers.clear();
    this.answers.set(key, value);
    return value;
  }
}

const zoneNames = new AnswerCache<boolean>(1_000);
const localDates = new AnswerCache<string>(10_000);
const midnights = new AnswerCache<number>(50_000);
const descriptions = new AnswerCache<string>(50_000);

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** A real calendar date written `YYYY-MM-DD` (rejects 2026-02-30). */
export function isIsoDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const month = Number(m[2]);
  const day = Number(m[3]);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(Number(m[1]), month);
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** `isoDate` moved by whole calendar days; throws RangeError for something that is not a date. */
export function addDays(isoDate: string, days: number): string {
  if (!isIsoDate(isoDate)) throw new RangeError(`not a calendar date: ${JSON.stringify(isoDate)}`);
  const at = new Date(0);
  at.setUTCFullYear(Number(isoDate.slice(0, 4)), Number(isoDate.slice(5, 7)) - 1, Number(isoDate.slice(8, 10)) + days);
  const year = at.getUTCFullYear();
  // Years outside 0000–9999 are written differently (±YYYYYY): the polyfill knows how.
  if (!Number.isInteger(days) || !(year >= 0 && year <= 9999))
    return Temporal.PlainDate.from(isoDate).add({ days }).toString();
  return `${pad(year, 4)}-${pad(at.getUTCMonth() + 1, 2)}-${pad(at.getUTCDate(), 2)}`;
}

/**
 * Whether `name` is an IANA zone name the platform knows (`Europe/London`, `UTC`, `Etc/GMT+5`),
 * in any letter case. Bare UTC offsets (`+05:00`) and date-time strings are not zone names.
 */
export function isTimeZone(name: unknown): name is string {
  if (typeof name !== 'string' || name.trim() === '' || /^[+-]/.test(name)) return false;
  return zoneNames.get(name, () => {
    try {
      // Temporal also reads a zone out of an ISO date-time string; only a bare name counts here.
      return zoned(new Date(0), name).timeZoneId.toLowerCase() === name.toLowerCase();
    } catch {
      return false;
    }
  });
}

function zoned(instant: Date, timeZone: string): Temporal.ZonedDateTime {
  return Temporal.Instant.fromEpochMilliseconds(instant.getTime()).toZonedDateTimeISO(timeZone);
}

/** The calendar date at `instant` in `timeZone`. */
export function localDate(instant: Date, timeZone: string): string {
  return localDates.get(`${timeZone}|${instant.getTime()}`, () => zoned(instant, timeZone).toPlainDate().toString());
}

/**
 * The instant `isoDate` begins in `timeZone`: local midnight, or, where a clock change skips
 * midnight (e.g. America/Santiago in September), the first instant that is on that date.
 * Where midnight happens twice (clocks going back at 01:00 to midnight) the earlier one is returned.
 */
export function localMidnightUtc(isoDate: string, timeZone: string): Date {
  if (!isIsoDate(isoDate)) throw new RangeError(`not a calendar date: ${JSON.stringify(isoDate)}`);
  const ms = midnights.get(
    `${timeZone}|${isoDate}`,
    () => Temporal.PlainDate.from(isoDate).toZonedDateTime({ timeZone }).epochMilliseconds,
  );
  return new Date(ms);
}

/** `YYYY-MM-DD` plus local time of day, for reasons: `2026-03-31 00:00 Europe/London`. */
export function describeInstant(instant: Date, timeZone: string): string {
  return descriptions.get(`${timeZone}|${instant.getTime()}`, () => {
    const at = zoned(instant, timeZone);
    return `${at.toPlainDate().toString()} ${at.toPlainTime().toString({ smallestUnit: 'minute' })} ${timeZone}`;
  });
}
