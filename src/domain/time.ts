/**
 * Calendar dates (`YYYY-MM-DD`) and IANA time zones with the platform's Intl data only.
 * HiBob effective dates are local calendar dates at the employee's site; these helpers turn
 * them into UTC instants. No clock is read here: every instant is an argument.
 */

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** A real calendar date written `YYYY-MM-DD` (rejects 2026-02-30). */
export function isIsoDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).toISOString().slice(0, 10) === value;
}

export function addDays(isoDate: string, days: number): string {
  return new Date(Date.parse(`${isoDate}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether the platform knows this IANA zone name. */
export function isTimeZone(name: unknown): name is string {
  if (typeof name !== 'string' || name.trim() === '') return false;
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

/** The local wall clock at `instantMs`, expressed as if it were UTC (whole seconds). */
function wallClockMs(timeZone: string, instantMs: number): number {
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(instantMs))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  return Date.UTC(p.year!, p.month! - 1, p.day, p.hour, p.minute, p.second);
}

function offsetMs(timeZone: string, instantMs: number): number {
  const whole = Math.floor(instantMs / 1000) * 1000;
  return wallClockMs(timeZone, whole) - whole;
}

/** The calendar date at `instant` in `timeZone`. */
export function localDate(instant: Date, timeZone: string): string {
  return new Date(wallClockMs(timeZone, instant.getTime())).toISOString().slice(0, 10);
}

/**
 * The instant `isoDate` begins in `timeZone`: local midnight, or, where a clock change skips
 * midnight (e.g. America/Santiago in September), the first instant that is on that date.
 * Where midnight happens twice (clocks going back at midnight) the earlier one is returned.
 */
export function localMidnightUtc(isoDate: string, timeZone: string): Date {
  if (!isIsoDate(isoDate)) throw new RangeError(`not a calendar date: ${JSON.stringify(isoDate)}`);
  const wall = Date.parse(`${isoDate}T00:00:00Z`);
  // The offsets a day either side cover both regimes of any clock change near this midnight.
  const candidates = [...new Set([wall - DAY_MS, wall, wall + DAY_MS].map((at) => wall - offsetMs(timeZone, at)))].sort((a, b) => a - b);
  const exact = candidates.find((c) => wallClockMs(timeZone, c) === wall);
  if (exact !== undefined) return new Date(exact);
  // Midnight does not exist: the day starts at the clock change, the earliest candidate already on the date.
  const first = candidates.find((c) => wallClockMs(timeZone, c) >= wall);
  if (first === undefined) throw new RangeError(`cannot place ${isoDate} in ${timeZone}`);
  return new Date(first);
}

/** `YYYY-MM-DD` plus local time of day, for reasons: `2026-03-31 00:00 Europe/London`. */
export function describeInstant(instant: Date, timeZone: string): string {
  const wall = new Date(wallClockMs(timeZone, instant.getTime())).toISOString();
  return `${wall.slice(0, 10)} ${wall.slice(11, 16)} ${timeZone}`;
}
