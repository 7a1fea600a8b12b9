import { ScimError, badRequest } from './errors';
import {
  CORE_USER_ATTRIBUTES,
  CORE_USER_URN,
  ENTERPRISE_USER_ATTRIBUTES,
  ENTERPRISE_USER_URN,
  EXTERNAL_ID_ATTRIBUTE,
  PATCH_OP_URN,
  findAttribute,
  type AttributeDefinition,
} from './schemas';
import { isPlainObject, type SchemaContext, type ScimObject } from './user-model';

export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path?: string;
  value?: unknown;
}

type Container = 'core' | 'enterprise' | 'extension';

/** Where an operation points, with attribute names resolved to their canonical spelling. */
export interface PatchTarget {
  container: Container;
  /** Undefined: the whole container (a path that is just an extension URN). */
  attribute?: string;
  def?: AttributeDefinition;
  filter?: { attribute: string; value: unknown };
  sub?: string;
}

const READ_ONLY = new Set(['id', 'meta', 'groups', 'schemas']);

const keyOf = (obj: ScimObject, name: string) => Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());

/** Validates a PatchOp message (RFC 7644 §3.5.2); `op` is case-insensitive since IdPs send "Replace". */
export function parsePatchRequest(body: unknown): PatchOperation[] {
  if (!isPlainObject(body)) throw badRequest('invalidSyntax', 'The request body must be a PatchOp JSON object');
  const schemas = body[keyOf(body, 'schemas') ?? 'schemas'];
  if (
    !Array.isArray(schemas) ||
    !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === PATCH_OP_URN.toLowerCase())
  ) {
    throw badRequest('invalidSyntax', `schemas must contain "${PATCH_OP_URN}"`);
  }
  const operations = body[keyOf(body, 'Operations') ?? 'Operations'];
  if (!Array.isArray(operations) || operations.length === 0)
    throw badRequest('invalidSyntax', 'Operations must be a non-empty array');
  return operations.map((raw, i) => {
    if (!isPlainObject(raw)) throw badRequest('invalidSyntax', `Operations[${i}] must be an object`);
    const op = raw[keyOf(raw, 'op') ?? 'op'];
    const path = raw[keyOf(raw, 'path') ?? 'path'];
    const valueKey = keyOf(raw, 'value');
    const lower = typeof op === 'string' ? op.toLowerCase() : '';
    if (lower !== 'add' && lower !== 'replace' && lower !== 'remove') {
      throw badRequest('invalidSyntax', `Operations[${i}].op must be add, replace or remove`);
    }
    if (path !== undefined && path !== null && typeof path !== 'string')
      throw badRequest('invalidPath', `Operations[${i}].path must be a string`);
    const operation: PatchOperation = { op: lower };
    if (typeof path === 'string' && path.trim() !== '') operation.path = path.trim();
    if (valueKey !== undefined) operation.value = raw[valueKey];
    if (operation.op !== 'remove' && !operation.path && !isPlainObject(operation.value)) {
      throw badRequest('invalidValue', `Operations[${i}] without a path needs an object value`);
    }
    if (operation.op === 'remove' && !operation.path)
      throw badRequest('noTarget', `Operations[${i}]: remove needs a path`);
    return operation;
  });
}

function parseFilterValue(literal: string, path: string): unknown {
  try {
    const value: unknown = JSON.parse(literal);
    if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return value;
  } catch {
    // fall through to the error below
  }
  throw badRequest('invalidFilter', `Unsupported value filter in path "${path}"`);
}

