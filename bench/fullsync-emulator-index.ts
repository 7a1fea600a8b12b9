/**
 * Indexed answers for the 360Learning emulator's company, and for the HiBob emulator's reads of
 * one employee, at tens of thousands of people.
 *
 * The emulator answers every list request by copying and sorting the whole company: with
 * 100 000 learners a users page takes about 110 ms, an external-id lookup by value about 170 ms
 * and a page of a large group's roles about 85 ms, on this benchmark's own CPU. 360Learning's
 * published limit (50 GET/s, one every 20 ms) says nothing of the kind, and at those costs the
 * emulator, not bobsync, would set the pace of every run (and take CPU from the worker).
 *
 * `indexCompany` puts caches in front of the company's read methods, on this one instance and
 * in this process only: full listings are built once by the company's own methods and reused
 * until something changes; lookups by external-id value, by external id's target and by mail
 * narrow the candidates through an index, then apply the emulator's own filter to them. Every
 * method that changes the company drops the caches. Answers are the emulator's own, only
 * sooner; `compareWithEmulator` checks that on the data of the run. Rate limits, validation and
 * the HTTP layer are untouched.
 *
 * The HiBob emulator counts every employee's direct reports for each read of one employee
 * (about 55 ms at 100 000), in the process that also runs the 360Learning emulator: reads at
 * 5 a second stall it for a quarter of the time, and 360Learning requests sent evenly pile up
 * behind each stall and arrive in bursts. `indexHibob` keeps the count until an employee changes.
 */
import { localDate, type HibobEmulator } from '../packages/local/emulators/hibob';
import type { Company } from '../packages/local/emulators/learning360';
import {
  matchesFilter,
  type ExternalIdDTO,
  type Filter,
  type UserDTO,
  type UserRole,
} from '../packages/local/emulators/learning360/model';

type UserFilters = Parameters<Company['listUsers']>[0];
type ExternalIdFilters = Parameters<Company['listExternalIds']>[0];

/** Methods that change what the company holds (those that change external ids apart). */
const EXTERNAL_ID_MUTATORS = [
  'createExternalId',
  'replaceExternalId',
  'deleteExternalId',
  'pseudonymizeUser',
  'seed',
  'seedUsers',
] as const;
const OTHER_MUTATORS = [
  'createUser',
  'updateUser',
  'deleteUser',
  'activateUser',
  'addGroupRole',
  'removeGroupRole',
  'addManager',
  'removeManager',
  'createCustomField',
  'renameCustomField',
  'deleteCustomField',
  'replaceAuthorizedValues',
  'replaceUserCustomValues',
  'submitBulk',
] as const;

/** A filter that only tests equality (or nothing), which an index can narrow. */
const eqOnly = (f: Filter | undefined) =>
  f === undefined || (f.ne === undefined && f.in === undefined && f.nin === undefined);

export interface IndexedCompany {
  /** Reads answered from a cache or an index, and answered by the emulator itself, since installed. */
  stats(): { cached: number; passedThrough: number };
  /** The company's own methods back, caches gone. */
  remove(): void;
}

