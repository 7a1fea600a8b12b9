import { inspect } from 'node:util';
import { defaultPayloadConverter, type DefaultFailureConverter, type Payload } from '@temporalio/common';
import {
  AesGcmPayloadCodec,
  CodecConfigError,
  CodecDecodeError,
  ENCODING_ENCRYPTED,
  METADATA_KEY_ID,
  codecDataConverter,
  codecFromEnv,
  generateCodecKey,
  parseCodecKeys,
} from '../../src/codec';

const keyA = generateCodecKey();
const keyB = generateCodecKey();
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const toPayload = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const fromPayload = (payload: Payload): unknown => defaultPayloadConverter.fromPayload(payload);

describe('AesGcmPayloadCodec', () => {
  const codec = codecFromEnv({ BOBSYNC_CODEC_KEYS: `a:${keyA}` });

  it('round-trips payloads of every kind and hides the plaintext', async () => {
    const values = [
      { email: 'ada.lovelace@example.com', id: '3332883884017713238' },
      'plain string',
      42,
      null,
      [1, 2, 3],
    ];
    const payloads = values.map(toPayload);
    const encoded = await codec.encode(payloads);
    expect(encoded).toHaveLength(values.length);
    for (const p of encoded) {
      expect(text(p.metadata?.encoding)).toBe(ENCODING_ENCRYPTED);
      expect(text(p.metadata?.[METADATA_KEY_ID])).toBe('a');
      // Neither the value nor its original encoding leaks.
      expect(Buffer.from(p.data!).includes('ada.lovelace')).toBe(false);
      expect(Buffer.from(p.data!).includes('json/plain')).toBe(false);
    }
    const decoded = await codec.decode(encoded);
    expect(decoded.map(fromPayload)).toEqual(values);
    expect(text(decoded[0]!.metadata?.encoding)).toBe('json/plain');
  });

  it('uses a fresh IV: the same value encrypts differently each time', async () => {
    const [one, two] = await codec.encode([toPayload('same'), toPayload('same')]);
    expect(Buffer.from(one!.data!).equals(Buffer.from(two!.data!))).toBe(false);
  });

  it('never repeats an IV over many payloads, and each still decodes', async () => {
    const sealed = await codec.encode(Array.from({ length: 1_000 }, (_, i) => toPayload(i)));
    const ivs = new Set(sealed.map((p) => Buffer.from(p.data!.subarray(0, 12)).toString('hex')));
    expect(ivs.size).toBe(1_000);
    expect((await codec.decode(sealed)).map(fromPayload)).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
  });

  it('handles empty arrays and payloads with no data', async () => {
    expect(await codec.encode([])).toEqual([]);
    const [sealed] = await codec.encode([{ metadata: { encoding: Buffer.from('binary/null') } }]);
    const [opened] = await codec.decode([sealed!]);
    expect(text(opened!.metadata?.encoding)).toBe('binary/null');
    expect(opened!.data?.length ?? 0).toBe(0);
  });

  it('passes unencrypted payloads through on decode (histories from before encryption)', async () => {
    const plain = toPayload({ hello: 'world' });
    const [out] = await codec.decode([plain]);
    expect(fromPayload(out!)).toEqual({ hello: 'world' });
  });

  it('rotates keys: old key still decodes, new key encodes', async () => {
    const before = codecFromEnv({ BOBSYNC_CODEC_KEYS: `k2025:${keyA}` });
    const oldPayloads = await before.encode([toPayload('written in 2025')]);

    const after = codecFromEnv({ BOBSYNC_CODEC_KEYS: `k2026:${keyB},k2025:${keyA}` });
    expect(after.activeKeyId).toBe('k2026');
    expect((await after.decode(oldPayloads)).map(fromPayload)).toEqual(['written in 2025']);

    const newPayloads = await after.encode([toPayload('written in 2026')]);
    expect(text(newPayloads[0]!.metadata?.[METADATA_KEY_ID])).toBe('k2026');
    // The retired codec cannot read the new payloads and says which key is missing.
    await expect(before.decode(newPayloads)).rejects.toThrow(/codec key "k2026", which is not configured/);
  });

  it('honours BOBSYNC_CODEC_ACTIVE_KEY', async () => {
    const codec2 = codecFromEnv({ BOBSYNC_CODEC_KEYS: `old:${keyA},new:${keyB}`, BOBSYNC_CODEC_ACTIVE_KEY: 'new' });
    const [p] = await codec2.encode([toPayload(1)]);
    expect(text(p!.metadata?.[METADATA_KEY_ID])).toBe('new');
  });

  it('detects tampered ciphertext', async () => {
    const [sealed] = await codec.encode([toPayload({ email: 'grace@example.com' })]);
    const data = Buffer.from(sealed!.data!);
    data[20] = data[20]! ^ 0x01;
    await expect(codec.decode([{ ...sealed!, data }])).rejects.toThrow(CodecDecodeError);
    await expect(codec.decode([{ ...sealed!, data }])).rejects.toThrow(/altered or sealed with a different key/);
  });

  it('detects a truncated payload', async () => {
    const [sealed] = await codec.encode([toPayload('x')]);
    await expect(codec.decode([{ ...sealed!, data: sealed!.data!.subarray(0, 10) }])).rejects.toThrow(/truncated/);
  });

  it('detects a payload relabelled with another key id', async () => {
    const two = codecFromEnv({ BOBSYNC_CODEC_KEYS: `a:${keyA},b:${keyB}` });
    const [sealed] = await two.encode([toPayload('secret')]);
    const relabelled = { ...sealed!, metadata: { ...sealed!.metadata, [METADATA_KEY_ID]: Buffer.from('b') } };
    await expect(two.decode([relabelled])).rejects.toThrow(/key "b": it was altered/);
  });

  it('detects a payload sealed with a different key under the same id', async () => {
    const other = codecFromEnv({ BOBSYNC_CODEC_KEYS: `a:${keyB}` });
    const sealed = await other.encode([toPayload('secret')]);
    await expect(codec.decode(sealed)).rejects.toThrow(CodecDecodeError);
  });

  it('names the missing key id when a payload was sealed with an unknown key', async () => {
    const foreign = codecFromEnv({ BOBSYNC_CODEC_KEYS: `retired-2023:${keyB}` });
    const sealed = await foreign.encode([toPayload('x')]);
    await expect(codec.decode(sealed)).rejects.toThrow(
      'Payload was encrypted with codec key "retired-2023", which is not configured (known: a). Add it to BOBSYNC_CODEC_KEYS to read this history.',
    );
  });

  it('rejects an encrypted payload without a key id', async () => {
    const [sealed] = await codec.encode([toPayload('x')]);
    const { [METADATA_KEY_ID]: _drop, ...rest } = sealed!.metadata!;
    await expect(codec.decode([{ ...sealed!, metadata: rest }])).rejects.toThrow(/no "encryption-key-id" metadata/);
  });

  it('never shows key material when inspected or serialised', () => {
    const keyBytes = Buffer.from(keyA, 'base64');
    const shown = [inspect(codec, { showHidden: true, depth: 10 }), JSON.stringify(codec), String(Object.keys(codec))];
    for (const s of shown) {
      expect(s).not.toContain(keyA);
      expect(s).not.toContain(keyBytes.toString('hex'));
    }
    expect(JSON.stringify(codec)).toBe('{"activeKeyId":"a","keyIds":["a"]}');
  });

  it('validates keys given to the constructor', () => {
    expect(() => new AesGcmPayloadCodec({ keys: {}, activeKeyId: 'a' })).toThrow(CodecConfigError);
    expect(() => new AesGcmPayloadCodec({ keys: { a: Buffer.alloc(16) }, activeKeyId: 'a' })).toThrow(
      /16 bytes long; AES-256 needs exactly 32/,
    );
    expect(() => new AesGcmPayloadCodec({ keys: { a: Buffer.alloc(32) }, activeKeyId: 'b' })).toThrow(
      /Active codec key "b" is not among/,
    );
    expect(
      () => new AesGcmPayloadCodec({ keys: new Map([['bad id', Buffer.alloc(32)]]), activeKeyId: 'bad id' }),
    ).toThrow(/key id "bad id"/);
  });

  it('builds a data converter with the codec, and a failure converter that encodes messages', () => {
    const converter = codecDataConverter(codec);
    expect(converter).toEqual({ payloadCodecs: [codec], failureConverterPath: expect.any(String) });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require(converter.failureConverterPath!) as { failureConverter: DefaultFailureConverter };
    expect(loaded.failureConverter.options.encodeCommonAttributes).toBe(true);
  });
});

