/**
 * The decisions of a full sync's plan, without any I/O: each HiBob employee planned from the
 * LMS snapshot or through a deep lookup, two people with one address, employees already in
 * step, effective dates handed on to the employees' workflows, learners whose employee HiBob no
 * longer returns, the safeguard, the order of the writes and what the run waits for.
 */
import {
  approvalFor,
  applyOrder,
  countByAction,
  decideApproval,
  GONE_DIGEST,
  goneRows,
  learnerOfUnmatchedKey,
  holdDeactivations,
  managerDepths,
  pendingTimers,
  planFullRun,
  planPopulation,
  READ_IN_FULL_REASON,
  settledFingerprints,
  statusAfter,
  problemRows,
  SnapshotIndex,
  splitHeld,
  unmatchedLearnerKey,
  type DeepLookup,
  type FullRunInput,
  type LmsSnapshot,
  type PlannedRow,
  type PopulationInput,
  type SnapshotUser,
} from '../../src/domain/full-plan';
import { desiredLearner } from '../../src/domain/desired';
import { normaliseEmployee } from '../../src/domain/normalise';
import type { CurrentLearner, EmployeeAction } from '../../src/domain/types';
import { GROUP_DEFAULT, learner, mapping, NOW, rawEmployee, type RawEmployeeSpec } from './domain-fixtures';

const JANE = '3332883894235038486';
const JANE_LEARNER = '64f1c2a9e4b0a1b2c3d4e5f6';
const DAY = 86_400_000;

/** The snapshot view of a learner: its list entry, its HiBob link and its group roles. */
function snapshotOf(learners: CurrentLearner[], complete = false): LmsSnapshot {
  return {
    users: learners.map((l): SnapshotUser => ({ learnerId: l.learnerId, status: l.status, fields: l.fields })),
    externalIds: learners.flatMap((l) => (l.externalId ? [{ value: l.externalId, targetId: l.learnerId }] : [])),
    groupRoles: learners.flatMap((l) => l.groups.map((g) => ({ ...g, userId: l.learnerId }))),
    complete,
  };
}

/** A HiBob person with no manager (a manager without a learner would make every plan wait for one). */
const person = (spec: RawEmployeeSpec) => rawEmployee({ reportsTo: null, ...spec });

/** A lookup that must not be called: the snapshot settles everyone. */
const noLookup: DeepLookup = (employeeId) => Promise.reject(new Error(`unexpected lookup of ${employeeId}`));

function population(records: Record<string, unknown>[], over: Partial<PopulationInput> = {}): PopulationInput {
  return {
    records,
    mapping: mapping(),
    destination: { defaultGroupId: GROUP_DEFAULT },
    index: new SnapshotIndex(snapshotOf([], true)),
    protectedUsers: [],
    fingerprints: {},
    now: NOW,
    horizonEnd: NOW.getTime() + 30 * DAY,
    ...over,
  };
}

/** A plan row with only what the run's decisions read. */
const row = (employeeId: string, action: EmployeeAction, extra: Partial<PlannedRow> = {}): PlannedRow => ({
  employeeId,
  action,
  changes: [],
  operations: [],
  reason: '',
  fingerprint: `fp:${employeeId}`,
  ...extra,
});

