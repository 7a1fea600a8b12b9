import type { MappingConfig } from '../../src/config/mapping-schema';
import { desiredLearner, isParked } from '../../src/domain/desired';
import { planContextFor, planEmployee, planFingerprint } from '../../src/domain/plan';
import type {
  CurrentLearner,
  DesiredLearner,
  GroupRole,
  Match,
  Operation,
  OwnedGroupRole,
  Plan,
  PlanContext,
} from '../../src/domain/types';
import {
  applyOperations,
  employee,
  GROUP_DEFAULT,
  GROUP_ENG,
  GROUP_LONDON,
  GROUP_SALES,
  learner,
  mapping,
  NOW,
  opNames,
  type RawEmployeeSpec,
} from './domain-fixtures';

const EMPLOYEE = '3332883894235038486';
const MANAGER = '3332883804594373380';
const MANAGER_LEARNER = '64f1c2a9e4b0a1b2c3d4aaaa';
const OLD_MANAGER_LEARNER = '64f1c2a9e4b0a1b2c3d4bbbb';
const MANUAL_MANAGER_LEARNER = '64f1c2a9e4b0a1b2c3d4cccc';

const withGroups = mapping({
  groups: [
    { when: { field: 'work.department', label: true, equals: 'Engineering' }, groupId: GROUP_ENG },
    { when: { field: 'work.department', label: true, equals: 'Sales' }, groupId: GROUP_SALES },
    { when: { field: 'work.site', equals: 'London' }, groupId: GROUP_LONDON, role: 'coach' },
    { when: { field: 'custom.team', equals: 'x' }, groupId: GROUP_SALES, role: 'coach' },
  ],
  customFields: [
    { name: 'Department', source: { from: 'work.department', label: true } },
    { name: 'Contract', source: { from: 'payroll.employment.contract' } },
  ],
});

function want(spec: RawEmployeeSpec = {}, m: MappingConfig = mapping(), now = NOW): DesiredLearner {
  const d = desiredLearner(employee(spec), m, now);
  if (isParked(d)) throw new Error(`parked: ${d.park}`);
  return d;
}

function context(
  m: MappingConfig = mapping(),
  managers: Record<string, string> = { [MANAGER]: MANAGER_LEARNER, other: OLD_MANAGER_LEARNER },
): PlanContext {
  return planContextFor(m, { defaultGroupId: GROUP_DEFAULT }, managers);
}

const byId = (l: CurrentLearner): Match => ({ kind: 'externalId', learner: l });
const byEmail = (l: CurrentLearner): Match => ({ kind: 'email', learner: l });
const none: Match = { kind: 'none' };

function ops(plan: Plan): Operation[] {
  if (plan.outcome.kind !== 'apply')
    throw new Error(
      `expected operations, got ${plan.outcome.kind}: ${'reason' in plan.outcome ? plan.outcome.reason : ''}`,
    );
  return plan.outcome.operations;
}

function noopReason(plan: Plan): string {
  if (plan.outcome.kind !== 'noop') throw new Error(`expected noop, got ${plan.outcome.kind}`);
  return plan.outcome.reason;
}

/** Applies the plan to a model of the LMS, plans again, and expects nothing left to do. */
function expectConvergence(desired: DesiredLearner, match: Match, ctx: PlanContext): CurrentLearner {
  const first = planEmployee({ desired, match, context: ctx });
  const after = applyOperations(match.kind === 'none' ? undefined : match.learner, ops(first), desired.employeeId);
  const second = planEmployee({ desired, match: { kind: 'externalId', learner: after }, context: ctx });
  expect(second.outcome.kind).toBe('noop');
  return after;
}

