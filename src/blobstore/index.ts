import { join, resolve } from 'node:path';
import { codecFromEnv } from '../codec/aes-gcm-codec';
import { blobStoreSettings } from '../config/runtime';
import { FileBlobStore, type BlobStore } from './blob-store';
import { S3BlobStore } from './s3-blob-store';

export * from './blob-store';
export * from './s3-blob-store';

/**
 * The blob store of this deployment, sealed with the codec keys: files under
 * BOBSYNC_DATA_DIR/blobs, or with BOBSYNC_BLOB_STORE=s3 a bucket every worker shares.
 */
export function blobStoreFromEnv(env: NodeJS.ProcessEnv = process.env): BlobStore {
  const settings = blobStoreSettings(env);
  const codec = codecFromEnv(env);
  if (settings.BOBSYNC_BLOB_STORE === 'file')
    return new FileBlobStore(resolve(join(settings.BOBSYNC_DATA_DIR, 'blobs')), codec);
  const endpoint = settings.BOBSYNC_S3_ENDPOINT;
  return new S3BlobStore(
    {
      bucket: settings.BOBSYNC_S3_BUCKET!,
      prefix: settings.BOBSYNC_S3_PREFIX,
      endpoint,
      // S3-compatible stores mostly ignore the region, but the request signature needs one.
      region: settings.BOBSYNC_S3_REGION ?? env.AWS_REGION ?? 'us-east-1',
      forcePathStyle: settings.BOBSYNC_S3_FORCE_PATH_STYLE,
      // Keys in the given environment win (processes started with a prepared environment);
      // otherwise the AWS SDK's standard chain: process environment, profile, web identity, instance role.
      credentials:
        env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
          ? {
              accessKeyId: env.AWS_ACCESS_KEY_ID,
              secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
              sessionToken: env.AWS_SESSION_TOKEN || undefined,
            }
          : undefined,
    },
    codec,
  );
}
