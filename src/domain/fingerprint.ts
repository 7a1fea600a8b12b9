/**
 * Stable fingerprints: FNV-1a (64 bit) over canonical JSON (object keys sorted, undefined
 * dropped). Equal data gives the same fingerprint on every run, machine and Node version, so
 * a stored fingerprint tells an unchanged employee apart without diffing against the LMS.
 *
 * A full sync fingerprints every employee, so both steps avoid intermediate arrays and copies;
 * the text and the hash are exactly those of the straightforward definitions.
 */

/** Characters JSON.stringify writes differently inside a string: quote, backslash, controls, surrogates. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function quoted(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** JSON with object keys sorted at every level; `undefined` properties are left out as JSON does. */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'string') return quoted(value);
  if (value === null || typeof value !== 'object') {
    const json = JSON.stringify(value);
    return json === undefined ? 'null' : json;
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  // Default sort order is by UTF-16 code units, as `<` compares strings.
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const v = record[key];
    if (v === undefined || typeof v === 'function') continue;
    out += `${first ? '' : ','}${quoted(key)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
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
