import { EmulatorClock } from '../../packages/local/emulators/common/clock';
import { Company, type CompanySeed } from '../../packages/local/emulators/learning360/company';
import { ObjectIdFactory } from '../../packages/local/emulators/learning360/ids';
import { ApiError, matchesFilter } from '../../packages/local/emulators/learning360/model';

const ROOT = '690000000000000000000100';

function company(seed: Partial<CompanySeed> = {}) {
  const clock = new EmulatorClock();
  const ids = new ObjectIdFactory(clock);
  const c = new Company({ clients: [{ clientId: 'c', clientSecret: 's' }], rootGroupId: ROOT, ...seed }, clock, ids, {
    reservedPlatforms: ['360learning'],
    bulkStepMs: 100,
    bulkConcurrency: 3,
  });
  return { c, clock, ids };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return `${err.status} ${err.code}`;
    throw err;
  }
  return undefined;
}

const learnerOf = (groupId: string) => ({ groupId, role: 'learner' as const });

describe('ObjectIdFactory', () => {
  it('makes 24-hex ids that keep increasing even when the clock moves back', () => {
    const clock = new EmulatorClock();
    const ids = new ObjectIdFactory(clock);
    const first = ids.next();
    clock.set(new Date('2001-01-01T00:00:00Z'));
    const second = ids.next();
    expect(first).toMatch(/^[0-9a-f]{24}$/);
    expect(second > first).toBe(true);
  });
});

describe('matchesFilter', () => {
  it('implements eq, ne, in and nin, optionally ignoring case', () => {
    expect(matchesFilter('A@x.io', { eq: 'a@x.io' }, true)).toBe(true);
    expect(matchesFilter('A@x.io', { eq: 'a@x.io' })).toBe(false);
    expect(matchesFilter('a', { ne: 'a' })).toBe(false);
    expect(matchesFilter(undefined, { ne: 'a' })).toBe(true);
    expect(matchesFilter('b', { in: ['a', 'b'] })).toBe(true);
    expect(matchesFilter(undefined, { in: ['a'] })).toBe(false);
    expect(matchesFilter('b', { nin: ['a', 'b'] })).toBe(false);
    expect(matchesFilter('c', { in: ['a', 'c'], nin: ['b'] })).toBe(true);
  });
});

describe('Company users', () => {
  it('restores a deleted user in place and drops the roles it had', () => {
    const { c } = company({ groups: [{ id: '690000000000000000000101', name: 'A' }] });
    const { user } = c.createUser({ mail: 'x@example.com', membership: learnerOf(ROOT) }, false);
    c.addGroupRole('690000000000000000000101', 'coach', user._id);
    c.deleteUser(user._id);
    const restored = c.createUser({ mail: 'X@example.com', membership: learnerOf('690000000000000000000101') }, true);
    expect(restored.status).toBe(200);
    expect(restored.user._id).toBe(user._id);
    expect(restored.user.mail).toBe('X@example.com');
    expect(c.userRoles(user._id)).toEqual([learnerOf('690000000000000000000101')]);
    expect(c.invitations).toEqual([expect.objectContaining({ userId: user._id, reason: 'restored' })]);
  });

  it('checks creation rules in the documented order', () => {
    const { c } = company({ analystAvailable: false });
    // Identifiers come before everything else, the group before the analyst role.
    expect(
      codeOf(() => c.createUser({ membership: { groupId: '690000000000000000000999', role: 'analyst' } }, false)),
    ).toBe('400 mailAndUsernameUndefined');
    expect(
      codeOf(() =>
        c.createUser({ mail: 'bad', membership: { groupId: '690000000000000000000999', role: 'analyst' } }, false),
      ),
    ).toBe('400 mailInvalid');
    expect(
      codeOf(() =>
        c.createUser({ mail: 'a@b.io', membership: { groupId: '690000000000000000000999', role: 'analyst' } }, false),
      ),
    ).toBe('404 groupNotFound');
    expect(codeOf(() => c.createUser({ mail: 'a@b.io', membership: { groupId: ROOT, role: 'analyst' } }, false))).toBe(
      '400 analystUnavailable',
    );
  });

  it('finds mail and username on two different users as loginIdentifierMultipleUsersFound', () => {
    const { c } = company({ usernameAllowed: true });
    c.createUser({ mail: 'one@example.com', membership: learnerOf(ROOT) }, false);
    c.createUser({ username: 'two', membership: learnerOf(ROOT) }, false);
    expect(
      codeOf(() => c.createUser({ mail: 'one@example.com', username: 'two', membership: learnerOf(ROOT) }, false)),
    ).toBe('400 loginIdentifierMultipleUsersFound');
  });

  it('applies toBeDeactivatedAt when the clock reaches it', () => {
    const { c, clock } = company();
    const { user } = c.createUser({ mail: 'leaver@example.com', membership: learnerOf(ROOT) }, false);
    const at = new Date(clock.nowMs() + 3_600_000).toISOString();
    c.updateUser(user._id, { toBeDeactivatedAt: at });
    c.sweep();
    expect(c.getUser(user._id).status).toBe('invited');
    clock.advance(3_600_000);
    c.sweep();
    expect(c.getUser(user._id)).toMatchObject({ status: 'deleted', deletedAt: [at] });
    expect(c.getUser(user._id).toBeDeactivatedAt).toBeUndefined();
  });

  it('keeps deleted users readable and out of group role listings', () => {
    const { c } = company();
    const { user } = c.createUser({ mail: 'gone@example.com', membership: learnerOf(ROOT) }, false);
    c.deleteUser(user._id);
    expect(c.listUsers({ status: { eq: 'deleted' } }).map((u) => u._id)).toEqual([user._id]);
    expect(c.groupRoles(ROOT)).toEqual([]);
  });
});

