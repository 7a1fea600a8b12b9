/**
 * Which blob store the environment selects, and the messages for settings that cannot work.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBlobStore, S3BlobStore, blobStoreFromEnv } from '../../src/blobstore';
import { ConfigError } from '../../src/config/loader';
import { blobStoreSettings, runtimeSettings } from '../../src/config/runtime';
import { testCodecEnv } from '../support/codec';

const problems = (env: NodeJS.ProcessEnv): string[] => {
  try {
    runtimeSettings(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    // The blob store alone is held to the same rules.
    expect(() => blobStoreSettings(env)).toThrow(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the settings to be refused');
};

describe('blob store settings', () => {
  it('keeps blobs in files under BOBSYNC_DATA_DIR by default', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'bobsync-data-'));
    const store = blobStoreFromEnv({ ...testCodecEnv, BOBSYNC_DATA_DIR: dataDir });
    expect(store).toBeInstanceOf(FileBlobStore);
    await store.putJson('state/x.json', { n: 1 });
    expect(existsSync(join(dataDir, 'blobs', 'state', 'x.json'))).toBe(true);
    expect(runtimeSettings({})).toMatchObject({ BOBSYNC_BLOB_STORE: 'file', BOBSYNC_S3_FORCE_PATH_STYLE: false });
  });

  it('selects S3 with a bucket, and reads blank values as unset', () => {
    const env = {
      ...testCodecEnv,
      BOBSYNC_BLOB_STORE: 's3',
      BOBSYNC_S3_BUCKET: 'acme-bobsync',
      BOBSYNC_S3_PREFIX: 'prod',
      BOBSYNC_S3_ENDPOINT: 'http://minio:9000',
      BOBSYNC_S3_FORCE_PATH_STYLE: 'true',
      BOBSYNC_S3_REGION: '',
    };
    const store = blobStoreFromEnv(env);
    expect(store).toBeInstanceOf(S3BlobStore);
    expect((store as S3BlobStore).objectKey('state/x.json')).toBe('prod/state/x.json');
    (store as S3BlobStore).destroy();
    expect(blobStoreSettings(env)).toMatchObject({ BOBSYNC_S3_FORCE_PATH_STYLE: true, BOBSYNC_S3_REGION: undefined });
    expect(blobStoreSettings({ BOBSYNC_BLOB_STORE: '', BOBSYNC_S3_BUCKET: '' })).toMatchObject({
      BOBSYNC_BLOB_STORE: 'file',
      BOBSYNC_S3_BUCKET: undefined,
    });
  });

  it('refuses S3 without a bucket, naming the variable and the fix', () => {
    expect(problems({ BOBSYNC_BLOB_STORE: 's3' })).toEqual([
      'BOBSYNC_S3_BUCKET: is required when BOBSYNC_BLOB_STORE=s3: set it to the name of the bucket every worker shares (not set)',
    ]);
    expect(problems({ BOBSYNC_BLOB_STORE: 's3', BOBSYNC_S3_BUCKET: '' })).toHaveLength(1);
    expect(() => blobStoreFromEnv({ ...testCodecEnv, BOBSYNC_BLOB_STORE: 's3' })).toThrow(/BOBSYNC_S3_BUCKET/);
  });

  it('names each unusable value', () => {
    expect(problems({ BOBSYNC_BLOB_STORE: 'gcs' })).toEqual([
      expect.stringMatching(/^BOBSYNC_BLOB_STORE: must be "file".*"s3".*got "gcs"/),
    ]);
    expect(problems({ BOBSYNC_S3_ENDPOINT: 'minio:9000' })).toEqual([
      expect.stringMatching(/^BOBSYNC_S3_ENDPOINT: must be the http\(s\) URL.*got "minio:9000"/),
    ]);
    expect(problems({ BOBSYNC_S3_FORCE_PATH_STYLE: 'maybe' })).toEqual([
      expect.stringMatching(/^BOBSYNC_S3_FORCE_PATH_STYLE: must be true or false/),
    ]);
    expect(problems({ BOBSYNC_S3_PREFIX: '/bobsync' })).toEqual([expect.stringMatching(/^BOBSYNC_S3_PREFIX: /)]);
    expect(problems({ BOBSYNC_S3_PREFIX: 'a/../b' })).toEqual([
      expect.stringMatching(/^BOBSYNC_S3_PREFIX: must not contain/),
    ]);
  });

  it('never repeats credentials in its messages', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const message = problems({ BOBSYNC_BLOB_STORE: 's3', AWS_SECRET_ACCESS_KEY: secret }).join('\n');
    expect(message).not.toContain(secret);
  });
});
