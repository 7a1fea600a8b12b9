/**
 * Blobs in an S3 bucket (AWS S3 or an S3-compatible store such as MinIO), so workers on several
 * hosts read what any of them wrote. Sealing, compression and integrity checks are those of every
 * store (SealedBlobStore); this class only moves sealed bytes. An object PUT replaces the whole
 * object at once, so a reader never sees half a blob.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { PayloadCodec } from '@temporalio/common';
import { BlobNotFoundError, SealedBlobStore } from './blob-store';

export interface S3BlobStoreOptions {
  bucket: string;
  /** Put in front of every key, so one bucket can hold several deployments ("bobsync/prod/"). */
  prefix?: string;
  /** An S3-compatible store's URL; AWS S3 when absent. */
  endpoint?: string;
  region?: string;
  /** Address the bucket in the path (http://host/bucket/key): what most local S3-compatible servers need. */
  forcePathStyle?: boolean;
  /** Explicit credentials; without them the AWS SDK's standard chain finds them. */
  credentials?: S3ClientConfig['credentials'];
}

export class S3BlobStore extends SealedBlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(options: S3BlobStoreOptions, codec?: PayloadCodec) {
    super(codec);
    this.bucket = options.bucket;
    this.prefix = options.prefix ? options.prefix.replace(/\/*$/, '/') : '';
    this.client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      credentials: options.credentials,
      // A bucket in another region than the configured one answers with a redirect: follow it.
      followRegionRedirects: true,
      // Blobs carry their own sha256 check; the SDK's default extra checksums are not understood
      // by every S3-compatible store.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** Where the blob under `key` lives in the bucket. */
  objectKey(key: string): string {
    return `${this.prefix}${key}`;
  }

  protected async writeSealed(key: string, sealed: Buffer): Promise<void> {
    await this.client
      .send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          Body: sealed,
          ContentType: 'application/octet-stream',
        }),
      )
      .catch((err: unknown) => {
        throw this.explain(err);
      });
  }

  protected async readSealed(key: string): Promise<Buffer> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      if (!object.Body) throw new Error(`S3 returned no body for blob "${key}"`);
      return Buffer.from(await object.Body.transformToByteArray());
    } catch (err) {
      if (isMissingObject(err)) throw new BlobNotFoundError(key);
      throw this.explain(err);
    }
  }

  protected async removeSealed(key: string): Promise<void> {
    // S3 answers a delete of a missing object with success, as the file store does.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) })).catch((err) => {
      throw this.explain(err);
    });
  }

  /** Closes the client's connections (the store is unusable afterwards). */
  destroy(): void {
    this.client.destroy();
  }

  /** A missing bucket is a deployment mistake, not an empty store: say which bucket and what to do. */
  private explain(err: unknown): unknown {
    if (errorName(err) === 'NoSuchBucket')
      return new Error(
        `S3 bucket "${this.bucket}" does not exist: create it, or set BOBSYNC_S3_BUCKET to an existing bucket`,
        { cause: err },
      );
    return err;
  }
}

function errorName(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'name' in err ? String(err.name) : undefined;
}

/** NoSuchKey; some S3-compatible stores answer a bare 404 instead (but a missing bucket is not a missing blob). */
function isMissingObject(err: unknown): boolean {
  if (err instanceof NoSuchKey || errorName(err) === 'NoSuchKey') return true;
  const status = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  return status === 404 && errorName(err) !== 'NoSuchBucket';
}
