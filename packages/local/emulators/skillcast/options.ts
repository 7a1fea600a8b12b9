import { DEFAULT_EXTENSION_URN } from './schemas';

export interface SkillcastApiUser {
  /** As named in Management Console › API Management, e.g. "SCIM API". */
  name: string;
  /** The generated session ID, sent as `Authorization: Bearer <token>`. */
  token: string;
  /** Domain access: the only domains this API user can read and write. */
  domains: string[];
  /** Where users it creates land. */
  defaultDomain: string;
}

export interface SkillcastRestUser {
  userId: string;
  password: string;
  domains: string[];
}

export interface SkillcastEmulatorOptions {
  /** Client ID, as in `https://<tenant>.skillcast.io`. */
  tenant?: string;
  extensionUrn?: string;
  /** Portal attributes, addressed by exact name. */
  attributes?: string[];
  /** User domains of the tenant. */
  domains?: string[];
  apiUsers?: SkillcastApiUser[];
  restUsers?: SkillcastRestUser[];
  /** Cap on `count` and on a page without `count` (ServiceProviderConfig filter.maxResults). */
  maxResults?: number;
  /** DELETE archives the user (default) instead of removing it. */
  deleteArchives?: boolean;
  /** Idle timeout of REST login tokens. */
  tokenIdleTimeoutMs?: number;
  /** Optional request budget per API user; Skillcast documents none, so off by default. */
  rateLimit?: { limit: number; windowMs: number };
}

export type ResolvedSkillcastOptions = Required<Omit<SkillcastEmulatorOptions, 'rateLimit'>> &
  Pick<SkillcastEmulatorOptions, 'rateLimit'>;

export const DEFAULT_SCIM_TOKEN = 'demo-scim-token';
export const DEFAULT_REST_USER = { userId: 'demo-api', password: 'demo-password' } as const;
const DEFAULT_DOMAINS = ['Employees', 'Always active'];

/** Fills in the demo tenant and checks that every API and REST user points at existing domains. */
export function resolveOptions(options: SkillcastEmulatorOptions = {}): ResolvedSkillcastOptions {
  const apiUsers = (
    options.apiUsers ?? [
      { name: 'SCIM API', token: DEFAULT_SCIM_TOKEN, domains: ['Employees'], defaultDomain: 'Employees' },
    ]
  ).map((u) => ({ ...u, domains: [...u.domains] }));
  const restUsers = (options.restUsers ?? [{ ...DEFAULT_REST_USER, domains: ['Employees'] }]).map((u) => ({
    ...u,
    domains: [...u.domains],
  }));
  // Without an explicit list, every domain an API or REST user mentions exists.
  const domains = options.domains
    ? [...options.domains]
    : [
        ...new Set([
          ...DEFAULT_DOMAINS,
          ...apiUsers.flatMap((u) => [...u.domains, u.defaultDomain]),
          ...restUsers.flatMap((u) => u.domains),
        ]),
      ];
  for (const user of apiUsers) {
    for (const d of [...user.domains, user.defaultDomain]) {
      if (!domains.includes(d)) throw new Error(`API user "${user.name}" refers to unknown domain "${d}"`);
    }
    if (!user.domains.includes(user.defaultDomain))
      throw new Error(`API user "${user.name}": default domain must be one of its domains`);
  }
  if (new Set(apiUsers.map((u) => u.token)).size !== apiUsers.length) throw new Error('API user tokens must be unique');
  for (const user of restUsers) {
    for (const d of user.domains)
      if (!domains.includes(d)) throw new Error(`REST user "${user.userId}" refers to unknown domain "${d}"`);
  }
  const maxResults = options.maxResults ?? 100;
  if (!Number.isInteger(maxResults) || maxResults < 1) throw new Error('maxResults must be a positive integer');
  return {
    tenant: options.tenant ?? 'demo',
    extensionUrn: options.extensionUrn ?? DEFAULT_EXTENSION_URN,
    attributes: [...(options.attributes ?? ['Site', 'Start Date', 'Department'])],
    domains,
    apiUsers,
    restUsers,
    maxResults,
    deleteArchives: options.deleteArchives ?? true,
    tokenIdleTimeoutMs: options.tokenIdleTimeoutMs ?? 20 * 60_000,
    rateLimit: options.rateLimit,
  };
}
