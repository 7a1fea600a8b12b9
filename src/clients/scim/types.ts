/**
 * SCIM 2.0 resources and protocol messages (RFC 7643 schema, RFC 7644 protocol) as this client
 * reads and writes them. Servers differ in what they add, so responses are read leniently:
 * unknown members are kept, numbers sent as strings are accepted.
 */
import { z } from 'zod';

export const SCIM_MEDIA_TYPE = 'application/scim+json';
export const CORE_USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_USER_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const LIST_RESPONSE_URN = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_OP_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SERVICE_PROVIDER_CONFIG_URN = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
export const RESOURCE_TYPE_URN = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
export const SCHEMA_URN = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

export interface ScimMeta {
  resourceType?: string;
  created?: string;
  lastModified?: string;
  location?: string;
  /** The ETag of this version, e.g. `W/"3"`. */
  version?: string;
}

export interface ScimName {
  formatted?: string;
  familyName?: string;
  givenName?: string;
  middleName?: string;
  honorificPrefix?: string;
  honorificSuffix?: string;
}

/** One value of a multi-valued attribute such as `emails` (RFC 7643 §2.4). */
export interface ScimMultiValue {
  value?: string;
  display?: string;
  type?: string;
  primary?: boolean;
}

export type ScimEmail = ScimMultiValue & { value: string };

export interface ScimManager {
  /** The SCIM `id` of the manager's User resource. */
  value?: string;
  $ref?: string;
  displayName?: string;
}

/** `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User` (RFC 7643 §4.3). */
export interface EnterpriseUser {
  employeeNumber?: string;
  costCenter?: string;
  organization?: string;
  division?: string;
  department?: string;
  manager?: ScimManager;
}

/** Custom attributes under the configured extension URN are plain values keyed by exact name. */
export type CustomAttributeValue = string | number | boolean;

/** A User resource as a server returns it. Extensions sit under their URN. */
export interface ScimUser {
  schemas: string[];
  id: string;
  externalId?: string;
  userName: string;
  name?: ScimName;
  displayName?: string;
  nickName?: string;
  title?: string;
  userType?: string;
  preferredLanguage?: string;
  locale?: string;
  timezone?: string;
  active?: boolean;
  emails?: ScimEmail[];
  phoneNumbers?: ScimMultiValue[];
  meta?: ScimMeta;
  [attribute: string]: unknown;
}

/** Single-valued string attributes of the core User schema that callers may write. */
export const CORE_STRING_ATTRIBUTES = [
  'displayName',
  'nickName',
  'title',
  'userType',
  'preferredLanguage',
  'locale',
  'timezone',
] as const;
export type CoreStringAttribute = (typeof CORE_STRING_ATTRIBUTES)[number];

/** What a caller writes for a new user or a full replace. */
export type ScimUserInput = { [K in CoreStringAttribute]?: string } & {
  userName: string;
  externalId?: string;
  name?: ScimName;
  active?: boolean;
  emails?: ScimEmail[];
  phoneNumbers?: ScimMultiValue[];
  enterprise?: EnterpriseUser;
  /** Written under the client's extension URN, keyed by exact attribute name. */
  custom?: Record<string, CustomAttributeValue>;
};

type Clearable<T> = { [K in keyof T]?: T[K] | null };

/**
 * Changes to an existing user: only the attributes present are touched, `null` clears one.
 * Multi-valued attributes (`emails`, `phoneNumbers`) are replaced as a whole.
 */
export type ScimUserChanges = { [K in CoreStringAttribute]?: string | null } & {
  userName?: string;
  externalId?: string | null;
  name?: Clearable<ScimName> | null;
  active?: boolean;
  emails?: ScimEmail[] | null;
  phoneNumbers?: ScimMultiValue[] | null;
  enterprise?: Clearable<EnterpriseUser> | null;
  custom?: Record<string, CustomAttributeValue | null>;
};

export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path?: string;
  value?: unknown;
}

export interface PatchRequest {
  schemas: [typeof PATCH_OP_URN];
  Operations: PatchOperation[];
}

export interface ListResponse<T> {
  schemas: string[];
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources: T[];
}

/** An error response (RFC 7644 §3.12); `status` is a string on the wire. */
export interface ScimErrorBody {
  schemas: string[];
  status: string;
  scimType?: string;
  detail?: string;
}

export interface ServiceProviderConfig {
  schemas?: string[];
  documentationUri?: string;
  patch: { supported: boolean };
  bulk?: { supported: boolean; maxOperations?: number; maxPayloadSize?: number };
  filter: { supported: boolean; maxResults?: number };
  changePassword?: { supported: boolean };
  sort?: { supported: boolean };
  etag?: { supported: boolean };
  authenticationSchemes?: { type?: string; name?: string; description?: string; primary?: boolean }[];
  [member: string]: unknown;
}

