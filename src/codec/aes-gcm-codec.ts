/**
 * Payload encryption for Temporal: every payload (workflow inputs, results, activity
 * arguments, signals, memos) is sealed with AES-256-GCM before it leaves the process, so
 * employee data never sits in plain text in Temporal's history or visibility stores.
 *
 * The whole original Payload (metadata and data) is serialised and encrypted, so even the
 * original encoding is hidden. Each sealed payload names the key that sealed it, which lets
 * keys rotate: new payloads use the active key, old histories still decode with older keys.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomFillSync } from 'node:crypto';
import { inspect } from 'node:util';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCODING_ENCRYPTED = 'binary/encrypted';
export const METADATA_ENCODING = 'encoding';
export const METADATA_KEY_ID = 'encryption-key-id';
export const METADATA_CIPHER = 'encryption-cipher';
export const CIPHER_NAME = 'AES256GCM';

export const ENV_CODEC_KEYS = 'BOBSYNC_CODEC_KEYS';
export const ENV_CODEC_ACTIVE_KEY = 'BOBSYNC_CODEC_ACTIVE_KEY';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const KEY_HINT =
  "Generate a key with `openssl rand -base64 32` (or `node -e \"console.log(require('crypto').randomBytes(32).toString('base64'))\"`)";

/** The codec configuration is missing or malformed. Messages never contain key material. */
export class CodecConfigError extends Error {
  override readonly name = 'CodecConfigError';
}

/** A payload could not be decrypted: unknown key id, wrong key, or tampered bytes. */
export class CodecDecodeError extends Error {
  override readonly name = 'CodecDecodeError';
}

export interface AesGcmCodecOptions {
  /** Key id → 32-byte key. Ids are stored in every sealed payload, keys never are. */
  keys: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>;
  /** Key used to encrypt. Every key in `keys` can decrypt. */
  activeKeyId: string;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();
const ENCRYPTED_BYTES = textEncoder.encode(ENCODING_ENCRYPTED);
const CIPHER_BYTES = textEncoder.encode(CIPHER_NAME);

/**
 * Random IVs drawn from the system's CSPRNG in batches instead of one call per payload (the call,
 * not the randomness, was the cost). Each batch is handed out once, 12 bytes at a time.
 */
const IV_BATCH = 4096 - (4096 % IV_BYTES);
const ivBatch = Buffer.alloc(IV_BATCH);
let ivOffset = IV_BATCH;
function nextIv(into: Buffer): void {
  if (ivOffset === IV_BATCH) {
    randomFillSync(ivBatch);
    ivOffset = 0;
  }
  ivBatch.copy(into, 0, ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
}

export class AesGcmPayloadCodec implements PayloadCodec {
  // A private field keeps keys out of console.log, JSON.stringify and error reports.
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly activeKeyId: string;

  constructor(options: AesGcmCodecOptions) {
    const entries: [string, Uint8Array][] =
      options.keys instanceof Map
        ? [...(options.keys as ReadonlyMap<string, Uint8Array>).entries()]
        : Object.entries(options.keys as Readonly<Record<string, Uint8Array>>);
    if (entries.length === 0) throw new CodecConfigError('The payload codec needs at least one key.');
    const keys = new Map<string, Buffer>();
    for (const [id, key] of entries) {
      assertKeyId(id);
      if (key.length !== KEY_BYTES) {
        throw new CodecConfigError(
          `Codec key "${id}" is ${key.length} bytes long; AES-256 needs exactly ${KEY_BYTES}.`,
        );
      }
      keys.set(id, Buffer.from(key));
    }
    if (!keys.has(options.activeKeyId)) {
      throw new CodecConfigError(
        `Active codec key "${options.activeKeyId}" is not among the configured keys (${[...keys.keys()].join(', ')}).`,
      );
    }
    this.#keys = keys;
    this.activeKeyId = options.activeKeyId;
  }

  /** The additional data of each key id, made once. */
  readonly #aadByKeyId = new Map<string, Buffer>();
  #aad(keyId: string): Buffer {
    let aad = this.#aadByKeyId.get(keyId);
    if (!aad) this.#aadByKeyId.set(keyId, (aad = additionalData(keyId)));
    return aad;
  }

  /** Ids of every key this codec can decrypt with. */
  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.activeKeyId;
    const key = this.#keys.get(keyId)!;
    const aad = this.#aad(keyId);
    const keyIdBytes = textEncoder.encode(keyId);
    return payloads.map((payload) => {
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      // One buffer, IV | ciphertext | tag, filled in place.
      const sealed = Buffer.allocUnsafe(IV_BYTES + plain.length + TAG_BYTES);
      const iv = sealed.subarray(0, IV_BYTES);
      nextIv(iv);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aad);
      let at = IV_BYTES + cipher.update(plain).copy(sealed, IV_BYTES);
      at += cipher.final().copy(sealed, at);
      at += cipher.getAuthTag().copy(sealed, at);
      return {
        metadata: {
          [METADATA_ENCODING]: ENCRYPTED_BYTES.slice(),
          [METADATA_KEY_ID]: keyIdBytes.slice(),
          [METADATA_CIPHER]: CIPHER_BYTES.slice(),
        },
        data: sealed.subarray(0, at),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      // Payloads written before encryption was switched on (or by other tools) pass through.
      if (!sameBytes(payload.metadata?.[METADATA_ENCODING], ENCRYPTED_BYTES)) return payload;
      const keyId = metadataText(payload, METADATA_KEY_ID);
      if (!keyId)
        throw new CodecDecodeError(`Encrypted payload has no "${METADATA_KEY_ID}" metadata; cannot choose a key.`);
      const key = this.#keys.get(keyId);
      if (!key) {
        throw new CodecDecodeError(
          `Payload was encrypted with codec key "${keyId}", which is not configured (known: ${this.keyIds.join(', ')}). ` +
            `Add it to ${ENV_CODEC_KEYS} to read this history.`,
        );
      }
      const sealed = payload.data ?? new Uint8Array();
      if (sealed.length < IV_BYTES + TAG_BYTES)
        throw new CodecDecodeError(`Encrypted payload (key "${keyId}") is truncated.`);
      const iv = sealed.subarray(0, IV_BYTES);
      const tag = sealed.subarray(sealed.length - TAG_BYTES);
      const body = sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES);
      let plain: Buffer;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAAD(this.#aad(keyId));
        decipher.setAuthTag(tag);
        plain = decipher.update(body);
        // final() checks the tag; in GCM it returns nothing more, so usually no copy is needed.
        const rest = decipher.final();
        if (rest.length > 0) plain = Buffer.concat([plain, rest]);
      } catch {
        throw new CodecDecodeError(
          `Encrypted payload failed authentication with codec key "${keyId}": it was altered or sealed with a different key.`,
        );
      }
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }

  [inspect.custom](): string {
    return `AesGcmPayloadCodec { activeKeyId: '${this.activeKeyId}', keyIds: [${this.keyIds.map((id) => `'${id}'`).join(', ')}] }`;
  }

  toJSON(): { activeKeyId: string; keyIds: string[] } {
    return { activeKeyId: this.activeKeyId, keyIds: this.keyIds };
  }
}

/**
 * Parses `keyId:base64Key[,keyId:base64Key…]`. Errors name the offending key id or position,
 * never the key itself.
 */
export function parseCodecKeys(value: string, variable = ENV_CODEC_KEYS): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  if (items.length === 0) throw new CodecConfigError(`${variable} is empty. ${usage(variable)}`);
  items.forEach((item, index) => {
    const colon = item.indexOf(':');
    if (colon <= 0) {
      throw new CodecConfigError(
        `${variable}: entry ${index + 1} is not of the form keyId:base64Key. ${usage(variable)}`,
      );
    }
    const id = item.slice(0, colon).trim();
    const encoded = item.slice(colon + 1).trim();
    if (!KEY_ID_PATTERN.test(id)) {
      throw new CodecConfigError(
        `${variable}: key id at entry ${index + 1} must be 1-64 characters of A-Z a-z 0-9 . _ -`,
      );
    }
    if (keys.has(id)) throw new CodecConfigError(`${variable}: key id "${id}" appears more than once.`);
    if (!BASE64_PATTERN.test(encoded)) {
      throw new CodecConfigError(`${variable}: key "${id}" is not valid base64. ${KEY_HINT}.`);
    }
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== KEY_BYTES) {
      throw new CodecConfigError(
        `${variable}: key "${id}" decodes to ${key.length} bytes; AES-256 needs ${KEY_BYTES}. ${KEY_HINT}.`,
      );
    }
    keys.set(id, key);
  });
  return keys;
}

