import { addDays, describeInstant, isIsoDate, isTimeZone, localDate, localMidnightUtc } from '../../src/domain/time';
import { CLOCK_CHANGES_2026 } from '../fixtures/clock-changes-2026';

describe('calendar dates', () => {
  it('accepts only real YYYY-MM-DD dates', () => {
    expect(isIsoDate('2026-02-28')).toBe(true);
    expect(isIsoDate('2028-02-29')).toBe(true);
    expect(isIsoDate('2026-02-29')).toBe(false);
    expect(isIsoDate('2026-2-28')).toBe(false);
    expect(isIsoDate('28/02/2026')).toBe(false);
    expect(isIsoDate('2026-02-28T00:00:00')).toBe(false);
    expect(isIsoDate(null)).toBe(false);
    expect(isIsoDate(20260228)).toBe(false);
  });

  it('adds days across months, years and leap days', () => {
    expect(addDays('2026-03-31', 1)).toBe('2026-04-01');
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2026-03-29', 0)).toBe('2026-03-29');
    expect(addDays('2026-05-04', -7)).toBe('2026-04-27');
  });

  it('knows IANA zones', () => {
    expect(isTimeZone('Europe/London')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isTimeZone('')).toBe(false);
    expect(isTimeZone(undefined)).toBe(false);
  });

  it('gives the local calendar date of an instant', () => {
    const at = new Date('2026-03-15T23:30:00Z');
    expect(localDate(at, 'UTC')).toBe('2026-03-15');
    expect(localDate(at, 'Europe/Paris')).toBe('2026-03-16');
    expect(localDate(at, 'America/Los_Angeles')).toBe('2026-03-15');
    expect(localDate(new Date('2026-03-15T10:59:59Z'), 'Pacific/Kiritimati')).toBe('2026-03-16');
  });

  it('describes an instant in local time', () => {
    expect(describeInstant(new Date('2026-03-29T23:00:00Z'), 'Europe/London')).toBe('2026-03-30 00:00 Europe/London');
  });
});

describe('localMidnightUtc', () => {
  const cases: [string, string, string, string][] = [
    // zone, date, instant, why
    ['UTC', '2026-03-15', '2026-03-15T00:00:00.000Z', 'no offset'],
    ['Europe/London', '2026-03-29', '2026-03-29T00:00:00.000Z', 'the day clocks go forward starts in GMT'],
    ['Europe/London', '2026-03-30', '2026-03-29T23:00:00.000Z', 'the day after starts in BST'],
    ['Europe/London', '2026-10-25', '2026-10-24T23:00:00.000Z', 'the day clocks go back starts in BST'],
    ['Europe/London', '2026-10-26', '2026-10-26T00:00:00.000Z', 'then GMT again'],
    ['America/New_York', '2026-03-08', '2026-03-08T05:00:00.000Z', 'EST before the 02:00 change'],
    ['America/New_York', '2026-03-09', '2026-03-09T04:00:00.000Z', 'EDT after it'],
    ['America/New_York', '2026-11-01', '2026-11-01T04:00:00.000Z', 'EDT before falling back'],
    ['America/New_York', '2026-11-02', '2026-11-02T05:00:00.000Z', 'EST after'],
    ['Australia/Sydney', '2026-04-05', '2026-04-04T13:00:00.000Z', 'AEDT (+11) on the day daylight time ends'],
    ['Australia/Sydney', '2026-04-06', '2026-04-05T14:00:00.000Z', 'AEST (+10) after'],
    ['Australia/Sydney', '2026-10-04', '2026-10-03T14:00:00.000Z', 'AEST on the day daylight time starts'],
    ['Australia/Sydney', '2026-10-05', '2026-10-04T13:00:00.000Z', 'AEDT after'],
    ['Asia/Jerusalem', '2026-03-27', '2026-03-26T22:00:00.000Z', 'IST (+2) on the Friday clocks go forward'],
    ['Asia/Jerusalem', '2026-03-28', '2026-03-27T21:00:00.000Z', 'IDT (+3) after'],
    ['Asia/Jerusalem', '2026-10-25', '2026-10-24T21:00:00.000Z', 'IDT on the day clocks go back'],
    ['Asia/Jerusalem', '2026-10-26', '2026-10-25T22:00:00.000Z', 'IST after'],
    ['Asia/Kathmandu', '2026-03-15', '2026-03-14T18:15:00.000Z', 'a quarter-hour offset'],
    ['Pacific/Kiritimati', '2026-01-01', '2025-12-31T10:00:00.000Z', '+14, the earliest zone'],
    ['Pacific/Pago_Pago', '2026-01-01', '2026-01-01T11:00:00.000Z', '-11'],
    ['America/Santiago', '2026-09-06', '2026-09-06T04:00:00.000Z', 'midnight is skipped: the day starts at 01:00 -03'],
    [
      'America/Havana',
      '2026-03-08',
      '2026-03-08T05:00:00.000Z',
      'midnight is skipped: 23:59 -05 is followed by 01:00 -04',
    ],
    ['America/Havana', '2026-11-01', '2026-11-01T04:00:00.000Z', 'midnight happens twice: the earlier one'],
    [
      'America/Santiago',
      '2026-04-05',
      '2026-04-05T04:00:00.000Z',
      'clocks go back at midnight: the day starts once the clock shows it for good',
    ],
  ];

  it.each(cases)('%s %s → %s (%s)', (zone, date, instant) => {
    const start = localMidnightUtc(date, zone);
    expect(start.toISOString()).toBe(instant);
    expect(localDate(start, zone)).toBe(date);
    expect(localDate(new Date(start.getTime() - 1), zone)).toBe(addDays(date, -1));
  });

  it('rejects something that is not a date', () => {
    expect(() => localMidnightUtc('31/03/2026', 'UTC')).toThrow(RangeError);
    expect(() => localMidnightUtc('2026-02-30', 'UTC')).toThrow(RangeError);
    expect(() => localMidnightUtc('2026-03-01T00:00', 'UTC')).toThrow(RangeError);
  });
});

