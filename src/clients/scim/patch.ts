/**
 * Turning what a caller wants into SCIM bodies: a full User document for POST and PUT, PATCH
 * operations attribute by attribute, and the merged resource sent as a PUT where a server has
 * no PATCH. Custom attributes live under one extension URN, keyed by exact name.
 */
import { isAttributeName } from './filter';
import {
  CORE_USER_URN,
  ENTERPRISE_USER_URN,
  extensionOf,
  type PatchOperation,
  type ScimUser,
  type ScimUserChanges,
  type ScimUserInput,
} from './types';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => sameValue(a[k], b[k]));
  }
  return false;
}

/** The value of a case-insensitively named member (RFC 7643 §2.1: attribute names ignore case). */
function memberOf(obj: Json | undefined, name: string): unknown {
  if (!obj) return undefined;
  if (name in obj) return obj[name];
  const lower = name.toLowerCase();
  const key = Object.keys(obj).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : obj[key];
}

const isUnset = (v: unknown) => v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);

/** A User document for POST or PUT, with `schemas` naming every extension it carries. */
export function toUserDocument(input: ScimUserInput, extensionUrn?: string): Json {
  const { enterprise, custom, ...core } = input;
  const doc: Json = { schemas: [CORE_USER_URN] };
  for (const [key, value] of Object.entries(core)) if (value !== undefined) doc[key] = value;
  const schemas = doc.schemas as string[];
  if (enterprise && Object.keys(enterprise).length > 0) {
    schemas.push(ENTERPRISE_USER_URN);
    doc[ENTERPRISE_USER_URN] = enterprise;
  }
  if (custom && Object.keys(custom).length > 0) {
    if (!extensionUrn) throw new Error('Custom attributes need an extension URN');
    schemas.push(extensionUrn);
    doc[extensionUrn] = { ...custom };
  }
  return doc;
}

/**
 * PATCH operations for `changes`. With the current resource, an attribute that has no value yet
 * is added, one that has is replaced, one already equal is left alone, and clearing an absent
 * value sends nothing; without it every change is a `replace` (which adds a missing attribute,
 * RFC 7644 §3.5.2.3) or a `remove`. Multi-valued attributes are replaced whole, since `add`
 * would append. Custom attributes whose names are not valid SCIM attribute names (Skillcast's
 * "Start Date") cannot appear in a path, so they travel in the value of an operation on the
 * extension URN itself, `null` clearing one.
 */
export function buildPatchOperations(
  changes: ScimUserChanges,
  options: { extensionUrn?: string; current?: ScimUser } = {},
): PatchOperation[] {
  const { extensionUrn, current } = options;
  const ops: PatchOperation[] = [];
  const known = current !== undefined;

  const write = (path: string, wanted: unknown, existing: unknown, multiValued = false) => {
    if (wanted === undefined) return;
    if (wanted === null) {
      if (!known || !isUnset(existing)) ops.push({ op: 'remove', path });
      return;
    }
    if (known && sameValue(existing, wanted)) return;
    ops.push({ op: known && isUnset(existing) && !multiValued ? 'add' : 'replace', path, value: wanted });
  };

  const { name, enterprise, custom, emails, phoneNumbers, ...simple } = changes;
  for (const [key, value] of Object.entries(simple)) write(key, value, memberOf(current, key));
  write('emails', emails, memberOf(current, 'emails'), true);
  write('phoneNumbers', phoneNumbers, memberOf(current, 'phoneNumbers'), true);

  if (name === null) write('name', null, memberOf(current, 'name'));
  else if (name) {
    const existing = memberOf(current, 'name');
    for (const [key, value] of Object.entries(name))
      write(`name.${key}`, value, memberOf(isObject(existing) ? existing : undefined, key));
  }

  const currentEnterprise = current ? extensionOf(current, ENTERPRISE_USER_URN) : undefined;
  if (enterprise === null) {
    if (!known || currentEnterprise) ops.push({ op: 'remove', path: ENTERPRISE_USER_URN });
  } else if (enterprise) {
    for (const [key, value] of Object.entries(enterprise))
      write(`${ENTERPRISE_USER_URN}:${key}`, value, memberOf(currentEnterprise, key));
  }

  if (custom && Object.keys(custom).length > 0) {
    if (!extensionUrn) throw new Error('Custom attributes need an extension URN');
    const currentCustom = current ? extensionOf(current, extensionUrn) : undefined;
    const grouped: Json = {};
    for (const [key, value] of Object.entries(custom)) {
      if (isAttributeName(key)) {
        write(`${extensionUrn}:${key}`, value, memberOf(currentCustom, key));
        continue;
      }
      const existing = memberOf(currentCustom, key);
      if (value === undefined || (known && (value === null ? isUnset(existing) : sameValue(existing, value)))) continue;
      grouped[key] = value;
    }
    if (Object.keys(grouped).length > 0)
      ops.push({ op: known && !currentCustom ? 'add' : 'replace', path: extensionUrn, value: grouped });
  }
  return ops;
}

/** Members a server owns; left out of a PUT body (RFC 7643 §3.1: readOnly). */
const SERVER_OWNED = ['meta', 'groups'];

function setMember(obj: Json, name: string, value: unknown) {
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key !== name && key.toLowerCase() === lower) delete obj[key];
  if (value === null || value === undefined) delete obj[name];
  else obj[name] = value;
}

function mergeInto(holder: Json, key: string, changes: Json | null) {
  if (changes === null) {
    setMember(holder, key, undefined);
    return;
  }
  const existing = memberOf(holder, key);
  const merged: Json = isObject(existing) ? structuredClone(existing) : {};
  for (const [k, v] of Object.entries(changes)) if (v !== undefined) setMember(merged, k, v);
  setMember(holder, key, Object.keys(merged).length > 0 ? merged : undefined);
}

/**
 * The full resource to PUT: the current one with `changes` applied and server-owned members
 * dropped. Every attribute the user already has is sent back, so a PUT never clears what the
 * caller did not mean to touch.
 */
export function applyChanges(current: ScimUser, changes: ScimUserChanges, extensionUrn?: string): Json {
  const doc: Json = structuredClone(current);
  for (const key of Object.keys(doc)) if (SERVER_OWNED.includes(key.toLowerCase())) delete doc[key];
  const { name, enterprise, custom, ...simple } = changes;
  for (const [key, value] of Object.entries(simple)) if (value !== undefined) setMember(doc, key, value);
  if (name !== undefined) mergeInto(doc, 'name', name);
  if (enterprise !== undefined) mergeInto(doc, ENTERPRISE_USER_URN, enterprise);
  if (custom !== undefined && Object.keys(custom).length > 0) {
    if (!extensionUrn) throw new Error('Custom attributes need an extension URN');
    mergeInto(doc, extensionUrn, custom);
  }
  const schemas = new Set<string>([CORE_USER_URN]);
  for (const key of Object.keys(doc)) if (/^urn:/iu.test(key) && isObject(doc[key])) schemas.add(key);
  doc.schemas = [...schemas];
  return doc;
}
