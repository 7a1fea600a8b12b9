import {
  addDays,
  daysBetween,
  isIsoDate,
  localDate,
  periodBetween,
  zonedMidnight,
} from '../../packages/local/emulators/hibob/dates';
import { CLOCK_CHANGES_2026 } from '../fixtures/clock-changes-2026';

const HOUR = 3_600_000;

describe('HiBob emulator dates around clock changes', () => {
  describe.each(CLOCK_CHANGES_2026)('$zone on $change', ({ zone, change, midnights }) => {
    const days = [addDays(change, -1), change, addDays(change, 1)];

    it('places local midnight of the day before, of and after the change', () => {
      expect(days.map((d) => zonedMidnight(d, zone).toISOString())).toEqual(midnights);
    });

    it('gives the date of instants just before and just after each local midnight', () => {
      for (const [i, day] of days.entries()) {
        const start = Date.parse(midnights[i]!);
        expect(localDate(new Date(start - 1), zone)).toBe(addDays(day, -1));
        expect(localDate(new Date(start), zone)).toBe(day);
        expect(localDate(new Date(start + 1), zone)).toBe(day);
      }
    });

    it('counts calendar days, not 24-hour steps, across the change', () => {
      expect(addDays(days[0]!, 2)).toBe(days[2]);
      expect(daysBetween(days[0]!, days[2]!)).toBe(2);
      expect(daysBetween(days[2]!, days[0]!)).toBe(-2);
      const span = zonedMidnight(days[2]!, zone).getTime() - zonedMidnight(days[0]!, zone).getTime();
      expect(Math.abs(span - 48 * HOUR)).toBe(HOUR);
    });
  });

  it('starts a day whose midnight is skipped at the clock change, and a doubled midnight at its first occurrence', () => {
    expect(zonedMidnight('2026-09-06', 'America/Santiago').toISOString()).toBe('2026-09-06T04:00:00.000Z');
    expect(zonedMidnight('2026-03-08', 'America/Havana').toISOString()).toBe('2026-03-08T05:00:00.000Z');
    expect(zonedMidnight('2026-11-01', 'America/Havana').toISOString()).toBe('2026-11-01T04:00:00.000Z');
    expect(zonedMidnight('2026-04-05', 'America/Santiago').toISOString()).toBe('2026-04-05T04:00:00.000Z');
  });
});

describe('HiBob emulator calendar dates', () => {
  it('accepts only real YYYY-MM-DD dates', () => {
    expect(isIsoDate('2028-02-29')).toBe(true);
    expect(isIsoDate('2026-02-29')).toBe(false);
    expect(isIsoDate('2026-2-28')).toBe(false);
    expect(isIsoDate('20260228')).toBe(false);
    expect(isIsoDate('2026-02-28T00:00')).toBe(false);
    expect(isIsoDate(undefined)).toBe(false);
  });

  it('adds days and counts them across months, years and leap days', () => {
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31');
    expect(daysBetween('2025-12-31', '2026-03-01')).toBe(60);
    expect(daysBetween('2027-12-31', '2028-03-01')).toBe(61);
    expect(periodBetween('2025-03-29', '2026-03-30')).toEqual({
      periodISO: 'P1Y1D',
      sortFactor: 366,
      humanize: '1 year',
    });
  });

  it('rejects unknown zones and dates that are not dates', () => {
    expect(() => zonedMidnight('2026-03-29', 'Mars/Olympus')).toThrow(RangeError);
    expect(() => localDate(new Date('2026-03-29T00:00:00Z'), 'Mars/Olympus')).toThrow(RangeError);
    expect(() => zonedMidnight('2026-02-30', 'Europe/Berlin')).toThrow(RangeError);
    expect(() => addDays('29/03/2026', 1)).toThrow(RangeError);
  });
});
