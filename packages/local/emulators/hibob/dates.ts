/**
 * Calendar helpers on `YYYY-MM-DD` strings and IANA time zones, on the Temporal API
 * (`@js-temporal/polyfill`). Pure, no clock reads; functions taking an instant and a zone take the zone last.
 */
import { Temporal } from '@js-temporal/polyfill';
import type { DateFormat } from './types';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export function isIsoDate(value: unknown): value is string {
  if (typeof value !== 'string' || !ISO_DATE.test(value)) return false;
  try {
    Temporal.PlainDate.from(value, { overflow: 'reject' });
    return true;
  } catch {
    return false;
  }
}

function plainDate(isoDate: string): Temporal.PlainDate {
  if (!isIsoDate(isoDate)) throw new RangeError(`not a calendar date: ${JSON.stringify(isoDate)}`);
  return Temporal.PlainDate.from(isoDate);
}

export function addDays(isoDate: string, days: number): string {
  return plainDate(isoDate).add({ days }).toString();
}

/** Whole days from `fromIso` to `toIso`; negative when `toIso` is earlier. */
export function daysBetween(fromIso: string, toIso: string): number {
  return plainDate(fromIso).until(plainDate(toIso), { largestUnit: 'day' }).days;
}

/** The calendar date at `at` in `timeZone`. */
export function localDate(at: Date, timeZone: string): string {
  return Temporal.Instant.fromEpochMilliseconds(at.getTime()).toZonedDateTimeISO(timeZone).toPlainDate().toString();
}

/**
 * The instant `isoDate` starts in `timeZone`: local midnight, or the first instant on that date
 * where a clock change skips midnight; the earlier one where midnight happens twice.
 */
export function zonedMidnight(isoDate: string, timeZone: string): Date {
  return new Date(plainDate(isoDate).toZonedDateTime({ timeZone }).epochMilliseconds);
}

export function formatDisplayDate(isoDate: string, format: DateFormat): string {
  const [y, m, d] = isoDate.split('-');
  switch (format) {
    case 'MM/DD/YYYY':
      return `${m}/${d}/${y}`;
    case 'YYYY-MM-DD':
      return isoDate;
    case 'DD.MM.YYYY':
      return `${d}.${m}.${y}`;
    default:
      return `${d}/${m}/${y}`;
  }
}

export function formatDisplayShortDate(monthDay: string, format: DateFormat): string {
  const [m, d] = monthDay.split('-');
  if (format === 'MM/DD/YYYY') return `${m}/${d}`;
  if (format === 'DD.MM.YYYY') return `${d}.${m}`;
  if (format === 'YYYY-MM-DD') return monthDay;
  return `${d}/${m}`;
}

/** `2023-05-19T11:13:40.175639` → display date plus `HH:mm`. */
export function formatDisplayTime(time: string, format: DateFormat): string {
  const date = time.slice(0, 10);
  return `${isIsoDate(date) ? formatDisplayDate(date, format) : date} ${time.slice(11, 16)}`;
}

export interface Period {
  periodISO: string;
  sortFactor: number;
  humanize: string;
}

/** Calendar distance between two dates as Bob's `period` value; null when `to` precedes `from`. */
export function periodBetween(fromIso: string, toIso: string): Period | null {
  if (toIso < fromIso) return null;
  const [fy, fm, fd] = fromIso.split('-').map(Number) as [number, number, number];
  const [ty, tm, td] = toIso.split('-').map(Number) as [number, number, number];
  let years = ty - fy;
  let months = tm - fm;
  let days = td - fd;
  if (days < 0) {
    months -= 1;
    // Days in the month before `to`.
    days += new Date(Date.UTC(ty, tm - 1, 0)).getUTCDate();
  }
  if (months < 0) {
    years -= 1;
    months += 12;
  }
  const words: string[] = [];
  const unit = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  if (years) words.push(unit(years, 'year'));
  if (months) words.push(unit(months, 'month'));
  if (!years && (days || !months)) words.push(unit(days, 'day'));
  return {
    periodISO: `P${years ? `${years}Y` : ''}${months ? `${months}M` : ''}${days || (!years && !months) ? `${days}D` : ''}`,
    sortFactor: daysBetween(fromIso, toIso),
    humanize: words.join(', '),
  };
}
