import { join, resolve } from 'node:path';
import { codecFromEnv } from '../codec/aes-gcm-codec';
import { FileBlobStore, type BlobStore } from './blob-store';

export * from './blob-store';

/** The blob store of this deployment: files under BOBSYNC_DATA_DIR/blobs, sealed with the codec keys. */
export function blobStoreFromEnv(env: NodeJS.ProcessEnv = process.env): BlobStore {
  return new FileBlobStore(resolve(join(env.BOBSYNC_DATA_DIR ?? '.data', 'blobs')), codecFromEnv(env));
}
