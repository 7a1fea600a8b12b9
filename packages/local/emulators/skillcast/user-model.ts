import { badRequest } from './errors';
import { emailProblem } from './email-rules';
import {
  CORE_USER_ATTRIBUTES,
  CORE_USER_URN,
  ENTERPRISE_USER_ATTRIBUTES,
  ENTERPRISE_USER_URN,
  EXTERNAL_ID_ATTRIBUTE,
  findAttribute,
  type AttributeDefinition,
} from './schemas';

export type ScimObject = Record<string, unknown>;

/** A user's writable data in canonical form: attribute names spelled as in /Schemas. */
export interface UserData {
  /** Core attributes plus `externalId`; always has `userName` (string) and `active` (boolean). */
  core: ScimObject & { userName: string; active: boolean; externalId?: string };
  enterprise: ScimObject;
  /** Portal attributes keyed by exact name. */
  attributes: Record<string, string>;
}

export interface Assignment {
  courseId: string;
  courseName: string;
  status: string;
  deadline?: string;
  completedAt?: string;
}

export interface StoredUser extends UserData {
  id: string;
  domain: string;
  created: number;
  lastModified: number;
  version: number;
  archivedAt?: number;
  /** Training history: kept across archive and reactivation. */
  assignments: Assignment[];
}

export interface SchemaContext {
  extensionUrn: string;
  attributes: readonly string[];
}

/** Attributes a client may send but that the server owns; ignored on input (RFC 7643 §2.2 readOnly). */
const IGNORED_ON_INPUT = new Set(['schemas', 'id', 'meta', 'groups', 'password']);

export const isPlainObject = (v: unknown): v is ScimObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseBoolean(value: unknown, where: string): boolean {
  if (typeof value === 'boolean') return value;
  // Identity providers send "True"/"False" strings; accept them in any case.
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  throw badRequest('invalidValue', `${where} must be a boolean`);
}

function parseValue(def: AttributeDefinition, value: unknown, where: string): unknown {
  if (value === null || value === undefined) return undefined;
  if (def.multiValued) {
    const items = Array.isArray(value) ? value : [value];
    const parsed = items
      .map((item, i) => parseComplexOrSimple(def, item, `${where}[${i}]`))
      .filter((item) => item !== undefined);
    return parsed.length ? parsed : undefined;
  }
  return parseComplexOrSimple(def, value, where);
}

function parseComplexOrSimple(def: AttributeDefinition, value: unknown, where: string): unknown {
  if (value === null || value === undefined) return undefined;
  switch (def.type) {
    case 'boolean':
      return parseBoolean(value, where);
    case 'string':
    case 'reference':
      if (typeof value !== 'string') throw badRequest('invalidValue', `${where} must be a string`);
      return value === '' ? undefined : value;
    case 'complex': {
      if (!isPlainObject(value)) throw badRequest('invalidValue', `${where} must be an object`);
      const out: ScimObject = {};
      for (const [key, sub] of Object.entries(value)) {
        const subDef = findAttribute(def.subAttributes ?? [], key);
        if (!subDef) throw badRequest('invalidSyntax', `Unknown sub-attribute "${key}" of ${where}`);
        if (subDef.mutability === 'readOnly') continue;
        const parsed = parseValue(subDef, sub, `${where}.${subDef.name}`);
        if (parsed !== undefined) out[subDef.name] = parsed;
      }
      return Object.keys(out).length ? out : undefined;
    }
  }
}

function unknownExtensionAttribute(name: string, ctx: SchemaContext) {
  const near = ctx.attributes.find(
    (a) => a.toLowerCase().replace(/\s+/g, '') === name.toLowerCase().replace(/\s+/g, ''),
  );
  const hint = near
    ? ` (did you mean "${near}"? names must match exactly)`
    : ` (portal attributes: ${ctx.attributes.map((a) => `"${a}"`).join(', ') || 'none'})`;
  return badRequest('invalidValue', `Unknown attribute "${name}" in ${ctx.extensionUrn}${hint}`);
}