describe('Company group roles', () => {
  it('cascades learner removal through public subgroups only', () => {
    const { c } = company();
    const seeded = c.seed({
      groups: [
        { id: '690000000000000000000201', name: 'P1', public: true },
        { id: '690000000000000000000202', name: 'P2', parentName: 'P1', public: true },
        { id: '690000000000000000000203', name: 'Private', parentName: 'P1', public: false },
        { id: '690000000000000000000204', name: 'Below private', parentName: 'Private', public: true },
      ],
      users: [
        {
          mail: 'm@example.com',
          memberships: ['P1', 'P2', 'Private', 'Below private'].map((groupName) => ({
            groupName,
            role: 'learner' as const,
          })),
        },
      ],
    });
    const userId = seeded.users[0]!._id;
    c.removeGroupRole('690000000000000000000201', 'learner', userId);
    expect(c.userRoles(userId).map((m) => m.groupId)).toEqual(['690000000000000000000203', '690000000000000000000204']);
  });

  it('does not cascade other roles', () => {
    const { c } = company({ groups: [{ id: '690000000000000000000301', name: 'Child' }] });
    const [user] = c.seed({
      users: [{ mail: 'a@example.com', memberships: [{ role: 'admin' }, { groupName: 'Child', role: 'admin' }] }],
    }).users;
    c.removeGroupRole(ROOT, 'admin', user!._id);
    expect(c.userRoles(user!._id)).toEqual([{ groupId: '690000000000000000000301', role: 'admin' }]);
  });
});

describe('Company custom fields', () => {
  it('normalises date values to YYYY-MM-DD and replaces all values at once', () => {
    const { c } = company();
    const date = c.createCustomField({ name: 'Start', targetType: 'users', type: 'date' });
    const text = c.createCustomField({ name: 'Team', targetType: 'users', type: 'string' });
    const [user] = c.seed({ users: [{ mail: 'a@example.com' }] }).users;
    const values = c.replaceUserCustomValues(user!._id, [
      { customFieldId: date._id, type: 'date', value: '2024-02-29T10:00:00.000Z' },
      { customFieldId: text._id, type: 'string', value: 'Blue' },
    ]);
    expect(values.find((v) => v.customFieldId === date._id)?.value).toBe('2024-02-29');
    expect(c.replaceUserCustomValues(user!._id, [])).toEqual([]);
    expect(
      codeOf(() =>
        c.replaceUserCustomValues(user!._id, [{ customFieldId: date._id, type: 'date', value: '2023-02-29' }]),
      ),
    ).toBe('400 wrongTypeValue');
  });

  it('allows any value while the authorized list is empty and refuses content fields on users', () => {
    const { c } = company();
    const field = c.createCustomField({ name: 'Site', targetType: 'users', type: 'string' });
    const course = c.createCustomField({ name: 'Level', targetType: 'contents', type: 'string' });
    const [user] = c.seed({ users: [{ mail: 'a@example.com' }] }).users;
    c.replaceUserCustomValues(user!._id, [{ customFieldId: field._id, type: 'string', value: 'Paris' }]);
    expect(codeOf(() => c.replaceAuthorizedValues(field._id, ['London']))).toBe('400 customFieldValuesConflict');
    expect(c.replaceAuthorizedValues(field._id, ['Paris', 'London', 'Paris'])).toEqual(['Paris', 'London']);
    expect(
      codeOf(() => c.replaceUserCustomValues(user!._id, [{ customFieldId: course._id, type: 'string', value: 'x' }])),
    ).toBe('404 customFieldNotFound');
  });

  it('enforces the definition limit and enabled targets', () => {
    const { c } = company({ customFieldLimit: 1, customFieldTargets: ['users'] });
    expect(codeOf(() => c.createCustomField({ name: 'Level', targetType: 'contents', type: 'string' }))).toBe(
      '400 customFieldsTargetTypeNotEnabled',
    );
    expect(codeOf(() => c.createCustomField({ name: '   ', targetType: 'users', type: 'string' }))).toBe(
      '400 invalidName',
    );
    c.createCustomField({ name: 'One', targetType: 'users', type: 'string' });
    expect(codeOf(() => c.createCustomField({ name: 'Two', targetType: 'users', type: 'string' }))).toBe(
      '400 customFieldLimitReached',
    );
  });
});

