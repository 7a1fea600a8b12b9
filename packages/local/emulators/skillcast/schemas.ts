/**
 * SCIM schema definitions (RFC 7643 §7) for the resources the emulator serves. The same
 * definitions drive request parsing, so what /Schemas advertises is what the server accepts.
 */
export const CORE_USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_USER_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const DEFAULT_EXTENSION_URN = 'urn:ietf:params:scim:schemas:extension:skillcast:2.0:User';
export const LIST_RESPONSE_URN = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_OP_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SERVICE_PROVIDER_CONFIG_URN = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
export const RESOURCE_TYPE_URN = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
export const SCHEMA_URN = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

export interface AttributeDefinition {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'reference';
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'default' | 'never' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: AttributeDefinition[];
}

function attr(name: string, description: string, extra: Partial<AttributeDefinition> = {}): AttributeDefinition {
  return {
    name,
    type: 'string',
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...extra,
  };
}

const multiValuedSubAttributes = (what: string, types: string[]): AttributeDefinition[] => [
  attr('value', `The ${what}.`),
  attr('display', `A human-readable ${what}.`),
  attr('type', `The kind of ${what}.`, { canonicalValues: types }),
  attr('primary', `Whether this is the primary ${what}.`, { type: 'boolean' }),
];

export const CORE_USER_ATTRIBUTES: AttributeDefinition[] = [
  attr(
    'userName',
    'Unique identifier of the user in the tenant: the email, or the employee ID where the domain keys on it.',
    {
      required: true,
      uniqueness: 'server',
    },
  ),
  attr('name', "The components of the user's name.", {
    type: 'complex',
    subAttributes: [
      attr('formatted', 'The full name.'),
      attr('familyName', 'Family name (last name).'),
      attr('givenName', 'Given name (first name).'),
      attr('middleName', 'Middle name.'),
      attr('honorificPrefix', 'Honorific prefix.'),
      attr('honorificSuffix', 'Honorific suffix.'),
    ],
  }),
  attr('displayName', 'Name shown to people.'),
  attr('nickName', 'Casual name.'),
  attr('title', 'Job title.'),
  attr('userType', 'Relationship to the organisation.'),
  attr('preferredLanguage', 'Preferred written or spoken language.'),
  attr('locale', 'Default location for localisation.'),
  attr('timezone', 'Time zone in IANA format.'),
  attr('active', 'false archives the user (kept and reactivatable); true reactivates.', { type: 'boolean' }),
  attr('emails', 'Email addresses. No spaces or apostrophes.', {
    type: 'complex',
    multiValued: true,
    subAttributes: multiValuedSubAttributes('email address', ['work', 'home', 'other']),
  }),
  attr('phoneNumbers', 'Phone numbers.', {
    type: 'complex',
    multiValued: true,
    subAttributes: multiValuedSubAttributes('phone number', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
  }),
];

export const ENTERPRISE_USER_ATTRIBUTES: AttributeDefinition[] = [
  attr('employeeNumber', 'Identifier assigned by the organisation.'),
  attr('costCenter', 'Cost centre.'),
  attr('organization', 'Organisation.'),
  attr('division', 'Division.'),
  attr('department', 'Department.'),
  attr('manager', "The user's manager.", {
    type: 'complex',
    subAttributes: [
      attr('value', "The id of the manager's User resource."),
      attr('$ref', "URI of the manager's User resource.", { type: 'reference', referenceTypes: ['User'] }),
      attr('displayName', 'Display name of the manager.', { mutability: 'readOnly' }),
    ],
  }),
];

/** `externalId` is a common attribute (RFC 7643 §3.1): parsed like a core one, but not listed in /Schemas. */
export const EXTERNAL_ID_ATTRIBUTE = attr('externalId', 'Identifier of the user in the provisioning client.', {
  caseExact: true,
});

export function extensionAttributes(names: readonly string[]): AttributeDefinition[] {
  return names.map((name) => attr(name, `Portal attribute "${name}" (addressed by its exact name).`));
}

/** Case-insensitive lookup of a definition by name, as RFC 7643 §2.1 requires for attribute names. */
export function findAttribute(defs: readonly AttributeDefinition[], name: string): AttributeDefinition | undefined {
  const lower = name.toLowerCase();
  return defs.find((d) => d.name.toLowerCase() === lower);
}

export interface DiscoveryContext {
  baseUrl: string;
  extensionUrn: string;
  attributes: readonly string[];
  maxResults: number;
}

export function serviceProviderConfig(ctx: DiscoveryContext) {
  return {
    schemas: [SERVICE_PROVIDER_CONFIG_URN],
    documentationUri: 'https://supporthub.skillcast.com/',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: ctx.maxResults },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description: 'The session ID generated for an API user in Management Console > Configuration > API Management.',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${ctx.baseUrl}/ServiceProviderConfig` },
  };
}

export function userResourceType(ctx: DiscoveryContext) {
  return {
    schemas: [RESOURCE_TYPE_URN],
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'A learner in one user domain of the tenant.',
    schema: CORE_USER_URN,
    schemaExtensions: [
      { schema: ENTERPRISE_USER_URN, required: false },
      { schema: ctx.extensionUrn, required: false },
    ],
    meta: { resourceType: 'ResourceType', location: `${ctx.baseUrl}/ResourceTypes/User` },
  };
}

export function schemaDocuments(ctx: DiscoveryContext) {
  const schema = (id: string, name: string, description: string, attributes: AttributeDefinition[]) => ({
    schemas: [SCHEMA_URN],
    id,
    name,
    description,
    attributes,
    meta: { resourceType: 'Schema', location: `${ctx.baseUrl}/Schemas/${id}` },
  });
  return [
    schema(CORE_USER_URN, 'User', 'User account', CORE_USER_ATTRIBUTES),
    schema(ENTERPRISE_USER_URN, 'EnterpriseUser', 'Enterprise user', ENTERPRISE_USER_ATTRIBUTES),
    schema(
      ctx.extensionUrn,
      'SkillcastUser',
      'Portal attributes of the tenant, keyed by exact name',
      extensionAttributes(ctx.attributes),
    ),
  ];
}
