/**
 * The planner's fast paths (canonical JSON and its hash without intermediate copies, calendar
 * arithmetic without the Temporal polyfill, cached zone answers) give exactly the answers of the
 * straightforward definitions, which are written out here as the reference.
 */
import { Temporal } from '@js-temporal/polyfill';
import { canonicalJson, fnv1a64 } from '../../src/domain/fingerprint';
import {
  addDays,
  AnswerCache,
  describeInstant,
  isIsoDate,
  isTimeZone,
  localDate,
  localMidnightUtc,
} from '../../src/domain/time';

function referenceJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const json = JSON.stringify(value);
    return json === undefined ? 'null' : json;
  }
  if (Array.isArray(value)) return `[${value.map(referenceJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${referenceJson(v)}`).join(',')}}`;
}

function referenceHash(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PIECES = [
  'a',
  'Z',
  ' ',
  '"',
  '\\',
  '\n',
  '\u0001',
  '\u001f',
  'é',
  '€',
  '日',
  '\u2028',
  '\ud83d\ude00',
  '\ud800',
  '\udfff',
  '\ufffd',
  '\u007f',
  'Ω',
];

function text(next: () => number): string {
  let out = '';
  const length = Math.floor(next() * 8);
  for (let i = 0; i < length; i++) out += PIECES[Math.floor(next() * PIECES.length)];
  return out;
}

function value(next: () => number, depth: number): unknown {
  const kind = Math.floor(next() * (depth > 3 ? 6 : 9));
  switch (kind) {
    case 0:
      return null;
    case 1:
      return undefined;
    case 2:
      return next() < 0.5;
    case 3:
      return [0, -1, 1.5, 1e21, NaN, Infinity, -0][Math.floor(next() * 7)];
    case 4:
    case 5:
      return text(next);
    case 6:
      return Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth + 1));
    case 7:
      return () => 1;
    default: {
      const out: Record<string, unknown> = {};
      const n = Math.floor(next() * 5);
      for (let i = 0; i < n; i++) out[text(next) || `k${i}`] = value(next, depth + 1);
      return out;
    }
  }
}

describe('canonical JSON and its hash', () => {
  it('agree with the reference definitions on varied values', () => {
    const next = random(7);
    for (let i = 0; i < 3_000; i++) {
      const v = value(next, 0);
      const json = canonicalJson(v);
      expect(json).toBe(referenceJson(v));
      expect(fnv1a64(json)).toBe(referenceHash(json));
    }
  });

  it('hashes lone and paired surrogates as UTF-8 does', () => {
    for (const t of ['\ud800', 'a\udc00b', '\ud83d\ude00', '\ude00\ud83d', `x${'\ud800'}`, '\u0800', '\u07ff'])
      expect(fnv1a64(t)).toBe(referenceHash(t));
  });
});

describe('calendar arithmetic without the polyfill', () => {
  const referenceIsIsoDate = (v: string) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
    try {
      Temporal.PlainDate.from(v, { overflow: 'reject' });
      return true;
    } catch {
      return false;
    }
  };

  it('tells real dates as Temporal does', () => {
    const candidates = ['0000-01-01', '9999-12-31', '1900-02-29', '2000-02-29', '2100-02-29', '2024-02-29'];
    for (const year of [1899, 1900, 1999, 2000, 2023, 2024, 2026, 2100])
      for (let month = 0; month <= 13; month++)
        for (const day of [0, 1, 28, 29, 30, 31, 32])
          candidates.push(`${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`);
    for (const c of candidates) expect(isIsoDate(c)).toBe(referenceIsIsoDate(c));
  });

  it('moves dates as Temporal does', () => {
    const dates = ['2024-02-29', '2026-01-01', '2026-12-31', '1999-12-31', '2100-02-28', '0000-01-01', '9999-12-31'];
    for (const d of dates)
      for (const days of [-800, -366, -365, -31, -30, -1, 0, 1, 28, 29, 365, 366, 1000]) {
        expect(addDays(d, days)).toBe(Temporal.PlainDate.from(d).add({ days }).toString());
      }
  });
});

describe('cached zone answers', () => {
  it('are the same answers as uncached ones, asked again', () => {
    const zones = ['Europe/London', 'America/Santiago', 'Asia/Kolkata', 'Australia/Sydney', 'UTC'];
    const at = new Date('2026-03-29T00:30:00Z');
    for (let round = 0; round < 2; round++) {
      for (const zone of zones) {
        expect(isTimeZone(zone)).toBe(true);
        const zoned = Temporal.Instant.fromEpochMilliseconds(at.getTime()).toZonedDateTimeISO(zone);
        expect(localDate(at, zone)).toBe(zoned.toPlainDate().toString());
        expect(describeInstant(at, zone)).toBe(
          `${zoned.toPlainDate().toString()} ${zoned.toPlainTime().toString({ smallestUnit: 'minute' })} ${zone}`,
        );
        expect(localMidnightUtc('2026-09-06', zone).getTime()).toBe(
          Temporal.PlainDate.from('2026-09-06').toZonedDateTime({ timeZone: zone }).epochMilliseconds,
        );
      }
      expect(isTimeZone('Mars/Olympus')).toBe(false);
    }
  });

  it('hands out a fresh Date each time', () => {
    const a = localMidnightUtc('2026-05-01', 'Europe/Paris');
    a.setTime(0);
    expect(localMidnightUtc('2026-05-01', 'Europe/Paris').toISOString()).toBe('2026-04-30T22:00:00.000Z');
  });

  it('stay bounded', () => {
    const cache = new AnswerCache<number>(3);
    let computed = 0;
    for (const key of ['a', 'b', 'c', 'a', 'd', 'e', 'a']) cache.get(key, () => ++computed);
    expect(cache.size).toBeLessThanOrEqual(3);
    expect(computed).toBe(6);
    const undefinedAnswers = new AnswerCache<undefined>(2);
    let asked = 0;
    undefinedAnswers.get('x', () => void asked++);
    undefinedAnswers.get('x', () => void asked++);
    expect(asked).toBe(1);
  });
});