function parseExtensionValue(name: string, value: unknown, ctx: SchemaContext): string | undefined {
  if (!ctx.attributes.includes(name)) throw unknownExtensionAttribute(name, ctx);
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw badRequest('invalidValue', `Attribute "${name}" must be a string`);
}

/**
 * Parses a User document (a POST or PUT body, or the result of applying a PATCH) into
 * canonical data, enforcing types, known attribute names and Skillcast's email rules.
 * `activeDefault` is used when the document does not carry `active`.
 */
export function parseUserDocument(doc: unknown, ctx: SchemaContext, activeDefault: boolean): UserData {
  if (!isPlainObject(doc)) throw badRequest('invalidSyntax', 'The request body must be a JSON object');
  const core: ScimObject = {};
  const enterprise: ScimObject = {};
  const attributes: Record<string, string> = {};
  const coreLower = CORE_USER_URN.toLowerCase();
  const entLower = ENTERPRISE_USER_URN.toLowerCase();
  const extLower = ctx.extensionUrn.toLowerCase();

  const setCore = (name: string, value: unknown) => {
    const def = name.toLowerCase() === 'externalid' ? EXTERNAL_ID_ATTRIBUTE : findAttribute(CORE_USER_ATTRIBUTES, name);
    if (!def) throw badRequest('invalidSyntax', `Unknown attribute "${name}"`);
    const parsed = parseValue(def, value, def.name);
    if (parsed === undefined) delete core[def.name];
    else core[def.name] = parsed;
  };
  const setEnterprise = (name: string, value: unknown) => {
    const def = findAttribute(ENTERPRISE_USER_ATTRIBUTES, name);
    if (!def) throw badRequest('invalidSyntax', `Unknown attribute "${name}" in ${ENTERPRISE_USER_URN}`);
    // Identity providers often send the manager as a bare id.
    const input = def.name === 'manager' && typeof value === 'string' ? { value } : value;
    const parsed = parseValue(def, input, def.name);
    if (parsed === undefined) delete enterprise[def.name];
    else enterprise[def.name] = parsed;
  };
  const setExtension = (name: string, value: unknown) => {
    const parsed = parseExtensionValue(name, value, ctx);
    if (parsed === undefined) delete attributes[name];
    else attributes[name] = parsed;
  };
  const objectOf = (value: unknown, urn: string): ScimObject => {
    if (value === null || value === undefined) return {};
    if (!isPlainObject(value)) throw badRequest('invalidValue', `${urn} must be an object`);
    return value;
  };

  for (const [key, value] of Object.entries(doc)) {
    const lower = key.toLowerCase();
    if (IGNORED_ON_INPUT.has(lower)) continue;
    if (lower === entLower) {
      for (const [k, v] of Object.entries(objectOf(value, ENTERPRISE_USER_URN))) setEnterprise(k, v);
    } else if (lower === extLower) {
      for (const [k, v] of Object.entries(objectOf(value, ctx.extensionUrn))) setExtension(k, v);
    } else if (lower === coreLower) {
      for (const [k, v] of Object.entries(objectOf(value, CORE_USER_URN))) setCore(k, v);
    } else if (lower.startsWith(`${entLower}:`)) {
      setEnterprise(key.slice(entLower.length + 1), value);
    } else if (lower.startsWith(`${extLower}:`)) {
      setExtension(key.slice(extLower.length + 1), value);
    } else if (lower.startsWith(`${coreLower}:`)) {
      setCore(key.slice(coreLower.length + 1), value);
    } else if (lower.startsWith('urn:')) {
      throw badRequest('invalidSyntax', `Unknown schema or attribute "${key}"`);
    } else {
      setCore(key, value);
    }
  }

  const userName = core.userName;
  if (typeof userName !== 'string' || userName.trim() === '') throw badRequest('invalidValue', 'userName is required');
  if (userName.includes('@')) {
    const problem = emailProblem(userName);
    if (problem) throw badRequest('invalidValue', `userName "${userName}" ${problem}`);
  }
  const emails = (core.emails as ScimObject[] | undefined) ?? [];
  let primaries = 0;
  emails.forEach((email, i) => {
    if (typeof email.value !== 'string') throw badRequest('invalidValue', `emails[${i}].value is required`);
    const problem = emailProblem(email.value);
    if (problem) throw badRequest('invalidValue', `Email "${email.value}" ${problem}`);
    if (email.primary === true) primaries += 1;
  });
  if (primaries > 1) throw badRequest('invalidValue', 'At most one email may be primary');
  const manager = enterprise.manager as ScimObject | undefined;
  if (manager && typeof manager.value !== 'string') throw badRequest('invalidValue', 'manager.value is required');
  if (core.active === undefined) core.active = activeDefault;

  return { core: core as UserData['core'], enterprise, attributes };
}

