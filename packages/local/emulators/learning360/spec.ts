/**
 * Loads 360Learning's published Core and Bulk API specs (OpenAPI 3.1) and prepares one in-memory
 * document the validator can use. The files on disk are vendor data and are never edited; the few
 * places where the published documents cannot be used as-is are corrected here, each with the reason.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const SPEC_RELATIVE = join('360learning', 'core-api.json');
const BULK_RELATIVE = join('360learning', 'bulk-api.json');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface OperationInfo {
  operationId: string;
  method: string;
  /** OpenAPI path, e.g. /api/v2/users/{userId}. */
  path: string;
  /** Required OAuth scope as written in the operation's description, when any. */
  scope?: string;
  /** Page size stated in the operation's description, when the list is paginated. */
  pageSize?: number;
}

export interface PreparedSpec {
  /** Where the Core API document was read from. */
  file: string;
  /** Every document merged in (Core, then Bulk). */
  files: string[];
  /** A fresh, corrected copy of the document (the validator may mutate what it is given). */
  document(): JsonObject;
  operations: Map<string, OperationInfo>;
  /** What was corrected in memory, for the docs and the admin API. */
  errata: string[];
}

/**
 * Finds `vendor-specs/` next to the repository: BOBSYNC_VENDOR_SPECS wins, else walk up from this
 * file looking for `shared/vendor-specs` (the repository sits beside `shared/` on every machine).
 */
export function findVendorSpecsDir(start = __dirname): string {
  const fromEnv = process.env.BOBSYNC_VENDOR_SPECS;
  if (fromEnv) {
    const dir = resolve(fromEnv);
    if (existsSync(join(dir, SPEC_RELATIVE))) return dir;
    throw new Error(`BOBSYNC_VENDOR_SPECS=${fromEnv} has no ${SPEC_RELATIVE}`);
  }
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, 'shared', 'vendor-specs');
    if (existsSync(join(candidate, SPEC_RELATIVE))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`cannot find shared/vendor-specs/${SPEC_RELATIVE} above ${start}; set BOBSYNC_VENDOR_SPECS`);
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The document mixes OpenAPI 3.0 `nullable: true` into a 3.1 document. JSON Schema 2020-12 does
 * not know `nullable`, and express-openapi-validator refuses to load a `nullable` without `type`.
 * Rewrite each one the 3.1 way: `type: [T, "null"]`, or `anyOf: [schema, {type: "null"}]`.
 */
function rewriteNullable(node: Json, counter: { n: number }): Json {
  if (Array.isArray(node)) return node.map((item) => rewriteNullable(item, counter));
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) out[key] = rewriteNullable(value, counter);
  if (!('nullable' in out)) return out;
  const nullable = out.nullable === true;
  delete out.nullable;
  if (!nullable) return out;
  counter.n += 1;
  if (typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    return out;
  }
  const { description, ...rest } = out;
  const wrapped: JsonObject = { anyOf: [rest, { type: 'null' }] };
  if (description !== undefined) wrapped.description = description;
  return wrapped;
}

/**
 * `oneOf` means "exactly one". Where every branch is an inline string (or array of strings)
 * schema, the branches overlap: "2024-06-30" is both a "date type" and a "string type" value, and
 * an empty list matches both list branches, so valid data would be rejected. The vendor means
 * "either", which is `anyOf`.
 */
function relaxOverlappingOneOf(node: Json, counter: { n: number }): Json {
  if (Array.isArray(node)) return node.map((item) => relaxOverlappingOneOf(item, counter));
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) out[key] = relaxOverlappingOneOf(value, counter);
  const branches = out.oneOf;
  if (Array.isArray(branches) && branches.length > 1) {
    const types = branches.map((b) => (isObject(b) && !('$ref' in b) ? b.type : undefined));
    const first = types[0];
    if ((first === 'string' || first === 'array') && types.every((t) => t === first)) {
      out.anyOf = branches;
      delete out.oneOf;
      counter.n += 1;
    }
  }
  return out;
}

/**
 * Paginated lists answer with `Link: <…?next=TOKEN>; rel="next"` (pagination guide), but the
 * `next` query parameter itself is not declared on the operations. Declare it on every GET whose
 * 200 response documents a `Link` header, so following the link is valid and unknown query
 * parameters can still be rejected everywhere else.
 */
