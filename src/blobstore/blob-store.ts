/**
 * Claim check for large data (snapshots, plans, reports). Workflows pass small references; the
 * data sits in a blob store. Temporal payloads fail at 2 MiB and histories at 50 MiB, and a
 * snapshot of 5,000 people is already larger than the first.
 *
 * Blobs hold employee data, so they are sealed with the same AES-GCM codec as Temporal payloads.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/** No blob under this key: the one error a reader may take as "nothing stored yet". */
export class BlobNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no blob "${key}"`);
    this.name = 'BlobNotFoundError';
  }
}

/**
 * The JSON stored under `ref`, or undefined when nothing is: any other failure is thrown, since a
 * store that cannot tell must not pass for an empty one.
 */
export async function getJsonIfStored<T>(blobs: BlobStore, ref: BlobRef | string): Promise<T | undefined> {
  try {
    return await blobs.getJson<T>(ref);
  } catch (err) {
    if (err instanceof BlobNotFoundError) return undefined;
    throw err;
  }
}

/** A reference small enough for any payload: where the blob is and how to check it. */
export interface BlobRef {
  key: string;
  bytes: number;
  sha256: string;
}

export interface BlobStore {
  putJson(key: string, value: unknown): Promise<BlobRef>;
  getJson<T>(ref: BlobRef | string): Promise<T>;
  putBytes(key: string, data: Buffer): Promise<BlobRef>;
  getBytes(ref: BlobRef | string): Promise<Buffer>;
  delete(key: string): Promise<void>;
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,400}$/;

/** Keys are relative paths of safe characters, the same in every store, so blobs can move between stores. */
export function checkBlobKey(key: string): string {
  if (!KEY.test(key) || key.includes('..')) throw new Error(`invalid blob key "${key}"`);
  return key;
}

/**
 * Blobs are mostly JSON that is written once and read once or twice: level 3 packs a 150 MB
 * HiBob snapshot in about a quarter of the default level's time, 25 % larger.
 */
const GZIP_LEVEL = 3;

// zlib's own threads compress and expand, so a large snapshot does not hold the worker's event
// loop (its heartbeats, the other snapshot's pages) for the second or two it takes.
const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * What every store does the same way: key validation, gzip, sealing with the codec, and checking
 * what is read against its reference. A store only moves the sealed bytes.
 */
export abstract class SealedBlobStore implements BlobStore {
  constructor(private readonly codec?: PayloadCodec) {}

  /** Stores the sealed bytes under a valid key, replacing what was there, all or nothing. */
  protected abstract writeSealed(key: string, sealed: Buffer): Promise<void>;
  /** The sealed bytes under a valid key; BlobNotFoundError when there are none. */
  protected abstract readSealed(key: string): Promise<Buffer>;
  /** Removes the blob under a valid key; nothing there is not an error. */
  protected abstract removeSealed(key: string): Promise<void>;

  async putBytes(key: string, data: Buffer): Promise<BlobRef> {
    checkBlobKey(key);
    await this.writeSealed(key, await this.seal(await gzipAsync(data, { level: GZIP_LEVEL })));
    return { key, bytes: data.length, sha256: sha256(data) };
  }

  async getBytes(ref: BlobRef | string): Promise<Buffer> {
    const key = checkBlobKey(typeof ref === 'string' ? ref : ref.key);
    const data = await gunzipAsync(await this.open(await this.readSealed(key)));
    if (typeof ref !== 'string' && sha256(data) !== ref.sha256) {
      throw new Error(`blob "${key}" does not match its reference (changed or corrupted)`);
    }
    return data;
  }

  async putJson(key: string, value: unknown): Promise<BlobRef> {
    return this.putBytes(key, Buffer.from(JSON.stringify(value)));
  }

  async getJson<T>(ref: BlobRef | string): Promise<T> {
    return JSON.parse((await this.getBytes(ref)).toString('utf8')) as T;
  }

  async delete(key: string): Promise<void> {
    await this.removeSealed(checkBlobKey(key));
  }

  private async seal(data: Buffer): Promise<Buffer> {
    if (!this.codec) return data;
    const [payload] = await this.codec.encode([{ metadata: {}, data }]);
    return bufferView(temporal.api.common.v1.Payload.encode(payload as temporal.api.common.v1.IPayload).finish());
  }

  private async open(stored: Buffer): Promise<Buffer> {
    if (!this.codec) return stored;
    const payload = temporal.api.common.v1.Payload.decode(stored) as Payload;
    const [plain] = await this.codec.decode([payload]);
    return bufferView(plain!.data ?? new Uint8Array());
  }
}

/**
 * The same bytes as a Buffer, without copying them: a snapshot's sealed form is tens of
 * megabytes, and each copy is memory the worker holds until the next full collection.
 */
function bufferView(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Files under one directory (a shared volume across hosts works too). Writes are atomic
 * (temporary file, then rename), so a reader never sees half a blob.
 */
export class FileBlobStore extends SealedBlobStore {
  constructor(
    private readonly root: string,
    codec?: PayloadCodec,
  ) {
    super(codec);
  }

  private path(key: string): string {
    const full = normalize(join(this.root, key));
    if (!full.startsWith(normalize(this.root) + sep)) throw new Error(`blob key "${key}" leaves the store`);
    return full;
  }

  protected async writeSealed(key: string, sealed: Buffer): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${randomUUID()}.tmp`;
    await writeFile(temp, sealed, { mode: 0o600 });
    await rename(temp, path);
  }

  protected async readSealed(key: string): Promise<Buffer> {
    return readFile(this.path(key)).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? new BlobNotFoundError(key) : err;
    });
  }

  protected async removeSealed(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }
}