/** Resolves a PATCH path: `attr`, `attr.sub`, `attr[sub eq value]`, `attr[sub eq value].sub`, optionally URN-qualified. */
export function parsePath(path: string, ctx: SchemaContext): PatchTarget {
  const lower = path.toLowerCase();
  const prefixes: [string, Container][] = [
    [ctx.extensionUrn, 'extension'],
    [ENTERPRISE_USER_URN, 'enterprise'],
    [CORE_USER_URN, 'core'],
  ];
  let container: Container = 'core';
  let rest = path;
  for (const [urn, kind] of prefixes) {
    const urnLower = urn.toLowerCase();
    if (lower === urnLower) {
      if (kind === 'core') throw badRequest('invalidPath', `Path "${path}" names no attribute`);
      return { container: kind };
    }
    if (lower.startsWith(`${urnLower}:`)) {
      container = kind;
      rest = path.slice(urn.length + 1);
      break;
    }
  }
  if (container === 'extension') {
    // Portal attribute names may hold spaces and dots: the remainder is the name, exactly.
    if (!ctx.attributes.includes(rest)) {
      throw badRequest(
        'invalidValue',
        `Unknown attribute "${rest}" in ${ctx.extensionUrn} (names must match the portal exactly)`,
      );
    }
    return { container, attribute: rest };
  }
  const match = /^([A-Za-z$][\w$-]*)(?:\[\s*(.+?)\s*\])?(?:\.([A-Za-z$][\w$-]*))?$/u.exec(rest);
  if (!match) throw badRequest('invalidPath', `Malformed path "${path}"`);
  const [, name = '', filterText, subName] = match;
  if (container === 'core' && READ_ONLY.has(name.toLowerCase())) {
    throw badRequest('mutability', `"${name}" is read-only`);
  }
  const defs = container === 'core' ? [...CORE_USER_ATTRIBUTES, EXTERNAL_ID_ATTRIBUTE] : ENTERPRISE_USER_ATTRIBUTES;
  const def = findAttribute(defs, name);
  if (!def) throw badRequest('invalidPath', `Unknown attribute "${name}" in path "${path}"`);
  const target: PatchTarget = { container, attribute: def.name, def };
  if (filterText !== undefined) {
    if (!def.multiValued)
      throw badRequest('invalidPath', `"${def.name}" is not multi-valued; a value filter does not apply`);
    const f = /^([A-Za-z$][\w$]*)\s+eq\s+(.+)$/iu.exec(filterText);
    if (!f) throw badRequest('invalidFilter', `Unsupported value filter in path "${path}": only eq`);
    const filterDef = findAttribute(def.subAttributes ?? [], f[1] ?? '');
    if (!filterDef) throw badRequest('invalidPath', `Unknown sub-attribute "${f[1]}" in path "${path}"`);
    target.filter = { attribute: filterDef.name, value: parseFilterValue(f[2] ?? '', path) };
  }
  if (subName !== undefined) {
    const subDef = findAttribute(def.subAttributes ?? [], subName);
    if (!subDef) throw badRequest('invalidPath', `Unknown sub-attribute "${subName}" in path "${path}"`);
    target.sub = subDef.name;
  }
  return target;
}

const truthy = (v: unknown) => v === true || (typeof v === 'string' && v.trim().toLowerCase() === 'true');

function filterEquals(actual: unknown, wanted: unknown): boolean {
  if (typeof wanted === 'boolean') return truthy(actual) === wanted;
  if (typeof wanted === 'string') return typeof actual === 'string' && actual.toLowerCase() === wanted.toLowerCase();
  return actual === wanted;
}

/** Renames an element's keys to canonical sub-attribute names; unknown ones are left for the parser to refuse. */
function canonicalElement(def: AttributeDefinition, value: unknown): ScimObject {
  if (!isPlainObject(value)) throw badRequest('invalidValue', `Values of "${def.name}" must be objects`);
  const out: ScimObject = {};
  for (const [k, v] of Object.entries(value)) out[findAttribute(def.subAttributes ?? [], k)?.name ?? k] = v;
  return out;
}

function containerOf(doc: ScimObject, container: Container, ctx: SchemaContext): ScimObject {
  if (container === 'core') return doc;
  const urn = container === 'enterprise' ? ENTERPRISE_USER_URN : ctx.extensionUrn;
  const existing = doc[urn];
  if (isPlainObject(existing)) return existing;
  const created: ScimObject = {};
  doc[urn] = created;
  return created;
}

function setOrDelete(obj: ScimObject, key: string, value: unknown) {
  if (value === null || value === undefined) delete obj[key];
  else obj[key] = value;
}