describe('Company external ids', () => {
  it('keeps one mapping per (platform, type, target) and per (platform, value)', () => {
    const { c } = company({ reservedPlatforms: ['internal'] });
    const [a, b] = c.seed({ users: [{ mail: 'a@example.com' }, { mail: 'b@example.com' }] }).users;
    const mapping = c.createExternalId({ platform: 'hibob', targetType: 'user', targetId: a!._id, value: '1' });
    expect(
      codeOf(() => c.createExternalId({ platform: 'hibob', targetType: 'user', targetId: a!._id, value: '2' })),
    ).toBe('400 mappingAlreadyExists');
    expect(
      codeOf(() => c.createExternalId({ platform: 'hibob', targetType: 'user', targetId: b!._id, value: '1' })),
    ).toBe('400 valueAlreadyUsed');
    expect(
      codeOf(() => c.createExternalId({ platform: 'Internal', targetType: 'user', targetId: b!._id, value: '1' })),
    ).toBe('400 reservedPlatformName');
    // Re-saving a mapping unchanged is not a conflict with itself.
    expect(
      c.replaceExternalId(mapping._id, { platform: 'hibob', targetType: 'user', targetId: a!._id, value: '1' }),
    ).toEqual(mapping);
    expect(c.listExternalIds({ platform: { eq: 'hibob' }, value: { in: ['1', '3'] } })).toEqual([mapping]);
  });
});

describe('Company bulk memberships', () => {
  it('runs an operation once the clock has passed its three steps, and only then has results', () => {
    const { c, clock } = company({ groups: [{ id: '690000000000000000000401', name: 'G' }] });
    const [user] = c.seed({ users: [{ mail: 'bulk@example.com' }] }).users;
    const id = c.submitBulk('addUsersToGroups', [
      { userId: user!._id, groupId: '690000000000000000000401', role: 'coach' },
    ]);
    expect(c.getBulkOperation(id).status).toBe('pending');
    expect(codeOf(() => c.getBulkResults(id))).toBe('400 bulkOperationNotRun');
    clock.advance(250);
    c.sweep();
    expect(c.getBulkOperation(id)).toMatchObject({ status: 'running', progress: { index: 0 } });
    expect(c.userRoles(user!._id)).not.toContainEqual({ groupId: '690000000000000000000401', role: 'coach' });
    clock.advance(50);
    c.sweep();
    expect(c.getBulkOperation(id).status).toBe('completed');
    expect(c.userRoles(user!._id)).toContainEqual({ groupId: '690000000000000000000401', role: 'coach' });
    expect(c.getBulkResults(id)).toEqual([
      {
        input: { userId: user!._id, groupId: '690000000000000000000401', role: 'coach' },
        status: 'success',
        resourceId: user!._id,
      },
    ]);
  });

  it('refuses a fourth unfinished operation and answers 503 when the Bulk API is off', () => {
    const { c } = company();
    const [user] = c.seed({ users: [{ mail: 'bulk@example.com' }] }).users;
    const input = [{ userId: user!._id, groupId: ROOT, role: 'learner' as const }];
    for (let i = 0; i < 3; i++) c.submitBulk('addUsersToGroups', input);
    expect(codeOf(() => c.submitBulk('addUsersToGroups', input))).toBe('429 bulkOperationsConcurrencyLimitReached');
    c.bulkApiEnabled = false;
    expect(codeOf(() => c.submitBulk('addUsersToGroups', input))).toBe('503 bulkAPIDisabled');
  });
});
