import { codecFromEnv, generateCodecKey, payloadFromJson, payloadToJson, payloadsFromJson } from '../../src/codec';
import { codecRouterOptionsFromEnv } from '../../src/codec/codec-server';

describe('payload JSON mapping', () => {
  it('converts both ways with base64 metadata and data', () => {
    const json = {
      metadata: { encoding: Buffer.from('json/plain').toString('base64') },
      data: Buffer.from('"hi"').toString('base64'),
    };
    const payload = payloadFromJson(json);
    expect(Buffer.from(payload.metadata!.encoding!).toString()).toBe('json/plain');
    expect(Buffer.from(payload.data!).toString()).toBe('"hi"');
    expect(payloadToJson(payload)).toEqual(json);
  });

  it('accepts URL-safe base64 and missing data', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xfe]);
    expect(Buffer.from(payloadFromJson({ data: bytes.toString('base64url') }).data!)).toEqual(bytes);
    expect(payloadFromJson({ metadata: {} }).data).toHaveLength(0);
  });

  it('reads `{}` as no payloads, as protobuf JSON (and the Temporal CLI) writes an empty list', () => {
    expect(payloadsFromJson({})).toEqual([]);
  });

  it('rejects malformed bodies with a message that says where', () => {
    expect(() => payloadsFromJson({ payloads: 'x' })).toThrow(/\{"payloads"/);
    expect(() => payloadsFromJson(null)).toThrow(/\{"payloads"/);
    expect(() => payloadsFromJson({ payloads: [1] })).toThrow('payloads[0] must be an object.');
    expect(() => payloadsFromJson({ payloads: [{ metadata: [] }] })).toThrow(
      /payloads\[0\]\.metadata must be an object/,
    );
    expect(() => payloadsFromJson({ payloads: [{}, { data: 'not base64!' }] })).toThrow(
      'payloads[1].data must be a base64 string.',
    );
    expect(() => payloadsFromJson({ payloads: [{ metadata: { encoding: 3 } }] })).toThrow(
      'payloads[0].metadata.encoding must be a base64 string.',
    );
  });
});

describe('codecRouterOptionsFromEnv', () => {
  const codec = codecFromEnv({ BOBSYNC_CODEC_KEYS: `k:${generateCodecKey()}` });

  it('defaults to the dev server UI origin and no token', () => {
    expect(codecRouterOptionsFromEnv(codec, {})).toEqual({
      codec,
      corsOrigins: ['http://localhost:8233'],
      authToken: undefined,
    });
  });

  it('reads origins and token', () => {
    const options = codecRouterOptionsFromEnv(codec, {
      BOBSYNC_CODEC_CORS_ORIGINS: 'http://localhost:8080/, https://temporal.example.com',
      BOBSYNC_CODEC_AUTH_TOKEN: ' s3cret ',
    });
    expect(options.corsOrigins).toEqual(['http://localhost:8080', 'https://temporal.example.com']);
    expect(options.authToken).toBe('s3cret');
  });
});