function applyMultiValued(
  holder: ScimObject,
  op: PatchOperation['op'],
  target: PatchTarget & { def: AttributeDefinition; attribute: string },
  value: unknown,
) {
  const { def, attribute, filter, sub } = target;
  let items = Array.isArray(holder[attribute])
    ? (holder[attribute] as unknown[]).map((v) => canonicalElement(def, v))
    : [];
  const touched: ScimObject[] = [];
  const asArray = (v: unknown) =>
    (Array.isArray(v) ? v : v === null || v === undefined ? [] : [v]).map((el) => canonicalElement(def, el));

  if (filter) {
    const matches = items.filter((el) => filterEquals(el[filter.attribute], filter.value));
    if (op === 'remove') {
      if (sub) matches.forEach((el) => delete el[sub]);
      else items = items.filter((el) => !matches.includes(el));
    } else if (matches.length === 0) {
      // `emails[type eq "work"].value` on a user without a work email creates it, as IdPs expect.
      if (filter.attribute !== 'type')
        throw new ScimError(400, 'noTarget', `No value of "${attribute}" matches the filter`);
      const created: ScimObject = sub
        ? { type: filter.value, [sub]: value }
        : { ...canonicalElement(def, value), type: filter.value };
      items.push(created);
      touched.push(created);
    } else {
      for (const el of matches) {
        if (sub) setOrDelete(el, sub, value);
        else if (op === 'replace') {
          for (const key of Object.keys(el)) delete el[key];
          Object.assign(el, canonicalElement(def, value));
        } else Object.assign(el, canonicalElement(def, value));
        touched.push(el);
      }
    }
  } else if (sub) {
    if (op === 'remove') items.forEach((el) => delete el[sub]);
    else if (items.length === 0) {
      const created: ScimObject = { [sub]: value };
      items.push(created);
      touched.push(created);
    } else {
      items.forEach((el) => setOrDelete(el, sub, value));
      touched.push(...items);
    }
  } else if (op === 'remove') {
    // A remove may name the values to drop; otherwise the whole attribute goes.
    const drop = asArray(value)
      .map((el) => el.value)
      .filter((v): v is string => typeof v === 'string');
    items = drop.length ? items.filter((el) => !drop.some((d) => filterEquals(el.value, d))) : [];
  } else if (op === 'replace') {
    items = asArray(value);
    touched.push(...items);
  } else {
    for (const el of asArray(value)) {
      const same = items.find((existing) => el.value !== undefined && filterEquals(existing.value, el.value));
      if (same) Object.assign(same, el);
      else items.push(el);
      touched.push(same ?? el);
    }
  }
  // Only one value may be primary: the one just written wins (RFC 7643 §2.4).
  const newPrimary = touched.find((el) => truthy(el.primary));
  if (newPrimary) {
    for (const el of items) if (el !== newPrimary && el.primary !== undefined) el.primary = false;
  }
  if (items.length) holder[attribute] = items;
  else delete holder[attribute];
}

function applyToTarget(
  doc: ScimObject,
  op: PatchOperation['op'],
  target: PatchTarget,
  value: unknown,
  ctx: SchemaContext,
) {
  const holder = containerOf(doc, target.container, ctx);
  if (target.attribute === undefined) {
    // The whole extension object: merge (add/replace) or clear (remove).
    if (op === 'remove') {
      for (const key of Object.keys(holder)) delete holder[key];
      return;
    }
    if (!isPlainObject(value)) throw badRequest('invalidValue', 'An extension value must be an object');
    const urn = target.container === 'enterprise' ? ENTERPRISE_USER_URN : ctx.extensionUrn;
    for (const [k, v] of Object.entries(value)) applyToTarget(doc, op, parsePath(`${urn}:${k}`, ctx), v, ctx);
    return;
  }
  const { def, attribute, sub } = target;
  if (!def) {
    // A portal attribute: a plain string slot.
    if (op === 'remove') delete holder[attribute];
    else setOrDelete(holder, attribute, value);
    return;
  }
  if (def.multiValued) {
    applyMultiValued(holder, op, { ...target, def, attribute }, value);
    return;
  }
  if (def.type !== 'complex') {
    if (op === 'remove') delete holder[attribute];
    else setOrDelete(holder, attribute, value);
    return;
  }
  const existing = holder[attribute];
  const current: ScimObject = isPlainObject(existing) ? existing : {};
  if (sub) {
    if (op === 'remove') delete current[sub];
    else setOrDelete(current, sub, value);
  } else if (op === 'remove') {
    delete holder[attribute];
    return;
  } else {
    // Complex values merge sub-attribute by sub-attribute (RFC 7644 §3.5.2.1 and .3).
    const incoming = attribute === 'manager' && typeof value === 'string' ? { value } : value;
    if (incoming === null) {
      delete holder[attribute];
      return;
    }
    for (const [k, v] of Object.entries(canonicalElement(def, incoming))) setOrDelete(current, k, v);
  }
  if (Object.keys(current).length) holder[attribute] = current;
  else delete holder[attribute];
}

/** Applies operations in order to a user document (see toDocument); the caller re-parses the result. */
export function applyPatch(doc: ScimObject, operations: PatchOperation[], ctx: SchemaContext): ScimObject {
  for (const operation of operations) {
    if (operation.path) {
      applyToTarget(doc, operation.op, parsePath(operation.path, ctx), operation.value, ctx);
      continue;
    }
    // Path-less add/replace: each key of the value is itself a path (RFC 7644 §3.5.2.1).
    const values = isPlainObject(operation.value) ? operation.value : {};
    for (const [key, value] of Object.entries(values)) {
      if (key.toLowerCase() === 'schemas') continue;
      applyToTarget(doc, operation.op, parsePath(key, ctx), value, ctx);
    }
  }
  return doc;
}
