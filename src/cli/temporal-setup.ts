/**
 * `bobsync temporal setup`: registers the custom search attributes bobsync's workflows set
 * (src/workflows/search-attributes) on the namespace the worker uses. A deployment step, run
 * before the first run on a cluster: a workflow that sets an attribute its namespace does not
 * know fails its workflow task until someone registers it. Running it again is harmless.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { isGrpcServiceError, type ConnectionLike } from '@temporalio/client';
import { TypedSearchAttributes, type SearchAttributeType } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { temporal } from '@temporalio/proto';
import { loadContext, temporalSettings } from '../config/context';
import { runtimeSettings } from '../config/runtime';
import { connectClient } from '../temporal/client';
import { resolveConnectionSettings, type TemporalConnectionSettings } from '../temporal/connection-settings';
import { BOBSYNC_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { println, type Output } from './io';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
type IndexedValueType = temporal.api.enums.v1.IndexedValueType;

/** gRPC status codes Temporal answers with. */
const GRPC = {
  INVALID_ARGUMENT: 3,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  UNAUTHENTICATED: 16,
} as const;

/** The gRPC status of a Temporal error (a plain number: the SDK does not export grpc-js's enum), or undefined. */
function grpcCode(err: unknown): number | undefined {
  return isGrpcServiceError(err) ? Number(err.code) : undefined;
}

/** Registration refused; the message says why and what to do. */
export class SearchAttributeSetupError extends Error {
  override name = 'SearchAttributeSetupError';
}

export interface SearchAttributeRegistration {
  namespace: string;
  /** Registered by this call. */
  added: string[];
  /** Registered before, with the right type. */
  present: string[];
}

const indexedType = (type: SearchAttributeType): IndexedValueType => IndexedValueType[`INDEXED_VALUE_TYPE_${type}`];
/** Keyword, Datetime…: the names the Temporal CLI and UI use. */
const typeName = (type: SearchAttributeType) => TypedSearchAttributes.toMetadataType(type);
const typeNameOf = (indexed: IndexedValueType): string => {
  const sdkType = IndexedValueType[indexed]?.replace(/^INDEXED_VALUE_TYPE_/, '') as SearchAttributeType | undefined;
  try {
    return sdkType ? typeName(sdkType) : String(indexed);
  } catch {
    return String(indexed);
  }
};

/**
 * Registers `keys` (default: bobsync's) on `namespace`. Attributes already registered with the
 * same type are left as they are; one registered with another type is an error, as is a refusal
 * for want of permission or room, each with a message that says what to do.
 */
export async function registerSearchAttributes(
  connection: Pick<ConnectionLike, 'operatorService'>,
  namespace: string,
  keys: readonly SearchAttributeKey<SearchAttributeType>[] = BOBSYNC_SEARCH_ATTRIBUTES,
): Promise<SearchAttributeRegistration> {
  const existing = await listCustom(connection, namespace);
  const present: string[] = [];
  const missing: SearchAttributeKey<SearchAttributeType>[] = [];
  for (const key of keys) {
    const registered = existing?.[key.name];
    if (registered === undefined) missing.push(key);
    else if (registered === indexedType(key.type)) present.push(key.name);
    else throw conflict(namespace, key, registered);
  }
  if (missing.length === 0) return { namespace, added: [], present };
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((k) => [k.name, indexedType(k.type)])),
    });
  } catch (err) {
    if (grpcCode(err) !== GRPC.ALREADY_EXISTS) throw refusal(err, namespace, missing);
    // Registered meanwhile (another setup, a second worker host): fine if the types agree.
    const now = await listCustom(connection, namespace);
    for (const key of missing) {
      const registered = now?.[key.name];
      if (registered !== undefined && registered !== indexedType(key.type)) throw conflict(namespace, key, registered);
    }
  }
  return { namespace, added: missing.map((k) => k.name), present };
}

/** The namespace's custom attributes, or undefined where the server cannot list them (the time-skipping test server). */
async function listCustom(
  connection: Pick<ConnectionLike, 'operatorService'>,
  namespace: string,
): Promise<Record<string, IndexedValueType> | undefined> {
  try {
    const listed = await connection.operatorService.listSearchAttributes({ namespace });
    return listed.customAttributes ?? {};
  } catch (err) {
    if (grpcCode(err) === GRPC.UNIMPLEMENTED) return undefined;
    throw refusal(err, namespace, []);
  }
}