describe('codecFromEnv', () => {
  const expectConfigError = (env: NodeJS.ProcessEnv, message: RegExp) => {
    let caught: unknown;
    try {
      codecFromEnv(env);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CodecConfigError);
    expect((caught as Error).message).toMatch(message);
    // Whatever went wrong, the message never echoes a key.
    for (const value of Object.values(env)) {
      for (const part of (value ?? '').split(/[,:]/)) {
        if (part.length >= 16) expect((caught as Error).message).not.toContain(part);
      }
    }
  };

  it('explains how to create a key when the variable is missing or blank', () => {
    expectConfigError({}, /BOBSYNC_CODEC_KEYS is not set.*openssl rand -base64 32/);
    expectConfigError({ BOBSYNC_CODEC_KEYS: '   ' }, /BOBSYNC_CODEC_KEYS is not set/);
    expectConfigError({ BOBSYNC_CODEC_KEYS: ' , ,' }, /BOBSYNC_CODEC_KEYS is empty.*openssl rand -base64 32/);
  });

  it('rejects entries without a key id', () => {
    expectConfigError({ BOBSYNC_CODEC_KEYS: keyA }, /entry 1 is not of the form keyId:base64Key/);
    expectConfigError({ BOBSYNC_CODEC_KEYS: `:${keyA}` }, /entry 1 is not of the form/);
    expectConfigError({ BOBSYNC_CODEC_KEYS: `a:${keyA},${keyB}` }, /entry 2 is not of the form/);
  });

  it('rejects invalid key ids and duplicates', () => {
    expectConfigError({ BOBSYNC_CODEC_KEYS: `a b:${keyA}` }, /key id at entry 1 must be/);
    expectConfigError({ BOBSYNC_CODEC_KEYS: `a:${keyA},a:${keyB}` }, /key id "a" appears more than once/);
  });

  it('rejects keys that are not base64 or not 32 bytes', () => {
    expectConfigError({ BOBSYNC_CODEC_KEYS: 'a:not*base64!!' }, /key "a" is not valid base64.*openssl rand -base64 32/);
    const short = Buffer.alloc(16, 7).toString('base64');
    expectConfigError({ BOBSYNC_CODEC_KEYS: `a:${short}` }, /key "a" decodes to 16 bytes; AES-256 needs 32/);
    const long = Buffer.alloc(48, 7).toString('base64');
    expectConfigError({ BOBSYNC_CODEC_KEYS: `a:${long}` }, /decodes to 48 bytes/);
  });

  it('rejects an active key that is not configured', () => {
    expectConfigError(
      { BOBSYNC_CODEC_KEYS: `a:${keyA}`, BOBSYNC_CODEC_ACTIVE_KEY: 'b' },
      /BOBSYNC_CODEC_ACTIVE_KEY="b" names no key in BOBSYNC_CODEC_KEYS \(known: a\)/,
    );
  });

  it('tolerates whitespace and an empty active key', () => {
    const codec = codecFromEnv({ BOBSYNC_CODEC_KEYS: ` a : ${keyA} , b:${keyB} `, BOBSYNC_CODEC_ACTIVE_KEY: '' });
    expect(codec.activeKeyId).toBe('a');
    expect(codec.keyIds).toEqual(['a', 'b']);
  });

  it('parses a key produced by openssl (44 base64 characters)', () => {
    const keys = parseCodecKeys(`prod-1:${keyA}`);
    expect(keyA).toHaveLength(44);
    expect(keys.get('prod-1')).toEqual(Buffer.from(keyA, 'base64'));
  });
});