/**
 * The codec configured by the environment: `BOBSYNC_CODEC_KEYS` (required) and
 * `BOBSYNC_CODEC_ACTIVE_KEY` (optional, defaults to the first key listed).
 */
export function codecFromEnv(env: NodeJS.ProcessEnv = process.env): AesGcmPayloadCodec {
  const raw = env[ENV_CODEC_KEYS];
  if (raw === undefined || raw.trim() === '') {
    throw new CodecConfigError(
      `${ENV_CODEC_KEYS} is not set: payloads sent to Temporal are encrypted and need a key. ${usage(ENV_CODEC_KEYS)}`,
    );
  }
  const keys = parseCodecKeys(raw);
  const requested = env[ENV_CODEC_ACTIVE_KEY]?.trim();
  const activeKeyId = requested || keys.keys().next().value!;
  if (!keys.has(activeKeyId)) {
    throw new CodecConfigError(
      `${ENV_CODEC_ACTIVE_KEY}="${activeKeyId}" names no key in ${ENV_CODEC_KEYS} (known: ${[...keys.keys()].join(', ')}).`,
    );
  }
  return new AesGcmPayloadCodec({ keys, activeKeyId });
}

/**
 * The module whose failure converter keeps failure messages and stack traces in an encrypted
 * attribute. A prebuilt workflow bundle must be made with it too (`bundleWorkflowCode`).
 */
export const failureConverterPath = require.resolve('./failure-converter');

/**
 * Data converter for Clients and Workers: default payload conversion, then encryption; failure
 * messages are encrypted as well.
 */
export function codecDataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath };
}

/** `codecDataConverter(codecFromEnv(env))`. */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter {
  return codecDataConverter(codecFromEnv(env));
}

/** A fresh random key, base64, for tooling (`bobsync codec keygen`, tests). */
export function generateCodecKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

function assertKeyId(id: string): void {
  if (!KEY_ID_PATTERN.test(id))
    throw new CodecConfigError(`Codec key id "${id}" must be 1-64 characters of A-Z a-z 0-9 . _ -`);
}

// Binding the key id into the tag makes a relabelled payload fail instead of decrypting oddly.
function additionalData(keyId: string): Buffer {
  return Buffer.from(`bobsync/${CIPHER_NAME}/${keyId}`, 'utf8');
}

function sameBytes(a: Uint8Array | null | undefined, b: Uint8Array): boolean {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function metadataText(payload: Payload, name: string): string | undefined {
  const value = payload.metadata?.[name];
  return value ? textDecoder.decode(value) : undefined;
}

function usage(variable: string): string {
  return `Set ${variable}=keyId:base64Key (comma-separated for rotation, e.g. "k2026:…,k2025:…"). ${KEY_HINT}.`;
}
