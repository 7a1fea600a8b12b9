/**
 * Stable fingerprints: FNV-1a (64 bit) over canonical JSON (object keys sorted, undefined
 * dropped). Equal data gives the same fingerprint on every run, machine and Node version, so
 * a stored fingerprint tells an unchanged employee apart without diffing against the LMS.
 */

/** JSON with object keys sorted at every level; `undefined` properties are left out as JSON does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const json = JSON.stringify(value);
    return json === undefined ? 'null' : json;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

const encoder = new TextEncoder();

/** FNV-1a 64-bit of the UTF-8 bytes, as 16 hex digits. Four 16-bit limbs keep it exact without BigInt. */
export function fnv1a64(text: string): string {
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  for (const byte of encoder.encode(text)) {
    h0 ^= byte;
    // Multiply by the FNV prime 2^40 + 0x1b3.
    const t0 = h0 * 0x1b3;
    let t1 = h1 * 0x1b3;
    let t2 = h2 * 0x1b3;
    let t3 = h3 * 0x1b3;
    t2 += h0 << 8;
    t3 += h1 << 8;
    t1 += t0 >>> 16;
    t2 += t1 >>> 16;
    t3 += t2 >>> 16;
    h0 = t0 & 0xffff;
    h1 = t1 & 0xffff;
    h2 = t2 & 0xffff;
    h3 = t3 & 0xffff;
  }
  return [h3, h2, h1, h0].map((h) => h.toString(16).padStart(4, '0')).join('');
}

export function fingerprint(value: unknown): string {
  return fnv1a64(canonicalJson(value));
}
