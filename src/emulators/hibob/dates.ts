/** Calendar helpers on `YYYY-MM-DD` strings and IANA time zones. Pure, no clock reads. */
import type { DateFormat } from './types';

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isIsoDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === value;
}

export function addDays(isoDate: string, days: number): string {
  const d = new Date(`${isoDate}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function daysBetween(fromIso: string, toIso: string): number {
  return Math.round((Date.parse(`${toIso}T00:00:00Z`) - Date.parse(`${fromIso}T00:00:00Z`)) / 86_400_000);
}

const partsFormatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = partsFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partsFormatters.set(timeZone, f);
  }
  return f;
}

function zonedParts(timeZone: string, at: Date): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of partsFormatter(timeZone).formatToParts(at)) {
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  return out;
}

/** The calendar date at `at` in `timeZone`. */
export function localDate(timeZone: string, at: Date): string {
  const p = zonedParts(timeZone, at);
  return `${String(p.year).padStart(4, '0')}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/** Local wall time minus UTC at `at`, in milliseconds. */
function zoneOffsetMs(timeZone: string, at: Date): number {
  const p = zonedParts(timeZone, at);
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day, p.hour! % 24, p.minute, p.second);
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/** The instant local midnight starts `isoDate` in `timeZone`. */
export function zonedMidnight(isoDate: string, timeZone: string): Date {
  const wall = Date.parse(`${isoDate}T00:00:00Z`);
  let guess = wall - zoneOffsetMs(timeZone, new Date(wall));
  // A second pass settles dates where the offset differs between the guess and the answer.
  guess = wall - zoneOffsetMs(timeZone, new Date(guess));
  return new Date(guess);
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
