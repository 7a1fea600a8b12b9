import { canonicalJson, fingerprint, fnv1a64 } from '../../src/domain/fingerprint';

describe('fnv1a64', () => {
  it.each([
    ['', 'cbf29ce484222325'],
    ['a', 'af63dc4c8601ec8c'],
    ['foobar', '85944171f73967e8'],
  ])('matches the published FNV-1a 64 vector for %j', (text, hash) => {
    expect(fnv1a64(text)).toBe(hash);
  });

  it('agrees with a BigInt reference on varied text, including non-ASCII', () => {
    const reference = (text: string) => {
      let h = 0xcbf29ce484222325n;
      for (const byte of new TextEncoder().encode(text))
        h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
      return h.toString(16).padStart(16, '0');
    };
    for (const text of ['Jane Doe', 'é', '日本語', '👩‍💻', '{"a":1}', 'x'.repeat(1000), '\u0000\uffff']) {
      expect(fnv1a64(text)).toBe(reference(text));
    }
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level, keeps array order and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"z":1}]},"b":1}',
    );
    expect(canonicalJson([undefined, 'x'])).toBe('[null,"x"]');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson('é"')).toBe('"é\\""');
  });

  it('gives equal fingerprints for equal data in any key order, different ones otherwise', () => {
    expect(fingerprint({ a: 1, b: [1, 2] })).toBe(fingerprint({ b: [1, 2], a: 1 }));
    expect(fingerprint({ a: 1, b: [1, 2] })).not.toBe(fingerprint({ a: 1, b: [2, 1] }));
    expect(fingerprint({ a: null })).not.toBe(fingerprint({}));
    expect(fingerprint({ a: undefined })).toBe(fingerprint({}));
  });
});