describe('planPopulation', () => {
  it('parks the second of two HiBob people with one address as a conflict, and creates the first', async () => {
    const first = person({ id: '3332883894235038501', email: 'sam.lee@example.com', firstName: 'Sam', surname: 'Lee' });
    const second = person({
      id: '3332883894235038502',
      email: 'Sam.Lee@example.com',
      firstName: 'Samuel',
      surname: 'Lee',
    });
    const plan = await planPopulation(population([first, second]), noLookup);
    expect(plan.rows.map((r) => [r.employeeId, r.action])).toEqual([
      ['3332883894235038501', 'create'],
      ['3332883894235038502', 'park'],
    ]);
    expect(plan.rows[1]!.reason).toBe(
      'HiBob employee 3332883894235038501 has the same email (sam.lee@example.com); two people are never merged, resolve it in HiBob',
    );
    expect([...plan.seen]).toEqual(['3332883894235038501', '3332883894235038502']);
  });

  it('puts an employee in step under unchanged with its fingerprint, not among the rows, and reads the learner again only when the fingerprint differs', async () => {
    const jane = learner();
    const lookups: string[] = [];
    const lookup: DeepLookup = async (employeeId, _record, learnerId) => {
      lookups.push(`${employeeId} → ${learnerId}`);
      return { match: { kind: 'externalId', learner: jane }, managerLearnerIds: {}, linkedManagerLearnerIds: [] };
    };
    const input = population([person({})], { index: new SnapshotIndex(snapshotOf([jane])) });

    // No fingerprint from a last run: the snapshot cannot tell, so the learner is read in full.
    const first = await planPopulation(input, lookup);
    expect(lookups).toEqual([`${JANE} → ${JANE_LEARNER}`]);
    expect(first.rows).toEqual([]);
    expect(Object.keys(first.unchanged)).toEqual([JANE]);

    // The fingerprint the last run recorded is equal: planned from the snapshot alone.
    const again = await planPopulation({ ...input, fingerprints: first.unchanged }, lookup);
    expect(lookups).toHaveLength(1);
    expect(again.rows).toEqual([]);
    expect(again.unchanged).toEqual(first.unchanged);
  });

  describe('an employee in step at the last run who changed since', () => {
    const jane = learner({ customFields: { Site: 'London' } });
    const lookups: string[] = [];
    const lookup: DeepLookup = async (employeeId) => {
      lookups.push(employeeId);
      return { match: { kind: 'externalId', learner: jane }, managerLearnerIds: {}, linkedManagerLearnerIds: [] };
    };
    // The site is a custom field: 360Learning's paged lists do not show custom values.
    const siteMapping = mapping({ customFields: [{ name: 'Site', source: { from: 'work.site' } }] });
    /** Jane in step at the last run (her fingerprint recorded), then `changed` in HiBob. */
    async function plan(changed: RawEmployeeSpec, changedFromSnapshot: boolean) {
      lookups.length = 0;
      const base = { index: new SnapshotIndex(snapshotOf([jane])), mapping: siteMapping };
      const last = await planPopulation(population([person({ site: 'London' })], base), lookup);
      expect(Object.keys(last.unchanged)).toEqual([JANE]);
      lookups.length = 0;
      const input = population([person({ site: 'London', ...changed })], {
        ...base,
        fingerprints: last.unchanged,
        changedFromSnapshot,
      });
      return planPopulation(input, lookup);
    }

    it('is planned from the snapshot when what changed is in it: no learner read in full', async () => {
      const planned = await plan({ surname: 'Smith' }, true);
      expect(lookups).toEqual([]);
      expect(planned.rows.map((r) => [r.action, r.operations, r.changes.map((c) => [c.field, c.from, c.to])])).toEqual([
        ['update', ['updateFields'], [['lastName', 'Doe', 'Smith']]],
      ]);
      expect(planned.unchanged).toEqual({});
    });

    it('goes to its workflow to be read in full when what changed is not in the snapshot', async () => {
      const planned = await plan({ site: 'Paris' }, true);
      expect(lookups).toEqual([]);
      expect(planned.rows).toHaveLength(1);
      expect(planned.rows[0]).toMatchObject({ employeeId: JANE, action: 'update', operations: [], changes: [] });
      expect(planned.rows[0]!.reason).toBe(READ_IN_FULL_REASON);
      // Not recorded as in step: its workflow's outcome decides.
      expect(planned.unchanged).toEqual({});
    });

    it('is read in full when the plan must be exact (changedFromSnapshot off)', async () => {
      const planned = await plan({ site: 'Paris' }, false);
      expect(lookups).toEqual([JANE]);
      expect(planned.rows.map((r) => [r.action, r.operations])).toEqual([['update', ['setCustomFields']]]);
    });
  });

  it('makes a row of an employee with changes, with the fingerprint, the source digest and the learner', async () => {
    const stale = learner({ fields: { ...learner().fields, lastName: 'Smith' } });
    const plan = await planPopulation(
      population([person({})], { index: new SnapshotIndex(snapshotOf([stale], true)) }),
      noLookup,
    );
    expect(plan.unchanged).toEqual({});
    expect(plan.rows).toHaveLength(1);
    expect(plan.rows[0]).toMatchObject({
      employeeId: JANE,
      action: 'update',
      learnerId: JANE_LEARNER,
      displayName: 'Jane Doe',
      email: 'jane.doe@example.com',
    });
    expect(plan.rows[0]!.changes).toContainEqual(
      expect.objectContaining({ field: 'lastName', from: 'Smith', to: 'Doe' }),
    );
    expect(plan.rows[0]!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(plan.rows[0]!.sourceDigest).toMatch(/^[0-9a-f]{16}$/);
  });

  it('keeps the timer of an effective date within the horizon and leaves one beyond it for a later run', async () => {
    const soon = person({
      id: '3332883894235038511',
      email: 'soon@example.com',
      lifecycleStatus: 'hired',
      startDate: '2026-03-25',
    });
    const later = person({
      id: '3332883894235038512',
      email: 'later@example.com',
      lifecycleStatus: 'hired',
      startDate: '2026-06-25',
    });
    const plan = await planPopulation(population([soon, later]), noLookup);
    expect(plan.timers).toHaveLength(1);
    expect(plan.timers[0]!.employeeId).toBe('3332883894235038511');
    expect(Date.parse(plan.timers[0]!.at)).toBeGreaterThan(NOW.getTime());
    expect(Date.parse(plan.timers[0]!.at)).toBeLessThanOrEqual(NOW.getTime() + 30 * DAY);
    // Further ahead, the same date is kept.
    const wide = await planPopulation(population([soon, later], { horizonEnd: NOW.getTime() + 365 * DAY }), noLookup);
    expect(wide.timers.map((t) => t.employeeId)).toEqual(['3332883894235038511', '3332883894235038512']);
  });

  it('tells the progress of each employee before planning it', async () => {
    const positions: number[] = [];
    const records = [
      person({ id: '3332883894235038521', email: 'a@example.com' }),
      person({ id: '3332883894235038522', email: 'b@example.com' }),
    ];
    await planPopulation({ ...population(records), progress: (i) => positions.push(i) }, noLookup);
    expect(positions).toEqual([0, 1]);
  });
});

describe('settledFingerprints', () => {
  it('the run after an initial load finds a created learner and its manager unchanged from the snapshot alone', async () => {
    const MANAGER = '3332883894235038601';
    const REPORT = '3332883894235038602';
    const records = [
      person({ id: MANAGER, email: 'boss@example.com', firstName: 'Bo', surname: 'Ss' }),
      rawEmployee({
        id: REPORT,
        email: 'rae@example.com',
        firstName: 'Rae',
        surname: 'Port',
        reportsTo: { id: MANAGER, firstName: 'Bo', surname: 'Ss' },
      }),
    ];
    const empty = new SnapshotIndex(snapshotOf([], false));
    const initial = await planPopulation(population(records, { index: empty }), noLookup);
    expect(initial.rows.map((r) => r.action)).toEqual(['create', 'create']);

    const destination = { defaultGroupId: GROUP_DEFAULT };
    const learnerIds = { [MANAGER]: 'dddddddddddddddddddddd01', [REPORT]: 'dddddddddddddddddddddd02' };
    const settled = initial.rows.map((row, i) => ({
      employeeId: row.employeeId,
      desired: desiredLearner(normaliseEmployee(records[i]!), mapping(), NOW),
      learnerId: learnerIds[row.employeeId as keyof typeof learnerIds],
      operations: row.operations,
    }));
    const fingerprints = settledFingerprints(settled, empty, mapping(), destination);

    // What the LMS shows next time: both learners linked, active.
    const after = Object.entries(learnerIds).map(([employeeId, learnerId], i) =>
      learner({
        learnerId,
        externalId: employeeId,
        fields: { mail: records[i]!.email as string },
        groups: [{ groupId: GROUP_DEFAULT, role: 'learner' }],
      }),
    );
    // noLookup throws: planning must settle both from the snapshot, reading neither learner in full.
    const next = await planPopulation(
      population(records, { index: new SnapshotIndex(snapshotOf(after, false)), fingerprints }),
      noLookup,
    );
    expect(next.rows.filter((r) => r.action !== 'update')).toEqual([]);
    expect(statusAfter(undefined, ['create', 'linkExternalId', 'activate'], destination)).toBe('active');
    expect(statusAfter('active', ['deactivate'], destination)).toBe('deleted');
    expect(statusAfter(undefined, ['create'], { createsActiveLearners: true })).toBe('active');
  });
});

describe('goneRows', () => {
  const gone = (id: string, learnerId: string, mail: string, status: CurrentLearner['status'] = 'active') =>
    learner({ learnerId, externalId: id, status, fields: { mail, firstName: 'Gone', lastName: id.slice(-2) } });
  const index = new SnapshotIndex(
    snapshotOf([
      gone('9990000000000000001', 'aaaaaaaaaaaaaaaaaaaaaaa1', 'one@example.com'),
      gone('9990000000000000002', 'aaaaaaaaaaaaaaaaaaaaaaa2', 'boss@example.com'),
      gone('9990000000000000003', 'aaaaaaaaaaaaaaaaaaaaaaa3', 'three@example.com', 'deleted'),
      gone('9990000000000000004', 'aaaaaaaaaaaaaaaaaaaaaaa4', 'four@example.com'),
    ]),
  );

  it('deactivates the learners of employees HiBob no longer returns, but not a protected one nor one already deleted', () => {
    const rows = goneRows(index, new Set(['9990000000000000004']), ['BOSS@example.com']);
    expect(rows).toEqual([
      {
        employeeId: '9990000000000000001',
        email: 'one@example.com',
        displayName: 'Gone 01',
        learnerId: 'aaaaaaaaaaaaaaaaaaaaaaa1',
        action: 'deactivate',
        changes: [{ field: 'status', from: 'active', to: 'deleted', rule: 'no longer in HiBob' }],
        operations: ['deactivate'],
        reason: 'no longer returned by HiBob (deleted, or outside the service user’s population)',
        fingerprint: 'gone:9990000000000000001',
        sourceDigest: GONE_DIGEST,
      },
    ]);
  });

  it('does not take the employee of a report row HiBob held back for gone', () => {
    const rows = goneRows(index, new Set(), [], ['9990000000000000001', '9990000000000000004']);
    expect(rows.map((r) => r.employeeId)).toEqual(['9990000000000000002']);
  });
});

describe('problemRows', () => {
  it('parks report rows HiBob could not use, named by employee id or by row', () => {
    const rows = problemRows([
      { row: 4, message: 'no email on row 4' },
      {
        row: 9,
        employeeId: '9990000000000000009',
        identity: 'dup@example.com',
        message: 'a second row for this employee',
      },
    ]);
    expect(rows).toEqual([
      {
        employeeId: 'report row 4',
        email: undefined,
        action: 'park',
        changes: [],
        operations: [],
        reason: 'no email on row 4',
        fingerprint: 'problem:report row 4',
      },
      {
        employeeId: '9990000000000000009',
        email: 'dup@example.com',
        action: 'park',
        changes: [],
        operations: [],
        reason: 'a second row for this employee',
        fingerprint: 'problem:9990000000000000009',
      },
    ]);
  });
});

describe('holdDeactivations, countByAction and splitHeld', () => {
  const rows = [row('1', 'create'), row('2', 'deactivate'), row('3', 'update'), row('4', 'deactivate')];

  it('a tripped safeguard marks every deactivation held, and nothing else', () => {
    const held = holdDeactivations(rows, { tripped: true, reason: '2 deactivations exceed the limit of 1' });
    expect(held.map((r) => [r.employeeId, r.held ?? false])).toEqual([
      ['1', false],
      ['2', true],
      ['3', false],
      ['4', true],
    ]);
    expect(splitHeld(held)).toEqual({ applyNow: ['1', '3'], held: ['2', '4'] });
  });

  it('a quiet safeguard holds nothing', () => {
    expect(holdDeactivations(rows, { tripped: false })).toEqual(rows);
  });

  it('counts rows per action, with the employees in step as noop', () => {
    expect(countByAction(rows, 7)).toEqual({ noop: 7, create: 1, deactivate: 2, update: 1 });
    expect(Object.keys(countByAction([], 0))).toEqual(['noop']);
  });
});

describe('managerDepths and applyOrder', () => {
  const employees = [
    { id: 'report', managerId: 'lead' },
    { id: 'lead', managerId: 'head' },
    { id: 'head', managerId: null },
    { id: 'outsider', managerId: 'not-in-hibob' },
    { id: 'a', managerId: 'b' },
    { id: 'b', managerId: 'a' },
  ];

  it('counts how far below the top each employee sits, cutting cycles', () => {
    const depths = managerDepths(employees);
    expect(depths.get('head')).toBe(0);
    expect(depths.get('lead')).toBe(1);
    expect(depths.get('report')).toBe(2);
    expect(depths.get('outsider')).toBe(0);
    expect([depths.get('a'), depths.get('b')].sort()).toEqual([0, 1]);
  });

  it('applies managers before their reports, leaves out parked and protected rows, and keeps the plan order within a depth', () => {
    const rows = [
      row('report', 'create'),
      row('x', 'park'),
      row('lead', 'update'),
      row('gone', 'deactivate'),
      row('p', 'protected'),
      row('head', 'create'),
      row('outsider', 'update'),
    ];
    expect(applyOrder(rows, managerDepths(employees)).map((r) => r.employeeId)).toEqual([
      'gone',
      'head',
      'outsider',
      'lead',
      'report',
    ]);
  });
});

describe('pendingTimers', () => {
  it('leaves out the employees applied now: their sync sets the timer', () => {
    const timers = [
      { employeeId: '1', at: '2026-03-20T00:00:00.000Z', reason: 'starts on 2026-03-20' },
      { employeeId: '2', at: '2026-03-21T00:00:00.000Z', reason: 'starts on 2026-03-21' },
    ];
    expect(pendingTimers(timers, ['1'])).toEqual([timers[1]]);
  });
});

describe('approvalFor', () => {
  const quiet = { tripped: false };
  const tripped = { tripped: true, reason: '3 deactivations, above the limit of 2' };
  const base = { firstRun: false, toApply: 5, held: 0, safeguard: quiet };

  it.each([
    ['always, every run', { ...base, mode: 'always' as const }, { scope: 'plan', reason: 'approval mode always' }],
    [
      'firstRun, the first run',
      { ...base, mode: 'firstRun' as const, firstRun: true },
      { scope: 'plan', reason: 'first run of this connection, approval mode firstRun' },
    ],
    [
      'firstRun, a later run',
      { ...base, mode: 'firstRun' as const },
      { scope: 'none', reason: 'no safeguard tripped' },
    ],
    [
      'firstRun, a later run the safeguard stops',
      { ...base, mode: 'firstRun' as const, held: 3, safeguard: tripped },
      { scope: 'held', reason: tripped.reason },
    ],
    [
      'onSafeguard, nothing held',
      { ...base, mode: 'onSafeguard' as const },
      { scope: 'none', reason: 'no safeguard tripped' },
    ],
    [
      'onSafeguard, tripped but nothing held',
      { ...base, mode: 'onSafeguard' as const, safeguard: tripped },
      { scope: 'none', reason: 'safeguard tripped, but it holds nothing' },
    ],
    [
      'onSafeguard, deactivations held',
      { ...base, mode: 'onSafeguard' as const, held: 3, safeguard: tripped },
      { scope: 'held', reason: tripped.reason },
    ],
    [
      'never, deactivations held',
      { ...base, mode: 'never' as const, held: 3, safeguard: tripped },
      { scope: 'none', reason: 'held: safeguard, approval mode never' },
    ],
    [
      'always, nothing to apply',
      { ...base, mode: 'always' as const, toApply: 0 },
      { scope: 'none', reason: 'nothing to apply' },
    ],
    [
      'firstRun, a first run with nothing to apply',
      { ...base, mode: 'firstRun' as const, firstRun: true, toApply: 0 },
      { scope: 'none', reason: 'nothing to apply' },
    ],
  ])('%s', (_what, input, expected) => {
    expect(approvalFor(input)).toEqual(expected);
  });
});

describe('decideApproval', () => {
  const tripped = { tripped: true, reason: '3 deactivations, above the limit of 2' };
  const input = { firstRun: false, toApply: 5, held: 3, safeguard: tripped };

  it('approval mode never leaves the held deactivations undone without asking, and says so on the safeguard', () => {
    expect(decideApproval({ ...input, mode: 'never' })).toEqual({
      approval: { scope: 'none', reason: 'held: safeguard, approval mode never' },
      safeguard: { ...tripped, decision: 'notAsked' },
    });
  });

  it.each(['always', 'firstRun', 'onSafeguard'] as const)(
    'approval mode %s keeps the safeguard as it tripped',
    (mode) => {
      expect(decideApproval({ ...input, mode }).safeguard).toEqual(tripped);
    },
  );

  it('a quiet safeguard is kept as it is in approval mode never', () => {
    expect(decideApproval({ ...input, held: 0, safeguard: { tripped: false }, mode: 'never' }).safeguard).toEqual({
      tripped: false,
    });
  });
});

describe('planFullRun', () => {
  const MANAGER = '3332883894235038530';
  const REPORT = '3332883894235038531';
  const GONE = ['9990000000000000001', '9990000000000000002'];
  const records = [
    rawEmployee({
      id: REPORT,
      email: 'report@example.com',
      firstName: 'Rae',
      surname: 'Port',
      reportsTo: { id: MANAGER, firstName: 'Max', surname: 'Anager' },
    }),
    person({ id: MANAGER, email: 'manager@example.com', firstName: 'Max', surname: 'Anager' }),
  ];
  const leavers = GONE.map((id, i) =>
    learner({ learnerId: `bbbbbbbbbbbbbbbbbbbbbbb${i}`, externalId: id, fields: { mail: `gone${i}@example.com` } }),
  );

  function run(over: Partial<FullRunInput> = {}): FullRunInput {
    return {
      records,
      mapping: mapping(),
      destination: { defaultGroupId: GROUP_DEFAULT },
      index: new SnapshotIndex(snapshotOf(leavers, true)),
      safety: { protectedUsers: [], maxDeactivationPercent: 100, maxHibobDropPercent: 50 },
      previous: { fingerprints: {} },
      problems: [{ row: 7, message: 'no email on row 7' }],
      heldEmployeeIds: [],
      now: NOW,
      timerHorizonDays: 30,
      approvalMode: 'onSafeguard',
      firstRun: false,
      unmatchedLearners: 'report',
      ...over,
    };
  }

  it('reads a changed employee in full only when the whole plan is shown for approval', async () => {
    const jane = learner();
    const lookups: string[] = [];
    const lookup: DeepLookup = async (employeeId) => {
      lookups.push(employeeId);
      return { match: { kind: 'externalId', learner: jane }, managerLearnerIds: {}, linkedManagerLearnerIds: [] };
    };
    const inStep = { records: [person({})], index: new SnapshotIndex(snapshotOf([jane])), problems: [] };
    const last = await planFullRun(run(inStep), lookup);
    const changed = { ...inStep, records: [person({ surname: 'Smith' })], previous: { fingerprints: last.unchanged } };
    lookups.length = 0;
    for (const [approvalMode, firstRun, reads] of [
      ['onSafeguard', false, 0],
      ['never', false, 0],
      ['firstRun', false, 0],
      ['firstRun', true, 1],
      ['always', false, 1],
    ] as const) {
      const plan = await planFullRun(run({ ...changed, approvalMode, firstRun }), lookup);
      expect([approvalMode, firstRun, lookups.length]).toEqual([approvalMode, firstRun, reads]);
      expect(plan.rows.map((r) => [r.employeeId, r.action, r.operations])).toEqual([
        [JANE, 'update', ['updateFields']],
      ]);
      lookups.length = 0;
    }
  });

  it('lists HiBob’s employees, then unusable report rows, then the gone learners, and applies managers first', async () => {
    const plan = await planFullRun(run(), noLookup);
    expect(plan.rows.map((r) => [r.employeeId, r.action])).toEqual([
      [REPORT, 'create'],
      [MANAGER, 'create'],
      ['report row 7', 'park'],
      [GONE[0], 'deactivate'],
      [GONE[1], 'deactivate'],
    ]);
    expect(plan.applyNow).toEqual([MANAGER, GONE[0], GONE[1], REPORT]);
    expect(plan.held).toEqual([]);
    expect(plan.toApply).toBe(4);
    expect(plan.byAction).toEqual({ noop: 0, create: 2, park: 1, deactivate: 2 });
    expect(plan.safeguard).toEqual({ tripped: false });
    expect(plan.approval).toEqual({ scope: 'none', reason: 'no safeguard tripped' });
  });

  it('holds the deactivations when a safeguard trips, and asks for them', async () => {
    const plan = await planFullRun(
      run({
        safety: { protectedUsers: [], maxDeactivationPercent: 100, maxDeactivations: 1, maxHibobDropPercent: 50 },
      }),
      noLookup,
    );
    expect(plan.rows.filter((r) => r.held).map((r) => r.employeeId)).toEqual(GONE);
    expect(plan.held).toEqual(GONE);
    expect(plan.applyNow).toEqual([MANAGER, REPORT]);
    expect(plan.toApply).toBe(4);
    expect(plan.safeguard.tripped).toBe(true);
    expect(plan.approval).toEqual({ scope: 'held', reason: plan.safeguard.reason });
  });

  it('asks for the whole plan on the first run in approval mode firstRun', async () => {
    const plan = await planFullRun(run({ approvalMode: 'firstRun', firstRun: true }), noLookup);
    expect(plan.approval).toEqual({ scope: 'plan', reason: 'first run of this connection, approval mode firstRun' });
  });

  it('trips on HiBob returning far fewer people than the last run', async () => {
    const plan = await planFullRun(run({ previous: { hibobEmployees: 10, fingerprints: {} } }), noLookup);
    expect(plan.safeguard.reason).toBe('HiBob returned 2 people, 80% fewer than the 10 of the last run (limit 50%)');
    expect(plan.held).toEqual(GONE);
  });

  describe('at go-live, against a populated LMS', () => {
    const LEAVER = '3332883894235038550';
    const REHIRE_OLD = '3332883894235038551';
    const REHIRE_NEW = '3332883894235038552';
    const hibob = [
      ...records,
      person({ id: LEAVER, email: 'left@example.com', lifecycleStatus: 'terminated' }),
      person({ id: REHIRE_OLD, email: 'back@example.com', lifecycleStatus: 'terminated' }),
      person({ id: REHIRE_NEW, email: 'back@example.com' }),
    ];
    const unlinked = (id: string, mail: string, over: Partial<CurrentLearner> = {}) =>
      learner({ learnerId: id, externalId: undefined, fields: { mail }, ...over });
    const lms = [
      unlinked('cccccccccccccccccccccc01', 'left@example.com'),
      unlinked('cccccccccccccccccccccc02', 'back@example.com'),
      unlinked('cccccccccccccccccccccc03', 'stranger@example.com'),
      unlinked('cccccccccccccccccccccc04', 'admin@example.com'),
      unlinked('cccccccccccccccccccccc05', 'gone-already@example.com', { status: 'deleted' }),
    ];
    const goLive = (over: Partial<FullRunInput> = {}) =>
      run({
        records: hibob,
        index: new SnapshotIndex(snapshotOf(lms, true)),
        problems: [],
        safety: { protectedUsers: ['admin@example.com'], maxDeactivationPercent: 100, maxHibobDropPercent: 50 },
        ...over,
      });

    it('links and deactivates a leaver’s learner, and leaves a rehire’s address to the rehire', async () => {
      const plan = await planFullRun(goLive(), noLookup);
      const row = (id: string) => plan.rows.find((r) => r.employeeId === id);
      expect(row(LEAVER)).toMatchObject({ action: 'deactivate', learnerId: 'cccccccccccccccccccccc01' });
      expect(row(LEAVER)!.operations[0]).toBe('linkExternalId');
      expect(row(LEAVER)!.operations.at(-1)).toBe('deactivate');
      expect(row(REHIRE_OLD)).toBeUndefined();
      expect(row(REHIRE_NEW)!.operations).toContain('linkExternalId');
      expect(row(REHIRE_NEW)!.operations).not.toContain('deactivate');
    });

    it('lists learners that match no HiBob person, protected ones flagged, deactivated ones left out', async () => {
      const plan = await planFullRun(goLive(), noLookup);
      expect(plan.unmatched).toEqual([
        { learnerId: 'cccccccccccccccccccccc04', email: 'admin@example.com', status: 'active', protected: true },
        { learnerId: 'cccccccccccccccccccccc03', email: 'stranger@example.com', status: 'active', protected: false },
      ]);
      expect(plan.rows.some((r) => r.employeeId.startsWith('unmatched:'))).toBe(false);
    });

    it('under deactivate, deactivates the unprotected ones as rows of their own, held by the safeguards', async () => {
      const plan = await planFullRun(goLive({ unmatchedLearners: 'deactivate' }), noLookup);
      const key = unmatchedLearnerKey('cccccccccccccccccccccc03');
      expect(learnerOfUnmatchedKey(key)).toBe('cccccccccccccccccccccc03');
      expect(plan.rows.filter((r) => learnerOfUnmatchedKey(r.employeeId))).toEqual([
        expect.objectContaining({ employeeId: key, action: 'deactivate', learnerId: 'cccccccccccccccccccccc03' }),
      ]);
      expect(plan.applyNow).toContain(key);

      const limited = await planFullRun(
        goLive({
          unmatchedLearners: 'deactivate',
          safety: {
            protectedUsers: ['admin@example.com'],
            maxDeactivationPercent: 100,
            maxDeactivations: 1,
            maxHibobDropPercent: 50,
          },
        }),
        noLookup,
      );
      expect(limited.safeguard.tripped).toBe(true);
      expect(limited.held).toEqual(expect.arrayContaining([key, LEAVER]));
      expect(limited.applyNow).not.toContain(key);
    });
  });

  it('hands on the effective dates of the employees not applied now', async () => {
    const hire = person({
      id: '3332883894235038540',
      email: 'hire@example.com',
      lifecycleStatus: 'hired',
      startDate: '2026-03-25',
    });
    const plan = await planFullRun(run({ records: [...records, hire] }), noLookup);
    expect(plan.applyNow).not.toContain('3332883894235038540');
    expect(plan.pendingTimers.map((t) => t.employeeId)).toEqual(['3332883894235038540']);
  });
});