describe('planEmployee: no learner yet', () => {
  it('an active employee: create (invited), link, manager, then activate last', () => {
    const plan = planEmployee({ desired: want(), match: none, context: context() });
    expect(plan.employeeId).toBe(EMPLOYEE);
    expect(ops(plan)).toEqual([
      {
        op: 'create',
        fields: {
          mail: 'jane.doe@example.com',
          firstName: 'Jane',
          lastName: 'Doe',
          job: 'Software Engineer',
          organization: 'Engineering',
        },
        membership: { groupId: GROUP_DEFAULT, role: 'learner' },
        reason: 'new learner: lifecycle status is employed',
      },
      { op: 'linkExternalId', reason: 'store the HiBob employee id on the new learner' },
      {
        op: 'addManager',
        managerLearnerId: MANAGER_LEARNER,
        reason: `HiBob manager ${MANAGER} (work.reportsTo) is learner ${MANAGER_LEARNER}`,
      },
      { op: 'activate', reason: 'lifecycle status is employed' },
    ]);
    const created = expectConvergence(want(), none, context());
    expect(created).toMatchObject({ status: 'active', externalId: EMPLOYEE, managerIds: [MANAGER_LEARNER] });
  });

  it('with custom fields and groups: the default membership is not added twice', () => {
    const m = mapping({
      ...withGroups,
      groups: [
        ...withGroups.groups,
        { when: { field: 'work.site', exists: true }, groupId: GROUP_DEFAULT, role: 'learner' },
      ],
    });
    const plan = planEmployee({ desired: want({}, m), match: none, context: context(m) });
    expect(opNames(ops(plan))).toEqual([
      'create',
      'linkExternalId',
      'setCustomFields',
      'addGroupRole',
      'addGroupRole',
      'addManager',
      'activate',
    ]);
    expect(ops(plan).filter((o) => o.op === 'addGroupRole')).toEqual([
      {
        op: 'addGroupRole',
        group: { groupId: GROUP_ENG, role: 'learner' },
        reason: 'groups[0]: work.department (label) equals "Engineering"',
      },
      {
        op: 'addGroupRole',
        group: { groupId: GROUP_LONDON, role: 'coach' },
        reason: 'groups[2]: work.site equals "London"',
      },
    ]);
    expect(ops(plan)[2]).toMatchObject({ op: 'setCustomFields', values: { Department: 'Engineering' } });
    expectConvergence(want({}, m), none, context(m));
  });

  it('an inactive employee: nothing is created only to be deactivated', () => {
    const plan = planEmployee({ desired: want({ lifecycleStatus: 'terminated' }), match: none, context: context() });
    expect(noopReason(plan)).toBe(
      'no learner, and the employee is inactive (lifecycle status is terminated); nothing is created',
    );
    expect(plan.recheckAt).toBeUndefined();
  });

  it('a future hire: nothing yet, recheck at the activation instant', () => {
    const plan = planEmployee({
      desired: want({ lifecycleStatus: 'hired', internalStatus: 'Inactive', startDate: '2026-04-01' }),
      match: none,
      context: context(),
    });
    expect(noopReason(plan)).toBe('no learner yet: starts on 2026-04-01; activation at 2026-04-01 00:00 UTC');
    expect(plan.recheckAt).toBe('2026-04-01T00:00:00.000Z');
    // At the recheck, the same employee is created and activated.
    const later = planEmployee({
      desired: want(
        { lifecycleStatus: 'hired', internalStatus: 'Inactive', startDate: '2026-04-01' },
        mapping(),
        new Date(plan.recheckAt!),
      ),
      match: none,
      context: context(),
    });
    expect(opNames(ops(later))).toEqual(['create', 'linkExternalId', 'addManager', 'activate']);
  });

  it('without a mapped email no learner can be created', () => {
    const m = mapping({ fields: { mail: null } });
    const plan = planEmployee({ desired: want({}, m), match: none, context: context(m) });
    expect(plan.outcome).toEqual({
      kind: 'park',
      reason: 'a learner cannot be created without an email (fields.mail gives none)',
      code: 'missingEmail',
    });
  });
});