function declareNextParameter(doc: JsonObject): number {
  let count = 0;
  const paths = doc.paths;
  if (!isObject(paths)) return 0;
  for (const item of Object.values(paths)) {
    if (!isObject(item)) continue;
    const op = item.get;
    if (!isObject(op) || !isObject(op.responses)) continue;
    const ok = op.responses['200'];
    if (!isObject(ok) || !isObject(ok.headers) || !('Link' in ok.headers)) continue;
    const params = Array.isArray(op.parameters) ? op.parameters : [];
    if (params.some((p) => isObject(p) && p.name === 'next' && p.in === 'query')) continue;
    op.parameters = [
      ...params,
      {
        name: 'next',
        in: 'query',
        required: false,
        description: 'Opaque cursor from the previous page Link header.',
        schema: { type: 'string', minLength: 1 },
      },
    ];
    count += 1;
  }
  return count;
}

function describeOperations(doc: JsonObject): Map<string, OperationInfo> {
  const operations = new Map<string, OperationInfo>();
  const paths = isObject(doc.paths) ? doc.paths : {};
  for (const [path, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    for (const [method, op] of Object.entries(item)) {
      if (!HTTP_METHODS.has(method) || !isObject(op) || typeof op.operationId !== 'string') continue;
      const description = typeof op.description === 'string' ? op.description : '';
      const scope = /Required OAuth scope:\s*`([^`]+)`/.exec(description)?.[1];
      const page = /page size of ([\d,]+)/.exec(description)?.[1];
      operations.set(op.operationId, {
        operationId: op.operationId,
        method: method.toUpperCase(),
        path,
        scope,
        pageSize: page ? Number(page.replace(/,/g, '')) : undefined,
      });
    }
  }
  return operations;
}

/**
 * The Bulk API lives in its own document with the same servers and security. Its paths are added
 * to the Core document; a component whose name the Core document already uses for a different
 * schema is renamed (`Bulk…`) together with the references to it.
 */
function mergeBulk(core: JsonObject, bulk: JsonObject): string[] {
  const coreComponents = (core.components ??= {}) as JsonObject;
  const coreSchemas = (coreComponents.schemas ??= {}) as JsonObject;
  const bulkSchemas = isObject(bulk.components) && isObject(bulk.components.schemas) ? bulk.components.schemas : {};
  const renames = new Map<string, string>();
  for (const [name, schema] of Object.entries(bulkSchemas)) {
    if (name in coreSchemas && JSON.stringify(coreSchemas[name]) !== JSON.stringify(schema))
      renames.set(name, `Bulk${name}`);
  }
  const prefix = '#/components/schemas/';
  const rewrite = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!isObject(node)) return node;
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(node)) {
      if (
        key === '$ref' &&
        typeof value === 'string' &&
        value.startsWith(prefix) &&
        renames.has(value.slice(prefix.length))
      ) {
        out[key] = prefix + renames.get(value.slice(prefix.length))!;
      } else out[key] = rewrite(value);
    }
    return out;
  };
  for (const [name, schema] of Object.entries(bulkSchemas)) {
    const target = renames.get(name) ?? name;
    if (!(target in coreSchemas)) coreSchemas[target] = rewrite(schema);
  }
  const corePaths = (core.paths ??= {}) as JsonObject;
  for (const [path, item] of Object.entries(isObject(bulk.paths) ? bulk.paths : {})) {
    if (path in corePaths) throw new Error(`bulk-api.json path ${path} is also in core-api.json`);
    corePaths[path] = rewrite(item);
  }
  return [...renames.keys()];
}

const cache = new Map<string, { prepared: JsonObject; operations: Map<string, OperationInfo>; errata: string[] }>();

/** Reads, merges and corrects the Core and Bulk API specs once per process; each caller gets its own copy. */
export function loadLearning360Spec(dir = findVendorSpecsDir()): PreparedSpec {
  const file = join(dir, SPEC_RELATIVE);
  const bulkFile = join(dir, BULK_RELATIVE);
  let entry = cache.get(file);
  if (!entry) {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as JsonObject;
    const renamed = mergeBulk(raw, JSON.parse(readFileSync(bulkFile, 'utf8')) as JsonObject);
    const nullable = { n: 0 };
    const oneOf = { n: 0 };
    let prepared = rewriteNullable(raw, nullable) as JsonObject;
    prepared = relaxOverlappingOneOf(prepared, oneOf) as JsonObject;
    const next = declareNextParameter(prepared);
    const errata = [
      `${nullable.n} OpenAPI 3.0 "nullable" keywords rewritten as 3.1 null types`,
      `${oneOf.n} overlapping string/array "oneOf" unions read as "anyOf"`,
      `${next} paginated GET operations given the "next" cursor query parameter`,
      `${renamed.length} bulk-api.json schemas renamed Bulk… where core-api.json has a different schema of the same name (${renamed.join(', ')})`,
    ];
    entry = { prepared, operations: describeOperations(prepared), errata };
    cache.set(file, entry);
  }
  const { prepared, operations, errata } = entry;
  return {
    file,
    files: [file, bulkFile],
    document: () => structuredClone(prepared),
    operations,
    errata,
  };
}