function conflict(
  namespace: string,
  key: SearchAttributeKey<SearchAttributeType>,
  registered: IndexedValueType,
): SearchAttributeSetupError {
  return new SearchAttributeSetupError(
    `${key.name} is registered on namespace "${namespace}" as ${typeNameOf(registered)}, but bobsync sets it as ` +
      `${typeName(key.type)}. Remove it (temporal operator search-attribute remove --namespace ${namespace} ` +
      `--name ${key.name}) if nothing else uses it, then run \`bobsync temporal setup\` again.`,
  );
}

/** Why Temporal refused, in words an operator can act on. */
function refusal(err: unknown, namespace: string, wanted: readonly SearchAttributeKey<SearchAttributeType>[]): Error {
  if (!isGrpcServiceError(err)) return err instanceof Error ? err : new Error(String(err));
  const answer = err.details || err.message;
  const list = wanted.map((k) => `${k.name} (${typeName(k.type)})`).join(', ');
  const byHand = list ? ` Or have someone who may do so create them: ${list}.` : '';
  switch (grpcCode(err)) {
    case GRPC.PERMISSION_DENIED:
    case GRPC.UNAUTHENTICATED:
      return new SearchAttributeSetupError(
        `Temporal refused to register search attributes on namespace "${namespace}": these credentials may not ` +
          `(${answer}). Run it with an identity allowed to administer the namespace (on Temporal Cloud, a ` +
          `namespace admin's API key).${byHand}`,
      );
    case GRPC.UNIMPLEMENTED:
      return new SearchAttributeSetupError(
        `This Temporal does not let clients register search attributes (${answer}).` +
          (list ? ` Create them with the cluster's own tools: ${list}.` : ''),
      );
    case GRPC.INVALID_ARGUMENT:
    case GRPC.FAILED_PRECONDITION:
    case GRPC.RESOURCE_EXHAUSTED:
      if (/limit|more than|exceed|maximum|too many|no (more )?room|cannot have/i.test(answer))
        return new SearchAttributeSetupError(
          `Namespace "${namespace}" has no room for more custom search attributes (${answer}). Remove ones ` +
            `no longer used (temporal operator search-attribute list / remove --namespace ${namespace}) or ask ` +
            `the cluster's operator to raise the limit, then run \`bobsync temporal setup\` again.${byHand}`,
        );
      break;
  }
  return new SearchAttributeSetupError(
    `Temporal refused to register search attributes on namespace "${namespace}": ${answer}`,
  );
}

export interface TemporalSetupOptions {
  config?: string;
}

/**
 * The connection settings: bobsync.yaml's and the TEMPORAL_* variables, as every command reads
 * them; without a bobsync.yaml (a one-shot container, a CI job) the variables alone.
 */
function setupSettings(opts: TemporalSetupOptions, env: NodeJS.ProcessEnv): TemporalConnectionSettings {
  const configPath = resolve(opts.config ?? runtimeSettings(env).BOBSYNC_CONFIG);
  if (opts.config || existsSync(configPath)) return temporalSettings(loadContext(opts, env, false));
  return resolveConnectionSettings({
    env,
    defaults: { address: '127.0.0.1:7233', namespace: 'default' },
    defaultsFrom: 'the default (no bobsync.yaml)',
  });
}

/** `bobsync temporal setup`: registers the search attributes, and says what it did. */
export async function setupTemporal(
  opts: TemporalSetupOptions,
  out: Output,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SearchAttributeRegistration> {
  const settings = setupSettings(opts, env);
  const client = await connectClient({ settings });
  try {
    const result = await registerSearchAttributes(client.connection, settings.namespace);
    println(out, `Search attributes on namespace "${settings.namespace}" at ${settings.address}:`);
    for (const key of BOBSYNC_SEARCH_ATTRIBUTES) {
      const state = result.added.includes(key.name) ? 'added' : 'already registered';
      println(out, `  ${key.name.padEnd(22)} ${typeName(key.type).padEnd(9)} ${state}`);
    }
    return result;
  } finally {
    await client.connection.close();
  }
}