describe('planEmployee: existing learner', () => {
  it('unchanged → noop', () => {
    const current = learner({ managerIds: [MANAGER_LEARNER] });
    expect(noopReason(planEmployee({ desired: want(), match: byId(current), context: context() }))).toBe(
      'learner 64f1c2a9e4b0a1b2c3d4e5f6 is up to date (lifecycle status is employed)',
    );
  });

  it('an invited learner of an active employee is activated', () => {
    const current = learner({ status: 'invited', managerIds: [MANAGER_LEARNER] });
    expect(ops(planEmployee({ desired: want(), match: byId(current), context: context() }))).toEqual([
      { op: 'activate', reason: 'lifecycle status is employed' },
    ]);
  });

  it('email change in HiBob: an update of mail on the same learner, never a new one', () => {
    const current = learner({
      managerIds: [MANAGER_LEARNER],
      fields: { ...learner().fields, mail: 'jane.smith@example.com' },
    });
    const plan = planEmployee({ desired: want(), match: byId(current), context: context() });
    expect(ops(plan)).toEqual([
      {
        op: 'updateFields',
        changes: [
          {
            field: 'mail',
            from: 'jane.smith@example.com',
            to: 'jane.doe@example.com',
            rule: 'fields.mail ← root.email | trim | lowercase',
          },
        ],
        reason: 'update mail; the email changed in HiBob: same learner, new address',
      },
    ]);
    expectConvergence(want(), byId(current), context());
  });

  it('field diffs: set, clear with to: null, leave unreadable alone, compare mail without case', () => {
    const current = learner({
      managerIds: [MANAGER_LEARNER],
      fields: {
        mail: 'Jane.Doe@Example.com',
        firstName: 'Janet',
        lastName: 'Doe',
        job: 'Intern',
        organization: 'Engineering',
        phone: '123',
      },
    });
    const m = mapping({ fields: { phone: { from: 'work.mobilePhone' } } });
    const d = want({ title: null, extra: { 'work.mobilePhone': { value: null } } }, m);
    delete d.fields.organization;
    const plan = planEmployee({ desired: d, match: byId(current), context: context(m) });
    expect(ops(plan)).toEqual([
      {
        op: 'updateFields',
        changes: [
          { field: 'firstName', from: 'Janet', to: 'Jane', rule: 'fields.firstName ← root.firstName | trim' },
          { field: 'job', from: 'Intern', to: null, rule: 'fields.job ← work.title (label)' },
          { field: 'phone', from: '123', to: null, rule: 'fields.phone ← work.mobilePhone' },
        ],
        reason: 'update firstName, job, phone',
      },
    ]);
    expectConvergence(d, byId(current), context(m));
  });

  it('a field already empty is not cleared again', () => {
    const current = learner({
      managerIds: [MANAGER_LEARNER],
      fields: { mail: 'jane.doe@example.com', firstName: 'Jane', lastName: 'Doe', organization: 'Engineering' },
    });
    expect(
      planEmployee({ desired: want({ title: null }), match: byId(current), context: context() }).outcome.kind,
    ).toBe('noop');
  });

  it('custom fields: owned values change, null removes, values the mapping does not own are kept', () => {
    const current = learner({
      managerIds: [MANAGER_LEARNER],
      groups: [],
      customFields: { Department: 'Sales', Contract: 'Permanent', 'Set by hand': 'keep me' },
    });
    const m = mapping({ customFields: withGroups.customFields });
    const d = want({ extra: { 'payroll.employment.contract': { value: null } } }, m);
    const plan = planEmployee({ desired: d, match: byId(current), context: context(m) });
    expect(ops(plan)).toEqual([
      {
        op: 'setCustomFields',
        values: { Department: 'Engineering', 'Set by hand': 'keep me' },
        changes: [
          {
            field: 'Department',
            from: 'Sales',
            to: 'Engineering',
            rule: 'customFields "Department" ← work.department (label)',
          },
          {
            field: 'Contract',
            from: 'Permanent',
            to: null,
            rule: 'customFields "Contract" ← payroll.employment.contract',
          },
        ],
        reason: 'custom fields "Department", "Contract" changed; other values kept',
      },
    ]);
    const after = expectConvergence(d, byId(current), context(m));
    expect(after.customFields).toEqual({ Department: 'Engineering', 'Set by hand': 'keep me' });
  });

  it('custom fields unreadable in HiBob are not written', () => {
    const current = learner({
      managerIds: [MANAGER_LEARNER],
      customFields: { Department: 'Engineering', Contract: 'Permanent' },
    });
    const m = mapping({ customFields: withGroups.customFields });
    expect(planEmployee({ desired: want({}, m), match: byId(current), context: context(m) }).outcome.kind).toBe('noop');
  });

  it('groups: add the missing, remove managed roles no rule gives, never touch unmanaged or undecidable roles; removals first', () => {
    const current = learner({
      managerIds: [MANAGER_LEARNER],
      groups: [
        { groupId: GROUP_DEFAULT, role: 'learner' },
        { groupId: GROUP_SALES, role: 'learner' },
        { groupId: GROUP_SALES, role: 'coach' },
        { groupId: GROUP_ENG, role: 'admin' },
        { groupId: GROUP_LONDON, role: 'coach' },
      ],
    });
    const m = mapping({ groups: withGroups.groups });
    const d = want({}, m);
    expect(d.heldGroups).toEqual([{ groupId: GROUP_SALES, role: 'coach' }]);
    const plan = planEmployee({ desired: d, match: byId(current), context: context(m) });
    expect(ops(plan)).toEqual([
      {
        op: 'removeGroupRole',
        group: { groupId: GROUP_SALES, role: 'learner' },
        reason: `no group rule gives learner in ${GROUP_SALES} any more`,
      },
      {
        op: 'addGroupRole',
        group: { groupId: GROUP_ENG, role: 'learner' },
        reason: 'groups[0]: work.department (label) equals "Engineering"',
      },
    ]);
    const after = expectConvergence(d, byId(current), context(m));
    expect(after.groups).toEqual([
      { groupId: GROUP_DEFAULT, role: 'learner' },
      { groupId: GROUP_SALES, role: 'coach' },
      { groupId: GROUP_ENG, role: 'admin' },
      { groupId: GROUP_LONDON, role: 'coach' },
      { groupId: GROUP_ENG, role: 'learner' },
    ]);
  });

  it('a value a strict custom field does not list parks the employee, unless the learner already has it', () => {
    const m = mapping({ customFields: withGroups.customFields });
    const current = learner({ managerIds: [MANAGER_LEARNER], customFields: { Department: 'Sales' } });
    const refused = [{ field: 'Department', value: 'Engineering' }];
    const parked = planEmployee({ desired: want({}, m), match: byId(current), context: context(m), refused });
    expect(parked.outcome).toEqual({
      kind: 'park',
      code: 'unauthorizedValue',
      reason:
        '"Engineering" is not an authorized value of custom field "Department" (authorizedValues: strict); add it in the LMS or change it in HiBob',
    });
    const already = learner({ managerIds: [MANAGER_LEARNER], customFields: { Department: 'Engineering' } });
    expect(
      planEmployee({ desired: want({}, m), match: byId(already), context: context(m), refused }).outcome.kind,
    ).not.toBe('park');
  });

  describe('with an ownership record', () => {
    const m = mapping({ groups: withGroups.groups });
    const current = (groups: GroupRole[]) => learner({ managerIds: [MANAGER_LEARNER], groups });
    const plan = (groups: GroupRole[], owned: OwnedGroupRole[], over: MappingConfig = m) =>
      planEmployee({ desired: want({}, over), match: byId(current(groups)), context: context(over), owned });

    it('removes a role bobsync gave that its rule no longer gives, naming the rule', () => {
      const removed = ops(
        plan(
          [
            { groupId: GROUP_ENG, role: 'learner' },
            { groupId: GROUP_SALES, role: 'learner' },
          ],
          [{ groupId: GROUP_SALES, role: 'learner', rule: 'groups[1]: work.department (label) equals "Sales"' }],
        ),
      ).filter((o) => o.op === 'removeGroupRole');
      expect(removed).toEqual([
        {
          op: 'removeGroupRole',
          group: { groupId: GROUP_SALES, role: 'learner' },
          reason: `the rule that gave learner in ${GROUP_SALES} (groups[1]: work.department (label) equals "Sales") no longer matches this employee`,
        },
      ]);
    });

    it('never removes a role given by hand, even one a rule manages', () => {
      const p = plan(
        [
          { groupId: GROUP_ENG, role: 'learner' },
          { groupId: GROUP_SALES, role: 'learner' },
          { groupId: GROUP_ENG, role: 'coach' },
        ],
        [],
      );
      expect(ops(p).filter((o) => o.op === 'removeGroupRole')).toEqual([]);
    });

    it('removes a role whose rule left the config, and says so', () => {
      const withoutLondon = mapping({ groups: withGroups.groups.filter((g) => g.groupId !== GROUP_LONDON) });
      const removed = ops(
        plan(
          [
            { groupId: GROUP_ENG, role: 'learner' },
            { groupId: GROUP_LONDON, role: 'coach' },
          ],
          [{ groupId: GROUP_LONDON, role: 'coach', rule: 'groups[3]: work.site equals "London"' }],
          withoutLondon,
        ),
      ).filter((o) => o.op === 'removeGroupRole');
      expect(removed).toEqual([
        {
          op: 'removeGroupRole',
          group: { groupId: GROUP_LONDON, role: 'coach' },
          reason: `the rule that gave coach in ${GROUP_LONDON} (groups[3]: work.site equals "London") is no longer in the config`,
        },
      ]);
    });
  });

  it('group ids compare without case', () => {
    const m = mapping({ groups: withGroups.groups });
    const current = learner({
      managerIds: [MANAGER_LEARNER],
      groups: [
        { groupId: GROUP_ENG.toUpperCase(), role: 'learner' },
        { groupId: GROUP_LONDON, role: 'coach' },
      ],
    });
    expect(planEmployee({ desired: want({}, m), match: byId(current), context: context(m) }).outcome.kind).toBe('noop');
  });
});

