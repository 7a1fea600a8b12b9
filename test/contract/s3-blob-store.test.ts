/**
 * The S3 blob store against a real S3-compatible server (moto, pinned in test/support/s3-server.ts),
 * installed into the per-user cache when missing and started on a free loopback port: round trips,
 * sealing at rest, integrity, missing blobs and buckets, key prefixes, deletes, and the store the
 * environment selects.
 *
 * Without python3 (or without access to PyPI on first run) the checks are skipped with the
 * reason; BOBSYNC_REQUIRE_S3_SERVER=1 turns that into a failure.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { BlobNotFoundError, S3BlobStore, blobStoreFromEnv, type S3BlobStoreOptions } from '../../src/blobstore';
import { codecFromEnv } from '../../src/codec/aes-gcm-codec';
import { testCodecEnv } from '../support/codec';
import {
  MOTO_VERSION,
  announceS3Server,
  ensureS3Server,
  startS3Server,
  type RunningS3Server,
} from '../support/s3-server';

const install = ensureS3Server();
announceS3Server(install);
const describeWithServer = 'unavailable' in install ? describe.skip : describe;

const BUCKET = 'bobsync-contract';
const SECRET_KEY = 'bobsync-test-secret';

describeWithServer(`S3 blob store on moto server ${MOTO_VERSION}`, () => {
  let server: RunningS3Server;
  const stores: S3BlobStore[] = [];

  beforeAll(async () => {
    if ('unavailable' in install) return;
    server = await startS3Server(install.python);
    await server.createBucket(BUCKET);
  }, 60_000);
  afterAll(async () => {
    for (const store of stores) store.destroy();
    await server?.stop();
  });

  const store = (options: Partial<S3BlobStoreOptions> = {}, codec = codecFromEnv(testCodecEnv)) => {
    const created = new S3BlobStore(
      {
        bucket: BUCKET,
        endpoint: server.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'bobsync-test', secretAccessKey: SECRET_KEY },
        ...options,
      },
      codec,
    );
    stores.push(created);
    return created;
  };
  const rawObject = async (key: string) => {
    const object = await server.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return Buffer.from(await object.Body!.transformToByteArray());
  };
  const objectKeys = async (prefix: string) => {
    const listed = await server.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
    return (listed.Contents ?? []).map((o) => o.Key!).sort();
  };
  let n = 0;
  /** A key prefix no other check wrote under, as every check shares the bucket. */
  const fresh = () => `check-${Date.now().toString(36)}-${n++}/`;

  it('round-trips JSON larger than a Temporal payload, and bytes, with small references', async () => {
    const s = store({ prefix: fresh() });
    const employees = Array.from({ length: 30_000 }, (_, i) => ({
      id: String(3332883842000900000 + i),
      email: `person${i}@example.com`,
      name: 'Zoë Müller',
    }));
    const ref = await s.putJson('runs/r1/hibob.json', { employees });
    expect(ref.bytes).toBeGreaterThan(2 * 1024 * 1024);
    expect(JSON.stringify(ref).length).toBeLessThan(200);
    expect(await s.getJson(ref)).toEqual({ employees });
    expect(await s.getJson('runs/r1/hibob.json')).toEqual({ employees });

    const bytes = randomBytes(256 * 1024);
    const bytesRef = await s.putBytes('runs/r1/report.xlsx', bytes);
    expect(bytesRef).toEqual({ key: 'runs/r1/report.xlsx', bytes: bytes.length, sha256: expect.any(String) });
    expect((await s.getBytes(bytesRef)).equals(bytes)).toBe(true);
  });

  it('keeps employee data sealed in the bucket, readable only with the codec key', async () => {
    const prefix = fresh();
    const s = store({ prefix });
    const ref = await s.putJson('a.json', { email: 'jane.doe@example.com', name: 'Jane Doe' });
    const raw = await rawObject(`${prefix}a.json`);
    expect(raw.length).toBeGreaterThan(0);
    expect(raw.includes('jane.doe')).toBe(false);
    expect(raw.includes('Jane Doe')).toBe(false);
    expect(await s.getJson(ref)).toEqual({ email: 'jane.doe@example.com', name: 'Jane Doe' });

    const otherKey = codecFromEnv({ BOBSYNC_CODEC_KEYS: `other:${randomBytes(32).toString('base64')}` });
    await expect(store({ prefix }, otherKey).getJson(ref)).rejects.toThrow();
  });

  it('detects an object replaced behind its reference', async () => {
    const prefix = fresh();
    const s = store({ prefix });
    const ref = await s.putJson('x.json', { n: 1 });
    await s.putJson('x.json', { n: 2 });
    await expect(s.getJson(ref)).rejects.toThrow(/does not match its reference/);

    await server.client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}x.json`, Body: Buffer.from('not a sealed blob') }),
    );
    const unreadable = await s.getJson(ref).catch((err: unknown) => err);
    expect(unreadable).toBeInstanceOf(Error);
    expect(unreadable).not.toBeInstanceOf(BlobNotFoundError);
  });

  it('answers BlobNotFoundError for a missing key, and names a missing bucket instead', async () => {
    const s = store({ prefix: fresh() });
    const missing = await s.getJson('state/none.json').catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(BlobNotFoundError);
    expect(missing).toMatchObject({ key: 'state/none.json' });

    const noBucket = store({ bucket: 'no-such-bucket' });
    // One call at a time: a second rejection started early would go unhandled while the first is awaited.
    for (const attempt of [() => noBucket.getJson('state/none.json'), () => noBucket.putJson('a.json', {})]) {
      const err = await attempt().catch((e: unknown) => e);
      expect(err).not.toBeInstanceOf(BlobNotFoundError);
      expect((err as Error).message).toMatch(/S3 bucket "no-such-bucket" does not exist.*BOBSYNC_S3_BUCKET/);
      expect(JSON.stringify(err) + String((err as Error).stack)).not.toContain(SECRET_KEY);
    }
  });

  it('keeps every key under its prefix, so stores with other prefixes never meet', async () => {
    const root = fresh();
    const tenantA = store({ prefix: `${root}tenant-a/` });
    const tenantB = store({ prefix: `${root}tenant-b` }); // the "/" is added
    await tenantA.putJson('state/full-sync.json', { tenant: 'a' });
    await tenantB.putJson('state/full-sync.json', { tenant: 'b' });
    expect(await objectKeys(root)).toEqual([
      `${root}tenant-a/state/full-sync.json`,
      `${root}tenant-b/state/full-sync.json`,
    ]);
    expect(await tenantA.getJson('state/full-sync.json')).toEqual({ tenant: 'a' });
    expect(await tenantB.getJson('state/full-sync.json')).toEqual({ tenant: 'b' });
    await expect(store({ prefix: root }).getJson('state/full-sync.json')).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it('deletes a blob, and deleting one that is not there is no error', async () => {
    const prefix = fresh();
    const s = store({ prefix });
    await s.putJson('runs/r2/plan.json', { rows: [] });
    await s.putJson('runs/r2/keep.json', { rows: [] });
    await s.delete('runs/r2/plan.json');
    await expect(s.getJson('runs/r2/plan.json')).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await objectKeys(prefix)).toEqual([`${prefix}runs/r2/keep.json`]);
    await expect(s.delete('runs/r2/plan.json')).resolves.toBeUndefined();
  });

  it('refuses keys that could leave the prefix, as the file store does', async () => {
    const s = store({ prefix: fresh() });
    for (const key of ['../escape.json', '/abs.json', 'a/../../b.json', ''])
      await expect(s.putJson(key, {})).rejects.toThrow(/invalid blob key/);
    await expect(s.getJson('../escape.json')).rejects.toThrow(/invalid blob key/);
    await expect(s.delete('../escape.json')).rejects.toThrow(/invalid blob key/);
  });

  it('is what the environment selects: blobs written on one host are read on another', async () => {
    const prefix = fresh();
    const host = () => ({
      ...testCodecEnv,
      ...server.blobStoreEnv(BUCKET, prefix),
      BOBSYNC_DATA_DIR: mkdtempSync(join(tmpdir(), 'bobsync-data-')),
    });
    const first = host();
    const second = host();
    const writer = blobStoreFromEnv(first);
    const reader = blobStoreFromEnv(second);
    expect(writer).toBeInstanceOf(S3BlobStore);
    stores.push(writer as S3BlobStore, reader as S3BlobStore);
    const ref = await writer.putJson('runs/r3/hibob.json', { email: 'jane.doe@example.com' });
    expect(await reader.getJson(ref)).toEqual({ email: 'jane.doe@example.com' });
    expect(await objectKeys(prefix)).toEqual([`${prefix}runs/r3/hibob.json`]);
    // Nothing went to either host's data directory.
    expect(readdirSync(first.BOBSYNC_DATA_DIR)).toEqual([]);
    expect(readdirSync(second.BOBSYNC_DATA_DIR)).toEqual([]);
  });
});