export interface SchemaAttribute {
  name: string;
  type?: string;
  multiValued?: boolean;
  description?: string;
  required?: boolean;
  caseExact?: boolean;
  mutability?: string;
  returned?: string;
  uniqueness?: string;
  canonicalValues?: string[];
  subAttributes?: SchemaAttribute[];
  [member: string]: unknown;
}

export interface ScimSchema {
  id: string;
  name?: string;
  description?: string;
  attributes: SchemaAttribute[];
  [member: string]: unknown;
}

export interface ResourceType {
  id?: string;
  name: string;
  endpoint: string;
  description?: string;
  schema: string;
  schemaExtensions: { schema: string; required: boolean }[];
  [member: string]: unknown;
}

// ---- lenient readers for what servers send ----

const flag = z
  .union([z.boolean(), z.string()])
  .transform((v) => (typeof v === 'boolean' ? v : v.trim().toLowerCase() === 'true'));
const count = z.union([z.number(), z.string()]).transform(Number).pipe(z.number().int().nonnegative());
const feature = z.looseObject({ supported: flag.optional() }).optional();

export const serviceProviderConfigReader = z
  .looseObject({
    patch: feature,
    bulk: z
      .looseObject({ supported: flag.optional(), maxOperations: count.optional(), maxPayloadSize: count.optional() })
      .optional(),
    filter: z.looseObject({ supported: flag.optional(), maxResults: count.optional() }).optional(),
    changePassword: feature,
    sort: feature,
    etag: feature,
    authenticationSchemes: z.array(z.looseObject({})).optional(),
  })
  .transform((c): ServiceProviderConfig => ({
    ...c,
    patch: { supported: c.patch?.supported ?? false },
    filter: {
      supported: c.filter?.supported ?? false,
      ...(c.filter?.maxResults !== undefined && { maxResults: c.filter.maxResults }),
    },
    bulk: { ...c.bulk, supported: c.bulk?.supported ?? false },
    changePassword: { supported: c.changePassword?.supported ?? false },
    sort: { supported: c.sort?.supported ?? false },
    etag: { supported: c.etag?.supported ?? false },
  }));

const attributeReader: z.ZodType<SchemaAttribute> = z.lazy(() =>
  z.looseObject({
    name: z.string(),
    subAttributes: z.array(attributeReader).optional(),
  }),
);

export const schemaReader = z.looseObject({
  id: z.string(),
  attributes: z.array(attributeReader).default([]),
}) as unknown as z.ZodType<ScimSchema>;

export const resourceTypeReader = z
  .looseObject({
    name: z.string(),
    endpoint: z.string(),
    schema: z.string(),
    schemaExtensions: z.array(z.looseObject({ schema: z.string(), required: flag.optional() })).default([]),
  })
  .transform((r): ResourceType => ({
    ...r,
    schemaExtensions: r.schemaExtensions.map((e) => ({ schema: e.schema, required: e.required ?? false })),
  }));

export const userReader = z.looseObject({ id: z.string(), userName: z.string() }).transform((u): ScimUser => {
  const user = { ...u } as ScimUser;
  if (!Array.isArray(user.schemas)) user.schemas = [CORE_USER_URN];
  // Identity-provider style servers sometimes send "True"/"False".
  if (typeof user.active === 'string') user.active = (user.active as string).trim().toLowerCase() === 'true';
  return user;
});

/** A ListResponse of anything; resources are checked by the caller's reader. */
export const listResponseReader = z.looseObject({
  schemas: z.array(z.string()).optional(),
  totalResults: count,
  startIndex: count.optional(),
  itemsPerPage: count.optional(),
  Resources: z.array(z.unknown()).optional(),
});

/** The object a user holds under a schema URN (URNs compare case-insensitively), or undefined. */
export function extensionOf(user: Record<string, unknown>, urn: string): Record<string, unknown> | undefined {
  const lower = urn.toLowerCase();
  const key = Object.keys(user).find((k) => k.toLowerCase() === lower);
  const value = key === undefined ? undefined : user[key];
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** The enterprise extension of a user, or an empty object. */
export function enterpriseOf(user: ScimUser): EnterpriseUser {
  return extensionOf(user, ENTERPRISE_USER_URN) ?? {};
}

/** The custom attributes of a user under `extensionUrn`, or an empty object. */
export function customAttributesOf(user: ScimUser, extensionUrn: string): Record<string, CustomAttributeValue> {
  return (extensionOf(user, extensionUrn) ?? {}) as Record<string, CustomAttributeValue>;
}