describe('planEmployee: managers', () => {
  it('the HiBob manager without a learner yet is deferred, never dropped', () => {
    const plan = planEmployee({ desired: want(), match: byId(learner()), context: context(mapping(), {}) });
    expect(ops(plan)).toEqual([
      {
        op: 'deferManager',
        managerEmployeeId: MANAGER,
        reason: `manager ${MANAGER} (work.reportsTo) has no learner yet; linked once it exists`,
      },
    ]);
  });

  it('a manager change adds the new one, then removes the previous linked one; a hand-set manager stays', () => {
    const current = learner({ managerIds: [OLD_MANAGER_LEARNER, MANUAL_MANAGER_LEARNER] });
    const plan = planEmployee({ desired: want(), match: byId(current), context: context() });
    expect(ops(plan)).toEqual([
      {
        op: 'addManager',
        managerLearnerId: MANAGER_LEARNER,
        reason: `HiBob manager ${MANAGER} (work.reportsTo) is learner ${MANAGER_LEARNER}`,
      },
      {
        op: 'removeManager',
        managerLearnerId: OLD_MANAGER_LEARNER,
        reason: `learner ${OLD_MANAGER_LEARNER} is no longer the HiBob manager`,
      },
    ]);
    const after = expectConvergence(want(), byId(current), context());
    expect(after.managerIds).toEqual([MANUAL_MANAGER_LEARNER, MANAGER_LEARNER]);
  });

  it('linkedManagerLearnerIds tells which current managers came from HiBob', () => {
    const current = learner({ managerIds: [MANAGER_LEARNER, MANUAL_MANAGER_LEARNER] });
    const ctx = {
      ...context(mapping(), { [MANAGER]: MANAGER_LEARNER }),
      linkedManagerLearnerIds: [MANUAL_MANAGER_LEARNER],
    };
    expect(ops(planEmployee({ desired: want(), match: byId(current), context: ctx }))).toEqual([
      {
        op: 'removeManager',
        managerLearnerId: MANUAL_MANAGER_LEARNER,
        reason: `learner ${MANUAL_MANAGER_LEARNER} is no longer the HiBob manager`,
      },
    ]);
  });

  it('no manager in HiBob removes the linked managers; an unreadable manager touches nothing', () => {
    const current = learner({ managerIds: [MANAGER_LEARNER, MANUAL_MANAGER_LEARNER] });
    expect(ops(planEmployee({ desired: want({ reportsTo: null }), match: byId(current), context: context() }))).toEqual(
      [
        {
          op: 'removeManager',
          managerLearnerId: MANAGER_LEARNER,
          reason: 'HiBob lists no manager (work.reportsTo is empty)',
        },
      ],
    );
    const unreadable = want();
    delete unreadable.managerEmployeeId;
    expect(planEmployee({ desired: unreadable, match: byId(current), context: context() }).outcome.kind).toBe('noop');
  });

  it('a deferred manager is picked up once it has a learner (the fingerprint changes)', () => {
    const d = want();
    const before = planEmployee({ desired: d, match: byId(learner()), context: context(mapping(), {}) });
    const after = planEmployee({
      desired: d,
      match: byId(learner()),
      context: context(),
      previousFingerprint: before.fingerprint,
    });
    expect(after.fingerprint).not.toBe(before.fingerprint);
    expect(opNames(ops(after))).toEqual(['addManager']);
  });
});

