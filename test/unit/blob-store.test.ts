import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobNotFoundError, FileBlobStore } from '../../src/blobstore/blob-store';
import { codecFromEnv } from '../../src/codec/aes-gcm-codec';
import { testCodecEnv } from '../support/codec';

describe('file blob store', () => {
  const root = () => mkdtempSync(join(tmpdir(), 'blobs-'));

  it('round-trips JSON larger than a Temporal payload, and the reference is small', async () => {
    const store = new FileBlobStore(root(), codecFromEnv(testCodecEnv));
    const employees = Array.from({ length: 30_000 }, (_, i) => ({
      id: String(3332883842000900000 + i),
      email: `person${i}@example.com`,
      name: 'Zoë Müller',
    }));
    const ref = await store.putJson('runs/r1/hibob.json', { employees });
    expect(ref.bytes).toBeGreaterThan(2 * 1024 * 1024);
    expect(JSON.stringify(ref).length).toBeLessThan(200);
    expect(await store.getJson(ref)).toEqual({ employees });
  });

  it('keeps employee data encrypted on disk', async () => {
    const dir = root();
    const store = new FileBlobStore(dir, codecFromEnv(testCodecEnv));
    await store.putJson('a.json', { email: 'jane.doe@example.com' });
    const onDisk = readFileSync(join(dir, 'a.json'));
    expect(onDisk.includes('jane.doe')).toBe(false);
    expect(await store.getJson('a.json')).toEqual({ email: 'jane.doe@example.com' });
  });

  it('detects a blob that no longer matches its reference, and refuses keys that leave the store', async () => {
    const dir = root();
    const plain = new FileBlobStore(dir);
    const ref = await plain.putJson('x.json', { n: 1 });
    await plain.putJson('x.json', { n: 2 });
    await expect(plain.getJson(ref)).rejects.toThrow(/does not match its reference/);
    await expect(plain.putJson('../escape.json', {})).rejects.toThrow(/invalid blob key/);
    await expect(plain.putJson('/abs.json', {})).rejects.toThrow(/invalid blob key/);
  });

  it('tells a missing blob apart from one it cannot read', async () => {
    const dir = root();
    const store = new FileBlobStore(dir, codecFromEnv(testCodecEnv));
    await expect(store.getJson('state/none.json')).rejects.toBeInstanceOf(BlobNotFoundError);
    writeFileSync(join(dir, 'broken.json'), 'not a sealed blob');
    const unreadable = await store.getJson('broken.json').catch((err: unknown) => err);
    expect(unreadable).toBeInstanceOf(Error);
    expect(unreadable).not.toBeInstanceOf(BlobNotFoundError);
  });

  it('writes atomically: no temporary files are left behind', async () => {
    const dir = root();
    const store = new FileBlobStore(dir);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.putJson('same.json', { i })));
    expect(readdirSync(dir)).toEqual(['same.json']);
    writeFileSync(join(dir, 'junk.json'), 'not gzip');
    await expect(store.getJson('junk.json')).rejects.toThrow();
  });
});
