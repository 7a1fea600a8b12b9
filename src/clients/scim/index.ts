export { ScimClient } from './client';
export type {
  ScimClientOptions,
  ScimCapabilities,
  ScimCallCounts,
  ScimUserPage,
  ListUsersOptions,
  CreateUserResult,
  UserKey,
} from './client';
export {
  ScimApiError,
  ScimConfigurationError,
  classifyScimError,
  parseScimErrorBody,
  parseRetryAfter,
  isScimErrorBody,
} from './errors';
export type { ScimErrorKind, ScimService } from './errors';
export { eqFilter, filterValue, isAttributeName, isAttributePath } from './filter';
export type { FilterValue } from './filter';
export { buildPatchOperations, applyChanges, toUserDocument } from './patch';
export * from './types';