describe('planEmployee: leavers', () => {
  it('an inactive employee with an active learner: final field updates, then deactivate last; groups and managers left alone', () => {
    const m = mapping({ groups: withGroups.groups });
    const current = learner({
      managerIds: [OLD_MANAGER_LEARNER],
      fields: { ...learner().fields, job: 'Intern' },
      groups: [{ groupId: GROUP_SALES, role: 'learner' }],
    });
    const d = want({ lifecycleStatus: 'terminated', internalStatus: 'Inactive' }, m);
    const plan = planEmployee({ desired: d, match: byId(current), context: context(m) });
    expect(opNames(ops(plan))).toEqual(['updateFields', 'deactivate']);
    expect(ops(plan)[1]).toEqual({ op: 'deactivate', reason: 'lifecycle status is terminated' });
    expectConvergence(d, byId(current), context(m));
  });

  it('a future leaver stays active and is rechecked at the end of the last day', () => {
    const plan = planEmployee({
      desired: want({ terminationDate: '2026-03-31' }),
      match: byId(learner({ managerIds: [MANAGER_LEARNER] })),
      context: context(),
    });
    expect(plan.outcome.kind).toBe('noop');
    expect(plan.recheckAt).toBe('2026-04-01T00:00:00.000Z');
    const then = planEmployee({
      desired: want({ terminationDate: '2026-03-31' }, mapping(), new Date(plan.recheckAt!)),
      match: byId(learner({ managerIds: [MANAGER_LEARNER] })),
      context: context(),
    });
    expect(opNames(ops(then))).toEqual(['deactivate']);
  });

  it('an invited learner of an inactive employee is deactivated too', () => {
    expect(
      opNames(
        ops(
          planEmployee({
            desired: want({ lifecycleStatus: 'terminated' }),
            match: byId(learner({ status: 'invited' })),
            context: context(),
          }),
        ),
      ),
    ).toEqual(['deactivate']);
  });

  it('deleted learner + inactive employee → noop', () => {
    const plan = planEmployee({
      desired: want({ lifecycleStatus: 'terminated' }),
      match: byId(learner({ status: 'deleted' })),
      context: context(),
    });
    expect(noopReason(plan)).toBe(
      'learner 64f1c2a9e4b0a1b2c3d4e5f6 is already deactivated (lifecycle status is terminated)',
    );
  });
});

describe('planEmployee: rehire', () => {
  const rehired: RawEmployeeSpec = {
    startDate: '2026-03-01',
    terminationDate: '2025-06-30',
    lastDayOfWork: '2025-06-30',
    email: 'jane.new@example.com',
  };

  it('restores the same deleted learner with its old address, then updates, re-adds roles and manager, then activates', () => {
    const m = mapping({ groups: withGroups.groups });
    const current = learner({
      status: 'deleted',
      managerIds: [MANAGER_LEARNER],
      groups: [{ groupId: GROUP_ENG, role: 'learner' }],
    });
    const d = want(rehired, m);
    const plan = planEmployee({ desired: d, match: byId(current), context: context(m) });
    const list = ops(plan);
    expect(opNames(list)).toEqual([
      'restore',
      'updateFields',
      'addGroupRole',
      'addGroupRole',
      'addManager',
      'activate',
    ]);
    expect(list[0]).toEqual({
      op: 'restore',
      fields: {
        mail: 'jane.doe@example.com',
        firstName: 'Jane',
        lastName: 'Doe',
        job: 'Software Engineer',
        organization: 'Engineering',
      },
      membership: { groupId: GROUP_DEFAULT, role: 'learner' },
      reason:
        'rehire or return: learner 64f1c2a9e4b0a1b2c3d4e5f6 was deactivated; restoring the same account keeps its training history (lifecycle status is employed)',
    });
    expect(list[1]).toMatchObject({
      op: 'updateFields',
      changes: [{ field: 'mail', from: 'jane.doe@example.com', to: 'jane.new@example.com' }],
    });
    const after = expectConvergence(d, byId(current), context(m));
    expect(after).toMatchObject({
      learnerId: current.learnerId,
      status: 'active',
      fields: { mail: 'jane.new@example.com' },
    });
  });

  it('a deleted learner whose employee starts again later stays deleted until then', () => {
    const back: RawEmployeeSpec = {
      lifecycleStatus: 'hired',
      internalStatus: 'Inactive',
      startDate: '2026-04-15',
      terminationDate: '2025-06-30',
    };
    const plan = planEmployee({ desired: want(back), match: byId(learner({ status: 'deleted' })), context: context() });
    expect(noopReason(plan)).toContain('stays deactivated for now: starts on 2026-04-15');
    expect(plan.recheckAt).toBe('2026-04-15T00:00:00.000Z');
  });

  it('an existing active learner of a future hire is kept as it is, with fields kept up to date', () => {
    const back: RawEmployeeSpec = {
      lifecycleStatus: 'hired',
      internalStatus: 'Inactive',
      startDate: '2026-04-15',
      firstName: 'Janet',
    };
    const plan = planEmployee({
      desired: want(back),
      match: byId(learner({ managerIds: [MANAGER_LEARNER] })),
      context: context(),
    });
    expect(opNames(ops(plan))).toEqual(['updateFields']);
    expect(plan.recheckAt).toBe('2026-04-15T00:00:00.000Z');
  });

  it('a deleted learner without an address is restored with the HiBob address', () => {
    const current = learner({ status: 'deleted', fields: {}, managerIds: [] });
    const plan = planEmployee({ desired: want(), match: byId(current), context: context() });
    expect(ops(plan)[0]).toMatchObject({ op: 'restore', fields: { mail: 'jane.doe@example.com' } });
  });
});