export function indexCompany(company: Company): IndexedCompany {
  const target = company as unknown as Record<string, unknown>;
  const own = {
    listUsers: company.listUsers.bind(company),
    listExternalIds: company.listExternalIds.bind(company),
    groupRoles: company.groupRoles.bind(company),
    sweep: company.sweep.bind(company),
  };
  let users: { all: UserDTO[]; byMail: Map<string, UserDTO[]>; unfiltered: Map<string, UserDTO[]> } | undefined;
  let roles = new Map<string, UserRole[]>();
  let mappings:
    | {
        all: ExternalIdDTO[];
        byValue: Map<string, ExternalIdDTO[]>;
        byTarget: Map<string, ExternalIdDTO[]>;
        lists: Map<string, ExternalIdDTO[]>;
      }
    | undefined;
  let cached = 0;
  let passedThrough = 0;

  const dropAll = () => {
    users = undefined;
    roles = new Map();
  };
  const dropMappings = () => {
    mappings = undefined;
    dropAll();
  };
  const installed: string[] = [];
  const wrap = (name: string, drop: () => void) => {
    const original = target[name] as (...args: unknown[]) => unknown;
    target[name] = (...args: unknown[]) => {
      try {
        return original.apply(company, args);
      } finally {
        drop();
      }
    };
    installed.push(name);
  };
  for (const name of EXTERNAL_ID_MUTATORS) wrap(name, dropMappings);
  for (const name of OTHER_MUTATORS) wrap(name, dropAll);

  // A sweep changes the company only when a scheduled deactivation or a bulk operation is pending.
  target.sweep = () => {
    const scheduled = (target.scheduled as Set<string>).size > 0;
    const bulk = [...(target.bulk as Map<string, { results?: unknown }>).values()].some((op) => !op.results);
    own.sweep();
    if (scheduled || bulk) dropAll();
  };
  installed.push('sweep');

  const userIndex = () => {
    if (!users) {
      const all = own.listUsers({});
      const byMail = new Map<string, UserDTO[]>();
      for (const u of all) {
        if (u.mail === undefined) continue;
        const key = u.mail.toLowerCase();
        const list = byMail.get(key);
        if (list) list.push(u);
        else byMail.set(key, [u]);
      }
      users = { all, byMail, unfiltered: new Map() };
    }
    return users;
  };

  const mappingIndex = () => {
    if (!mappings) {
      const all = own.listExternalIds({});
      const byValue = new Map<string, ExternalIdDTO[]>();
      const byTarget = new Map<string, ExternalIdDTO[]>();
      const add = (map: Map<string, ExternalIdDTO[]>, key: string, m: ExternalIdDTO) => {
        const list = map.get(key);
        if (list) list.push(m);
        else map.set(key, [m]);
      };
      for (const m of all) {
        add(byValue, m.value, m);
        add(byTarget, m.targetId.toLowerCase(), m);
      }
      mappings = { all, byValue, byTarget, lists: new Map() };
    }
    return mappings;
  };

  target.listUsers = (filters: UserFilters): UserDTO[] => {
    if (!eqOnly(filters.mail) || !eqOnly(filters.username) || !eqOnly(filters.status)) {
      passedThrough += 1;
      return own.listUsers(filters);
    }
    cached += 1;
    const index = userIndex();
    const candidates =
      filters.mail?.eq !== undefined ? (index.byMail.get(filters.mail.eq.toLowerCase()) ?? []) : index.all;
    if (!filters.mail && !filters.username && !filters.status) return index.all;
    const key = JSON.stringify(filters);
    const known = filters.mail ? undefined : index.unfiltered.get(key);
    if (known) return known;
    const found = candidates.filter(
      (u) =>
        matchesFilter(u.mail, filters.mail, true) &&
        matchesFilter(u.username, filters.username, true) &&
        matchesFilter(u.status, filters.status),
    );
    if (!filters.mail) index.unfiltered.set(key, found);
    return found;
  };

  target.listExternalIds = (filters: ExternalIdFilters): ExternalIdDTO[] => {
    if (!eqOnly(filters.platform) || !eqOnly(filters.type) || !eqOnly(filters.value) || !eqOnly(filters.targetId)) {
      passedThrough += 1;
      return own.listExternalIds(filters);
    }
    cached += 1;
    const index = mappingIndex();
    const narrowed = filters.value?.eq !== undefined || filters.targetId?.eq !== undefined;
    const key = JSON.stringify(filters);
    if (!narrowed) {
      const known = index.lists.get(key);
      if (known) return known;
    }
    const candidates =
      filters.value?.eq !== undefined
        ? (index.byValue.get(filters.value.eq) ?? [])
        : filters.targetId?.eq !== undefined
          ? (index.byTarget.get(filters.targetId.eq.toLowerCase()) ?? [])
          : index.all;
    const found = candidates.filter(
      (m) =>
        matchesFilter(m.platform, filters.platform) &&
        matchesFilter(m.targetType, filters.type) &&
        matchesFilter(m.value, filters.value) &&
        matchesFilter(m.targetId, filters.targetId, true),
    );
    if (!narrowed) index.lists.set(key, found);
    return found;
  };

  target.groupRoles = (groupId: string): UserRole[] => {
    const known = roles.get(groupId);
    if (known) {
      cached += 1;
      return known;
    }
    passedThrough += 1;
    const answer = own.groupRoles(groupId);
    roles.set(groupId, answer);
    return answer;
  };
  installed.push('listUsers', 'listExternalIds', 'groupRoles');

  return {
    stats: () => ({ cached, passedThrough }),
    remove: () => {
      for (const name of installed) delete target[name];
      dropMappings();
    },
  };
}