/** The user as an editable SCIM document (canonical names), the starting point of a PATCH. */
export function toDocument(user: UserData, ctx: SchemaContext): ScimObject {
  const doc: ScimObject = structuredClone(user.core);
  doc[ENTERPRISE_USER_URN] = structuredClone(user.enterprise);
  doc[ctx.extensionUrn] = { ...user.attributes };
  return doc;
}

export const etagOf = (user: StoredUser) => `W/"${user.version}"`;

export interface ResourceContext extends SchemaContext {
  location: (id: string) => string;
  /** Display name of another user, to fill in manager.displayName. */
  displayNameOf?: (id: string) => string | undefined;
}

/** The SCIM representation returned to clients. */
export function toScimResource(user: StoredUser, ctx: ResourceContext): ScimObject {
  const hasEnterprise = Object.keys(user.enterprise).length > 0;
  const hasExtension = Object.keys(user.attributes).length > 0;
  const schemas = [CORE_USER_URN];
  if (hasEnterprise) schemas.push(ENTERPRISE_USER_URN);
  if (hasExtension) schemas.push(ctx.extensionUrn);
  const resource: ScimObject = { schemas, id: user.id };
  if (user.core.externalId !== undefined) resource.externalId = user.core.externalId;
  for (const def of CORE_USER_ATTRIBUTES) {
    const value = user.core[def.name];
    if (value !== undefined) resource[def.name] = structuredClone(value);
  }
  if (hasEnterprise) {
    const enterprise = structuredClone(user.enterprise);
    const manager = enterprise.manager as ScimObject | undefined;
    if (manager && typeof manager.value === 'string') {
      manager.$ref ??= ctx.location(manager.value);
      const name = ctx.displayNameOf?.(manager.value);
      if (name) manager.displayName = name;
    }
    resource[ENTERPRISE_USER_URN] = enterprise;
  }
  if (hasExtension) resource[ctx.extensionUrn] = { ...user.attributes };
  resource.meta = {
    resourceType: 'User',
    created: new Date(user.created).toISOString(),
    lastModified: new Date(user.lastModified).toISOString(),
    location: ctx.location(user.id),
    version: etagOf(user),
  };
  return resource;
}

/** The primary work email, else the first email, else the userName when it is an address. */
export function primaryEmail(user: UserData): string | undefined {
  const emails = (user.core.emails as ScimObject[] | undefined) ?? [];
  const chosen = emails.find((e) => e.primary === true) ?? emails[0];
  if (chosen && typeof chosen.value === 'string') return chosen.value;
  return user.core.userName.includes('@') ? user.core.userName : undefined;
}

export function displayNameOf(user: UserData): string | undefined {
  if (typeof user.core.displayName === 'string') return user.core.displayName;
  const name = user.core.name as ScimObject | undefined;
  const parts = [name?.givenName, name?.familyName].filter((p): p is string => typeof p === 'string');
  return parts.length ? parts.join(' ') : undefined;
}