const HOUR = 3_600_000;

describe('clock changes', () => {
  describe.each(CLOCK_CHANGES_2026)('$zone on $change', ({ zone, change, midnights }) => {
    const days = [addDays(change, -1), change, addDays(change, 1)];

    it('places local midnight of the day before, of and after the change', () => {
      expect(days.map((d) => localMidnightUtc(d, zone).toISOString())).toEqual(midnights);
    });

    it('gives the date of instants just before and just after each local midnight', () => {
      for (const [i, day] of days.entries()) {
        const start = Date.parse(midnights[i]!);
        expect(localDate(new Date(start - 1), zone)).toBe(addDays(day, -1));
        expect(localDate(new Date(start - 1000), zone)).toBe(addDays(day, -1));
        expect(localDate(new Date(start), zone)).toBe(day);
        expect(localDate(new Date(start + 1), zone)).toBe(day);
        expect(describeInstant(new Date(start), zone)).toBe(`${day} 00:00 ${zone}`);
        expect(describeInstant(new Date(start - 60_000), zone)).toBe(`${addDays(day, -1)} 23:59 ${zone}`);
      }
    });

    it('counts calendar days, not 24-hour steps, across the change', () => {
      expect(addDays(days[0]!, 2)).toBe(days[2]);
      expect(addDays(days[2]!, -2)).toBe(days[0]);
      const before = localMidnightUtc(days[0]!, zone).getTime();
      const after = localMidnightUtc(addDays(days[0]!, 2), zone).getTime();
      // The two days hold the clock change: one hour more or less than 48.
      expect(Math.abs(after - before - 48 * HOUR)).toBe(HOUR);
      // Two days of 24 hours from local midnight land an hour off local midnight.
      expect(describeInstant(new Date(before + 48 * HOUR), zone)).not.toMatch(/ 00:00 /);
    });
  });

  // The same rules over several years: the day of the change is 23 or 25 hours long, its
  // neighbours 24.
  const sundays = (year: number, month: number): string[] => {
    const out: string[] = [];
    for (let day = 1; day <= 31; day++) {
      const at = new Date(Date.UTC(year, month - 1, day));
      if (at.getUTCMonth() === month - 1 && at.getUTCDay() === 0) out.push(at.toISOString().slice(0, 10));
    }
    return out;
  };
  const rules: [string, (year: number) => [string, string]][] = [
    ['Australia/Sydney', (y) => [sundays(y, 4)[0]!, sundays(y, 10)[0]!]],
    ['America/New_York', (y) => [sundays(y, 11)[0]!, sundays(y, 3)[1]!]],
    ['Europe/Berlin', (y) => [sundays(y, 10).at(-1)!, sundays(y, 3).at(-1)!]],
    ['Asia/Jerusalem', (y) => [sundays(y, 10).at(-1)!, addDays(sundays(y, 3).at(-1)!, -2)]],
  ];
  const hours = (date: string, zone: string) =>
    (localMidnightUtc(addDays(date, 1), zone).getTime() - localMidnightUtc(date, zone).getTime()) / HOUR;

  it.each(rules)('%s follows its rule from 2024 to 2030', (zone, rule) => {
    for (let year = 2024; year <= 2030; year++) {
      const [back, forward] = rule(year);
      expect([hours(addDays(back, -1), zone), hours(back, zone), hours(addDays(back, 1), zone)]).toEqual([24, 25, 24]);
      expect([hours(addDays(forward, -1), zone), hours(forward, zone), hours(addDays(forward, 1), zone)]).toEqual([
        24, 23, 24,
      ]);
    }
  });
});

describe('invalid input', () => {
  it('rejects unknown zones and things that are not zone names', () => {
    for (const zone of [
      'Mars/Olympus',
      'Europe/Londres',
      ' Europe/London',
      '+05:00',
      '-03:30',
      '2026-01-01T00:00Z',
      '2026-01-01T00:00[Europe/London]',
      'Z',
    ]) {
      expect(isTimeZone(zone)).toBe(false);
    }
    expect(isTimeZone('europe/berlin')).toBe(true);
    expect(isTimeZone('Etc/GMT+5')).toBe(true);
  });

  it('throws RangeError for an unknown zone', () => {
    expect(() => localMidnightUtc('2026-03-29', 'Mars/Olympus')).toThrow(RangeError);
    expect(() => localDate(new Date('2026-03-29T00:00:00Z'), 'Mars/Olympus')).toThrow(RangeError);
    expect(() => describeInstant(new Date('2026-03-29T00:00:00Z'), 'Mars/Olympus')).toThrow(RangeError);
  });

  it('throws RangeError for an invalid instant or date', () => {
    expect(() => localDate(new Date(Number.NaN), 'UTC')).toThrow(RangeError);
    expect(() => addDays('2026-02-30', 1)).toThrow(RangeError);
    expect(() => addDays('31/03/2026', 1)).toThrow(RangeError);
  });
});