describe('planEmployee: matched by email', () => {
  it('an unlinked learner is adopted: link first, then the usual updates', () => {
    const current = learner({
      externalId: undefined,
      status: 'invited',
      managerIds: [MANAGER_LEARNER],
      fields: { mail: 'jane.doe@example.com' },
    });
    const plan = planEmployee({ desired: want(), match: byEmail(current), context: context() });
    expect(opNames(ops(plan))).toEqual(['linkExternalId', 'updateFields', 'activate']);
    expect(ops(plan)[0]).toEqual({
      op: 'linkExternalId',
      reason: 'adopt learner 64f1c2a9e4b0a1b2c3d4e5f6 found by email: store the HiBob employee id',
    });
    expect(expectConvergence(want(), byEmail(current), context()).externalId).toBe(EMPLOYEE);
  });

  it('a deleted unlinked learner is restored and adopted', () => {
    const current = learner({ externalId: undefined, status: 'deleted', managerIds: [MANAGER_LEARNER] });
    expect(opNames(ops(planEmployee({ desired: want(), match: byEmail(current), context: context() })))).toEqual([
      'restore',
      'linkExternalId',
      'addManager',
      'activate',
    ]);
  });

  it('a learner linked to another employee is never merged: conflict', () => {
    const current = learner({ externalId: '3332883894235000000' });
    expect(planEmployee({ desired: want(), match: byEmail(current), context: context() }).outcome).toEqual({
      kind: 'park',
      reason:
        'learner 64f1c2a9e4b0a1b2c3d4e5f6 has this email but is linked to HiBob employee 3332883894235000000; two people are never merged, resolve it by hand',
      code: 'conflict',
    });
    const leaver = planEmployee({
      desired: want({ lifecycleStatus: 'terminated' }),
      match: byEmail(current),
      context: context(),
    });
    expect(noopReason(leaver)).toContain('nothing to do for an employee who is inactive');
  });

  it('an email match that is already linked to this employee counts as linked', () => {
    const current = learner({ managerIds: [MANAGER_LEARNER] });
    expect(planEmployee({ desired: want(), match: byEmail(current), context: context() }).outcome.kind).toBe('noop');
  });

  it('in real time, an inactive employee does not adopt (and so never deactivates) a learner found by email only', () => {
    const current = learner({ externalId: undefined });
    expect(
      noopReason(
        planEmployee({ desired: want({ lifecycleStatus: 'terminated' }), match: byEmail(current), context: context() }),
      ),
    ).toBe(
      'learner 64f1c2a9e4b0a1b2c3d4e5f6 has this email but is not linked; an inactive employee does not adopt it in real time (lifecycle status is terminated)',
    );
  });

  it('a destination that links on create (SCIM externalId in the POST) gets no separate link step', () => {
    const m = mapping();
    const withLink = planEmployee({ desired: want({}, m), match: none, context: context(m) });
    const scim = planEmployee({
      desired: want({}, m),
      match: none,
      context: planContextFor(m, { createsActiveLearners: true, linksOnCreate: true }),
    });
    expect(ops(withLink).map((o) => o.op)).toContain('linkExternalId');
    expect(ops(scim).map((o) => o.op)).not.toContain('linkExternalId');
    expect(ops(scim)[0]!.op).toBe('create');
  });

  it('in a full sync (adoptLeavers), a leaver’s learner found by email is linked, then deactivated last', () => {
    const current = learner({ externalId: undefined });
    const plan = planEmployee({
      desired: want({ lifecycleStatus: 'terminated' }),
      match: byEmail(current),
      context: { ...context(), adoptLeavers: true },
    });
    const kinds = ops(plan).map((o) => o.op);
    expect(kinds[0]).toBe('linkExternalId');
    expect(kinds.at(-1)).toBe('deactivate');
    expect(kinds).not.toContain('addGroupRole');
    expect(plan.outcome.kind === 'apply' && plan.outcome.operations[0]!.reason).toContain('belongs to a HiBob leaver');
  });

  it('a leaver’s learner already deactivated is neither linked nor touched, even in a full sync', () => {
    const current = learner({ externalId: undefined, status: 'deleted' });
    const plan = planEmployee({
      desired: want({ lifecycleStatus: 'terminated' }),
      match: byEmail(current),
      context: { ...context(), adoptLeavers: true },
    });
    expect(noopReason(plan)).toContain('already deactivated');
  });

  it('a learner linked to another employee is never taken over by a leaver, even in a full sync', () => {
    const current = learner({ externalId: '3332883894235000000' });
    const plan = planEmployee({
      desired: want({ lifecycleStatus: 'terminated' }),
      match: byEmail(current),
      context: { ...context(), adoptLeavers: true },
    });
    expect(plan.outcome.kind).toBe('noop');
  });
});

