/**
 * Calendar dates (`YYYY-MM-DD`) and IANA time zones, on the Temporal API (`@js-temporal/polyfill`).
 * HiBob effective dates are local calendar dates at the employee's site; these helpers turn
 * them into UTC instants. No clock is read here: every instant is an argument, and every
 * function that takes both an instant or date and a zone takes the zone last.
 */
import { Temporal } from '@js-temporal/polyfill';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A real calendar date written `YYYY-MM-DD` (rejects 2026-02-30). */
export function isIsoDate(value: unknown): value is string {
  if (typeof value !== 'string' || !ISO_DATE.test(value)) return false;
  try {
    Temporal.PlainDate.from(value, { overflow: 'reject' });
    return true;
  } catch {
    return false;
  }
}

/** `isoDate` moved by whole calendar days; throws RangeError for something that is not a date. */
export function addDays(isoDate: string, days: number): string {
  if (!isIsoDate(isoDate)) throw new RangeError(`not a calendar date: ${JSON.stringify(isoDate)}`);
  return Temporal.PlainDate.from(isoDate).add({ days }).toString();
}

/**
 * Whether `name` is an IANA zone name the platform knows (`Europe/London`, `UTC`, `Etc/GMT+5`),
 * in any letter case. Bare UTC offsets (`+05:00`) and date-time strings are not zone names.
 */
export function isTimeZone(name: unknown): name is string {
  if (typeof name !== 'string' || name.trim() === '' || /^[+-]/.test(name)) return false;
  try {
    // Temporal also reads a zone out of an ISO date-time string; only a bare name counts here.
    return zoned(new Date(0), name).timeZoneId.toLowerCase() === name.toLowerCase();
  } catch {
    return false;
  }
}

function zoned(instant: Date, timeZone: string): Temporal.ZonedDateTime {
  return Temporal.Instant.fromEpochMilliseconds(instant.getTime()).toZonedDateTimeISO(timeZone);
}

/** The calendar date at `instant` in `timeZone`. */
export function localDate(instant: Date, timeZone: string): string {
  return zoned(instant, timeZone).toPlainDate().toString();
}

/**
 * The instant `isoDate` begins in `timeZone`: local midnight, or, where a clock change skips
 * midnight (e.g. America/Santiago in September), the first instant that is on that date.
 * Where midnight happens twice (clocks going back at 01:00 to midnight) the earlier one is returned.
 */
export function localMidnightUtc(isoDate: string, timeZone: string): Date {
  if (!isIsoDate(isoDate)) throw new RangeError(`not a calendar date: ${JSON.stringify(isoDate)}`);
  return new Date(Temporal.PlainDate.from(isoDate).toZonedDateTime({ timeZone }).epochMilliseconds);
}

/** `YYYY-MM-DD` plus local time of day, for reasons: `2026-03-31 00:00 Europe/London`. */
export function describeInstant(instant: Date, timeZone: string): string {
  const at = zoned(instant, timeZone);
  return `${at.toPlainDate().toString()} ${at.toPlainTime().toString({ smallestUnit: 'minute' })} ${timeZone}`;
}
