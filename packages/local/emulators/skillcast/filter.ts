import { badRequest } from './errors';
import { CORE_USER_URN } from './schemas';
import type { ScimObject, UserData } from './user-model';

/** The only filters served: equality on the three attributes a provisioning client looks users up by. */
export interface EqFilter {
  attribute: 'userName' | 'externalId' | 'emails.value';
  value: string;
}

const SUPPORTED: Record<string, EqFilter['attribute']> = {
  username: 'userName',
  externalid: 'externalId',
  'emails.value': 'emails.value',
};

const unsupported = (text: string) =>
  badRequest(
    'invalidFilter',
    `Unsupported filter "${text}": only eq on userName, externalId or emails.value with a quoted string`,
  );

/** Parses `<attribute> eq "<value>"` (attribute names and the operator are case-insensitive). */
export function parseFilter(text: string): EqFilter {
  const match = /^\s*(\S+)\s+(\S+)\s+("(?:[^"\\]|\\.)*")\s*$/u.exec(text);
  if (!match) throw unsupported(text);
  const [, rawAttribute = '', operator = '', literal = ''] = match;
  let path = rawAttribute.toLowerCase();
  const corePrefix = `${CORE_USER_URN.toLowerCase()}:`;
  if (path.startsWith(corePrefix)) path = path.slice(corePrefix.length);
  const attribute = SUPPORTED[path];
  if (!attribute || operator.toLowerCase() !== 'eq') throw unsupported(text);
  let value: unknown;
  try {
    value = JSON.parse(literal);
  } catch {
    throw badRequest('invalidFilter', `Malformed string in filter "${text}"`);
  }
  return { attribute, value: value as string };
}

/** userName and emails.value compare case-insensitively, externalId exactly (RFC 7643 caseExact). */
export function matchesFilter(user: UserData, filter: EqFilter): boolean {
  switch (filter.attribute) {
    case 'userName':
      return user.core.userName.toLowerCase() === filter.value.toLowerCase();
    case 'externalId':
      return user.core.externalId === filter.value;
    case 'emails.value': {
      const emails = (user.core.emails as ScimObject[] | undefined) ?? [];
      const wanted = filter.value.toLowerCase();
      return emails.some((e) => typeof e.value === 'string' && e.value.toLowerCase() === wanted);
    }
  }
}