describe('planEmployee: scope', () => {
  const m = mapping({ scope: { exclude: { field: 'work.site', equals: 'London' } } });

  it('out of scope and no learner: not created', () => {
    expect(noopReason(planEmployee({ desired: want({}, m), match: none, context: context(m) }))).toBe(
      'out of scope: scope.exclude matches (work.site equals "London"); no learner is created',
    );
  });

  it('leaving the scope deactivates the linked learner (only that)', () => {
    expect(ops(planEmployee({ desired: want({}, m), match: byId(learner()), context: context(m) }))).toEqual([
      {
        op: 'deactivate',
        reason: 'out of scope: scope.exclude matches (work.site equals "London"); scope.onLeaveScope is deactivate',
      },
    ]);
  });

  it('onLeaveScope: ignore keeps it; a deleted or unlinked learner is left alone', () => {
    const ignoring = mapping({ scope: { ...m.scope, onLeaveScope: 'ignore' } });
    expect(
      noopReason(planEmployee({ desired: want({}, ignoring), match: byId(learner()), context: context(ignoring) })),
    ).toContain('scope.onLeaveScope is ignore');
    expect(
      noopReason(
        planEmployee({ desired: want({}, m), match: byId(learner({ status: 'deleted' })), context: context(m) }),
      ),
    ).toContain('is already deactivated');
    expect(
      noopReason(
        planEmployee({ desired: want({}, m), match: byEmail(learner({ externalId: undefined })), context: context(m) }),
      ),
    ).toContain('found by email is not linked and is left alone');
  });

  it('out of scope never parks for a conflict', () => {
    expect(
      planEmployee({ desired: want({}, m), match: byEmail(learner({ externalId: '1' })), context: context(m) }).outcome
        .kind,
    ).toBe('noop');
  });
});

describe('planEmployee: ordering of a plan that does everything', () => {
  it('link → updateFields → setCustomFields → group removals → group additions → managers → activate', () => {
    const current = learner({
      externalId: undefined,
      status: 'invited',
      fields: { mail: 'jane.doe@example.com', firstName: 'J' },
      customFields: { Department: 'Sales' },
      groups: [{ groupId: GROUP_SALES, role: 'learner' }],
      managerIds: [OLD_MANAGER_LEARNER],
    });
    const plan = planEmployee({ desired: want({}, withGroups), match: byEmail(current), context: context(withGroups) });
    expect(opNames(ops(plan))).toEqual([
      'linkExternalId',
      'updateFields',
      'setCustomFields',
      'removeGroupRole',
      'addGroupRole',
      'addGroupRole',
      'addManager',
      'removeManager',
      'activate',
    ]);
    expectConvergence(want({}, withGroups), byEmail(current), context(withGroups));
  });
});

describe('planEmployee: parked employees and fingerprints', () => {
  it('a parked employee gives a park plan with a fingerprint', () => {
    const parked = desiredLearner(employee({ email: null }), mapping(), NOW);
    const plan = planEmployee({ desired: parked, match: none, context: context() });
    expect(plan).toEqual({
      employeeId: EMPLOYEE,
      fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
      outcome: { kind: 'park', reason: 'HiBob holds no email for this employee', code: 'missingEmail' },
    });
  });

  it('is stable for equal inputs built in a different key order', () => {
    const a = want();
    const b = JSON.parse(JSON.stringify(a)) as DesiredLearner;
    const reordered = Object.fromEntries(Object.entries(b).reverse()) as unknown as DesiredLearner;
    reordered.fields = Object.fromEntries(Object.entries(b.fields).reverse());
    expect(planFingerprint(reordered, byId(learner()), context())).toBe(planFingerprint(a, byId(learner()), context()));
    expect(planEmployee({ desired: a, match: byId(learner()), context: context() }).fingerprint).toBe(
      planFingerprint(a, byId(learner()), context()),
    );
  });

  it('changes when the desired learner, the match or the owned configuration changes', () => {
    const base = planFingerprint(want(), byId(learner()), context());
    expect(planFingerprint(want({ firstName: 'Janet' }), byId(learner()), context())).not.toBe(base);
    expect(planFingerprint(want(), byId(learner({ status: 'deleted' })), context())).not.toBe(base);
    expect(planFingerprint(want(), byId(learner({ learnerId: '64f1c2a9e4b0a1b2c3d4ffff' })), context())).not.toBe(base);
    expect(planFingerprint(want(), none, context())).not.toBe(base);
    expect(planFingerprint(want(), byId(learner()), context(withGroups))).not.toBe(base);
    expect(planFingerprint(want(), byId(learner()), { ...context(), onLeaveScope: 'ignore' })).not.toBe(base);
    // Field values on the LMS side are not part of it: hand edits are found by a full diff.
    expect(planFingerprint(want(), byId(learner({ fields: {} })), context())).toBe(base);
  });

  it('an unchanged fingerprint skips the diff', () => {
    const d = want({ firstName: 'Janet' });
    const first = planEmployee({ desired: d, match: byId(learner()), context: context() });
    expect(first.outcome.kind).toBe('apply');
    const again = planEmployee({
      desired: d,
      match: byId(learner()),
      context: context(),
      previousFingerprint: first.fingerprint,
    });
    expect(again).toEqual({
      employeeId: EMPLOYEE,
      fingerprint: first.fingerprint,
      outcome: { kind: 'noop', reason: 'unchanged since the last applied plan' },
    });
  });

  it('the fingerprint moves with time only when the status decision does', () => {
    const hire: RawEmployeeSpec = { lifecycleStatus: 'hired', internalStatus: 'Inactive', startDate: '2026-04-01' };
    const early = planFingerprint(want(hire, mapping(), NOW), none, context());
    expect(planFingerprint(want(hire, mapping(), new Date('2026-03-20T08:00:00Z')), none, context())).toBe(early);
    expect(planFingerprint(want(hire, mapping(), new Date('2026-04-01T08:00:00Z')), none, context())).not.toBe(early);
  });
});

