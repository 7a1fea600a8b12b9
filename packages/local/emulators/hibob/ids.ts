/** Small deterministic helpers: a seedable PRNG, backend ids and Bob's microsecond timestamps. */

/** mulberry32: a tiny 32-bit PRNG, enough for repeatable demo data and ids. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Backend ids look like "3332883894235038486": 19 digits, beyond Number.MAX_SAFE_INTEGER,
 * so they are produced with BigInt and only ever handled as strings.
 */
export class BackendIdSequence {
  private last: bigint;

  constructor(
    private readonly random: () => number,
    start: bigint,
  ) {
    this.last = start;
  }

  next(): string {
    this.last += BigInt(1 + Math.floor(this.random() * 90_000_000));
    return this.last.toString();
  }
}

/** `2025-01-08T13:06:26.915906`: UTC, no zone, microseconds. */
export function formatMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const fraction = String(micros % 1_000_000).padStart(6, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${fraction}`;
}

/** Hands out strictly increasing microsecond timestamps, so two events never share one. */
export class MicrosecondStamper {
  private lastMicros = 0;

  stamp(nowMs: number): string {
    let micros = Math.floor(nowMs) * 1000;
    if (micros <= this.lastMicros) micros = this.lastMicros + 1;
    this.lastMicros = micros;
    return formatMicros(micros);
  }
}
