/** Shapes shared by the 360Learning emulator, taken from the types generated from the vendor spec. */
import type { components } from '../../../../src/clients/learning360/core-api';

type Schemas = components['schemas'];

export type UserDTO = Schemas['UserDTO'];
export type InputUserDTO = Schemas['InputUserDTO'];
export type UpdateUserDTO = Schemas['UpdateUserDTO'];
export type GroupDTO = Schemas['GroupDTO'];
export type Membership = Schemas['Membership'];
export type UserRole = Schemas['UserRole'];
export type ExternalIdDTO = Schemas['ExternalIdDTO'];
export type InputExternalIdDTO = Schemas['InputExternalIdDTO'];
export type CustomFieldDTO = Schemas['CustomFieldDTO'];
export type InputCustomFieldDTO = Schemas['InputCustomFieldDTO'];
export type CustomFieldValueDTO = Schemas['CustomFieldValueDTO'];
export type GenerateTokenBody = Schemas['GenerateTokenBody'];
export type GenerateTokenResponse = Schemas['GenerateTokenResponse'];

export type UserStatus = UserDTO['status'];
export type Lang = NonNullable<UserDTO['lang']>;
/** Roles a user can hold in a group (bodies and listings spell `userAdmin`). */
export type Role = Schemas['MembershipDTO']['role'];
/** Roles in listings, where the company owner also appears. */
export type ListedRole = UserRole['role'];
export type CustomFieldType = CustomFieldDTO['type'];
export type CustomFieldTarget = CustomFieldDTO['targetType'];
export type ExternalIdTargetType = ExternalIdDTO['targetType'];

export const ROLES: readonly Role[] = ['admin', 'analyst', 'editor', 'coach', 'contributor', 'learner', 'userAdmin'];

/** URL role names: `user-admin` in the path is `userAdmin` everywhere else. */
export const PATH_ROLES: Readonly<Record<string, Role>> = {
  admin: 'admin',
  analyst: 'analyst',
  coach: 'coach',
  contributor: 'contributor',
  editor: 'editor',
  learner: 'learner',
  'user-admin': 'userAdmin',
};

export const ALL_SCOPES: readonly string[] = [
  'users:read',
  'users:write',
  'externalIds:read',
  'externalIds:write',
  'customFields:read',
  'customFields:write',
  'groups:read',
  'groups:write',
  'groups:bulk',
  'bulkOperations:read',
];

/** A business error answered as `{"error":{"code","message"}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get body(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** The bracket-notation filter of a list query: `field[eq]`, `field[ne]`, `field[in]`, `field[nin]`. */
export interface Filter {
  eq?: string;
  ne?: string;
  in?: string[];
  nin?: string[];
}

export function matchesFilter(value: string | undefined, filter: Filter | undefined, foldCase = false): boolean {
  if (!filter) return true;
  const norm = (s: string) => (foldCase ? s.toLowerCase() : s);
  const v = value === undefined ? undefined : norm(value);
  if (filter.eq !== undefined && v !== norm(filter.eq)) return false;
  if (filter.ne !== undefined && v === norm(filter.ne)) return false;
  if (filter.in !== undefined && (v === undefined || !filter.in.map(norm).includes(v))) return false;
  if (filter.nin !== undefined && v !== undefined && filter.nin.map(norm).includes(v)) return false;
  return true;
}