describe('planEmployee: idempotence over many shapes', () => {
  const shapes: [string, RawEmployeeSpec, CurrentLearner | undefined, 'email' | 'externalId'][] = [
    ['new joiner', {}, undefined, 'externalId'],
    [
      'sales mover',
      { department: { id: '7', label: 'Sales' }, site: 'Paris' },
      learner({ groups: [{ groupId: GROUP_ENG, role: 'learner' }] }),
      'externalId',
    ],
    ['renamed', { firstName: 'Janet', surname: 'Smith', email: 'janet.smith@example.com' }, learner(), 'externalId'],
    [
      'rehire',
      { startDate: '2026-03-01', terminationDate: '2025-06-30' },
      learner({ status: 'deleted', managerIds: [OLD_MANAGER_LEARNER] }),
      'externalId',
    ],
    [
      'adopted',
      {},
      learner({ externalId: undefined, status: 'invited', fields: { mail: 'jane.doe@example.com' } }),
      'email',
    ],
    [
      'on leave',
      { lifecycleStatus: 'parental leave', internalStatus: 'Inactive' },
      learner({ status: 'invited' }),
      'externalId',
    ],
    [
      'leaver',
      { lifecycleStatus: 'terminated', title: null },
      learner({ customFields: { Department: 'Old' } }),
      'externalId',
    ],
  ];

  it.each(shapes)('%s converges in one plan', (_name, spec, current, kind) => {
    const d = want(spec, withGroups);
    const match: Match = current ? { kind, learner: current } : none;
    expectConvergence(d, match, context(withGroups));
  });
});

describe('the domain barrel, end to end', () => {
  it('turns a HiBob response into a plan through the public exports only', async () => {
    const domain = await import('../../src/domain');
    const m = domain.mappingSchema.parse({ status: { siteTimeZones: { London: 'Europe/London' } } });
    const raw = {
      id: '3332883894235038486',
      email: 'Jane.Doe@Example.com',
      firstName: 'Jane',
      surname: 'Doe',
      work: { title: '101', department: '209192163', site: 'London', startDate: '2026-03-30', reportsTo: null },
      internal: { status: 'Inactive', lifecycleStatus: 'hired', terminationDate: null },
      humanReadable: { work: { title: 'Analyst', department: 'Finance' } },
    };
    const e = domain.normaliseEmployee(raw, { siteTimeZones: m.status.siteTimeZones });
    expect(e.siteTimeZone).toBe('Europe/London');
    const d = domain.desiredLearner(e, m, NOW);
    const plan = domain.planEmployee({
      desired: d,
      match: { kind: 'none' },
      context: domain.planContextFor(m, { defaultGroupId: GROUP_DEFAULT }),
    });
    expect(plan.outcome).toEqual({
      kind: 'noop',
      reason: 'no learner yet: starts on 2026-03-30; activation at 2026-03-30 00:00 Europe/London',
    });
    expect(plan.recheckAt).toBe('2026-03-29T23:00:00.000Z');
    const then = domain.planEmployee({
      desired: domain.desiredLearner(e, m, new Date(plan.recheckAt!)),
      match: { kind: 'none' },
      context: domain.planContextFor(m, { defaultGroupId: GROUP_DEFAULT }),
    });
    expect(then.outcome.kind === 'apply' && then.outcome.operations.map((o) => o.op)).toEqual([
      'create',
      'linkExternalId',
      'activate',
    ]);
    expect(then.outcome.kind === 'apply' && then.outcome.operations[0]).toMatchObject({
      fields: { mail: 'jane.doe@example.com', job: 'Analyst', organization: 'Finance' },
    });
    expect(domain.hibobFieldsFor(m)).toContain('work.reportsTo');
  });
});