/**
 * Asks the company's own methods and the indexed ones the same questions (every listing, and
 * lookups of `samples` users by mail, external id and target) and names each answer that
 * differs. Empty when they agree.
 */
export function compareWithEmulator(company: Company, samples: number): string[] {
  const proto = Object.getPrototypeOf(company) as Company;
  const plain = {
    listUsers: (f: UserFilters) => proto.listUsers.call(company, f),
    listExternalIds: (f: ExternalIdFilters) => proto.listExternalIds.call(company, f),
    groupRoles: (id: string) => proto.groupRoles.call(company, id),
  };
  const differences: string[] = [];
  const same = (what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) differences.push(what);
  };
  const everyone = plain.listUsers({});
  same('users', company.listUsers({}), everyone);
  const mappings = plain.listExternalIds({});
  same('external ids', company.listExternalIds({}), mappings);
  const platforms = [...new Set(mappings.map((m) => m.platform))];
  for (const platform of platforms) {
    const f = { platform: { eq: platform }, type: { eq: 'user' } };
    same(`external ids of ${platform}`, company.listExternalIds(f), plain.listExternalIds(f));
  }
  for (const group of company.listGroups())
    same(`roles of group ${group._id}`, company.groupRoles(group._id), plain.groupRoles(group._id));
  const step = Math.max(1, Math.floor(everyone.length / Math.max(1, samples)));
  for (let i = 0; i < everyone.length; i += step) {
    const user = everyone[i]!;
    if (user.mail) {
      const byMail = { mail: { eq: user.mail.toUpperCase() } };
      same(`users by mail ${user.mail}`, company.listUsers(byMail), plain.listUsers(byMail));
    }
    const link = mappings.find((m) => m.targetId === user._id);
    for (const platform of platforms) {
      const byTarget = { platform: { eq: platform }, targetId: { eq: user._id.toUpperCase() } };
      same(`external id of user ${user._id}`, company.listExternalIds(byTarget), plain.listExternalIds(byTarget));
      if (link) {
        const byValue = { platform: { eq: platform }, value: { eq: link.value } };
        same(`external id ${link.value}`, company.listExternalIds(byValue), plain.listExternalIds(byValue));
      }
    }
  }
  const none = { mail: { eq: 'nobody@nowhere.invalid' } };
  same('users by an unknown mail', company.listUsers(none), plain.listUsers(none));
  return differences;
}

/**
 * Keeps the HiBob emulator's read context (the company's direct-report counts) until an employee
 * is stored or removed, instead of building it from every employee for each read. Without a
 * read-after-write lag only: with one, what a read sees depends on the time, and every read builds
 * its own. Returns a function that checks the kept context against a fresh one (empty when equal).
 */
export function indexHibob(hibob: HibobEmulator): { check: (ids: string[]) => string[] } {
  const directory = hibob.directory;
  const store = hibob.ctx.store;
  const own = directory.readEnv.bind(directory);
  const settings = directory['o'];
  let version = 0;
  const target = store as unknown as Record<string, unknown>;
  for (const name of ['put', 'delete', 'clear'] as const) {
    const original = store[name].bind(store) as (...args: unknown[]) => unknown;
    target[name] = (...args: unknown[]) => {
      try {
        return original(...args);
      } finally {
        version += 1;
      }
    };
  }
  const kept = new Map<boolean, { version: number; env: ReturnType<typeof own> }>();
  directory.readEnv = (visible = true) => {
    if (store.lagMs !== 0) return own(visible);
    let entry = kept.get(visible);
    if (!entry || entry.version !== version) kept.set(visible, (entry = { version, env: own(visible) }));
    return { ...entry.env, today: localDate(settings.clock.now(), settings.defaultTimeZone) };
  };
  return {
    check: (ids) => {
      const differences: string[] = [];
      for (const visible of [true, false]) {
        const fresh = own(visible);
        const cached = directory.readEnv(visible);
        if (fresh.today !== cached.today) differences.push(`today (${String(visible)})`);
        for (const id of ids) {
          if (fresh.directReports(id) !== cached.directReports(id)) differences.push(`direct reports of ${id}`);
          if (JSON.stringify(fresh.lookup(id)) !== JSON.stringify(cached.lookup(id)))
            differences.push(`employee ${id}`);
        }
      }
      return differences;
    },
  };
}
