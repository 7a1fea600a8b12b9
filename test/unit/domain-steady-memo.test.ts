/**
 * The steady memo must never change a plan, only its cost. Each case plans a tenant in step twice
 * over the same inputs: once from the memo the previous plan left, once from nothing, and the two
 * plans must be equal in every part (rows, unchanged, timers, employees, sources). The tenants
 * are generated (joiners, leavers, rehires, managers, shared addresses) and brought in step by
 * applying each plan's operations to a model of the LMS; then one thing changes: the clock, a
 * HiBob record, a learner, a manager's learner, the fingerprints, an address a leaver held.
 */
import { EmployeeRecords } from '../../src/clients/hibob/employee-records';
import {
  planPopulation,
  SnapshotIndex,
  type DeepLookup,
  type LmsSnapshot,
  type PopulationInput,
  type PopulationPlan,
} from '../../src/domain/full-plan';
import { desiredLearner, isParked } from '../../src/domain/desired';
import { normaliseEmployee } from '../../src/domain/normalise';
import { SteadyMemo, steadyMemoKey } from '../../src/domain/steady-memo';
import type { CurrentLearner } from '../../src/domain/types';
import { GROUP_DEFAULT, mapping, NOW, rawEmployee, type RawEmployeeSpec } from './domain-fixtures';

const DAY = 86_400_000;

/** The site is a custom value: 360Learning's lists do not show it, so a changed one is found only when read in full. */
const MAPPING = mapping({ customFields: [{ name: 'Site', source: { from: 'work.site' } }] });

/** A small deterministic generator (mulberry32), so a failing case can be run again. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const employeeId = (n: number) => `33328838942350${String(10_000 + n)}`;

/** People joining, working, on their way out and gone, some reporting to others, a few sharing an address. */
function generatePeople(seed: number, count: number): RawEmployeeSpec[] {
  const next = random(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  const specs: RawEmployeeSpec[] = [];
  for (let n = 0; n < count; n++) {
    const day = (offset: number) => isoDay(NOW.getTime() + offset * DAY);
    const kind = pick(['working', 'working', 'working', 'joining', 'leaving', 'gone', 'noAddress'] as const);
    const spec: RawEmployeeSpec = {
      id: employeeId(n),
      email: kind === 'noAddress' ? null : `person${n}@example.com`,
      firstName: `First${n}`,
      surname: pick(['Doe', 'Lee', 'Smith', 'Okafor']),
      site: pick(['London', 'Paris', null]),
      reportsTo:
        n > 0 && next() < 0.6 ? { id: employeeId(Math.floor(next() * n)), firstName: 'M', surname: 'N' } : null,
      startDate: day(-400 + Math.floor(next() * 300)),
    };
    if (kind === 'joining') {
      spec.startDate = day(Math.floor(next() * 50) - 3);
      spec.lifecycleStatus = 'hired';
      spec.internalStatus = pick(['Active', 'Inactive']);
    }
    if (kind === 'leaving') spec.lastDayOfWork = day(Math.floor(next() * 40));
    if (kind === 'gone') {
      spec.terminationDate = day(-Math.floor(next() * 30) - 1);
      spec.lifecycleStatus = pick(['terminated', 'employed']);
    }
    specs.push(spec);
  }
  // A rehire: someone gone comes back under a new id with the old address.
  const gone = specs.find((s) => s.terminationDate);
  if (gone) specs.push({ ...gone, id: employeeId(count), terminationDate: null, lifecycleStatus: 'employed' });
  return specs;
}

/** The LMS as a model, and the fingerprints the last run recorded. */
interface Tenant {
  learners: Map<string, CurrentLearner>;
  fingerprints: Record<string, string>;
}

function snapshotOf(tenant: Tenant, complete: boolean): LmsSnapshot {
  const learners = [...tenant.learners.values()];
  return {
    users: learners.map((l) => ({
      learnerId: l.learnerId,
      status: l.status,
      fields: { ...l.fields },
      ...(complete ? { customFields: { ...l.customFields }, managerIds: [...l.managerIds] } : {}),
      lastLogin: '2026-03-01T09:00:00Z',
    })),
    externalIds: learners.flatMap((l) => (l.externalId ? [{ value: l.externalId, targetId: l.learnerId }] : [])),
    groupRoles: learners.flatMap((l) => l.groups.map((g) => ({ ...g, userId: l.learnerId }))),
    complete,
  };
}

/** Reads a learner in full from the model, as the 360Learning lookup does. */
function lookupIn(tenant: Tenant): DeepLookup {
  return async (employee, record, learnerId) => {
    const learner = structuredClone(tenant.learners.get(learnerId)!);
    const linked = (id: string) => [...tenant.learners.values()].find((l) => l.externalId === id);
    const managerId = normaliseEmployee(record).managerId;
    const manager = managerId ? linked(managerId) : undefined;
    return {
      match: { kind: learner.externalId === employee ? 'externalId' : 'email', learner },
      managerLearnerIds: managerId && manager && manager.status !== 'deleted' ? { [managerId]: manager.learnerId } : {},
      linkedManagerLearnerIds: learner.managerIds.filter((id) => tenant.learners.get(id)?.externalId),
    };
  };
}

interface Scenario {
  people: RawEmployeeSpec[];
  tenant: Tenant;
  complete: boolean;
  now: Date;
  protectedUsers?: string[];
}

function inputOf(s: Scenario, steady?: SteadyMemo): PopulationInput {
  const records = EmployeeRecords.fromAnswer(Buffer.from(JSON.stringify({ employees: s.people.map(rawEmployee) })));
  return {
    records,
    mapping: MAPPING,
    destination: { defaultGroupId: GROUP_DEFAULT },
    index: new SnapshotIndex(snapshotOf(s.tenant, s.complete)),
    protectedUsers: s.protectedUsers ?? [],
    fingerprints: s.tenant.fingerprints,
    now: s.now,
    horizonEnd: s.now.getTime() + 35 * DAY,
    changedFromSnapshot: true,
    ...(steady ? { steady } : {}),
  };
}

const KEY = steadyMemoKey({ mapping: MAPPING, destination: { defaultGroupId: GROUP_DEFAULT }, protectedUsers: [] });

/**
 * The LMS as the plans would leave it: each employee due a learner has one, linked, with the
 * wanted fields, status, roles, custom values and manager; then the fingerprints of two runs.
 */
async function inStep(seed: number, complete: boolean): Promise<Scenario> {
  const people = generatePeople(seed, 80);
  const learners = new Map<string, CurrentLearner>();
  const wanted = people.map((spec) => desiredLearner(normaliseEmployee(rawEmployee(spec)), MAPPING, NOW));
  const learnerOf = new Map<string, string>();
  wanted.forEach((desired, n) => {
    if (isParked(desired) || !desired.inScope || desired.status.state === 'notYet') return;
    if (learnerOf.has(desired.fields.mail ?? '')) return;
    const learnerId = `learner-${n}`;
    learnerOf.set(desired.employeeId, learnerId);
    learnerOf.set(desired.fields.mail ?? '', learnerId);
    const fields: CurrentLearner['fields'] = {};
    for (const [name, value] of Object.entries(desired.fields)) if (value) fields[name as keyof typeof fields] = value;
    const customFields: Record<string, string> = {};
    for (const [name, value] of Object.entries(desired.customFields)) if (value) customFields[name] = value;
    learners.set(learnerId, {
      learnerId,
      status: desired.status.state === 'inactive' ? 'deleted' : 'active',
      fields,
      customFields,
      managerIds: [],
      groups: [...desired.groups],
      externalId: desired.employeeId,
    });
  });
  wanted.forEach((desired) => {
    const learner = learners.get(learnerOf.get(desired.employeeId) ?? '');
    const manager =
      !isParked(desired) && desired.managerEmployeeId ? learnerOf.get(desired.managerEmployeeId) : undefined;
    if (learner && manager) learner.managerIds.push(manager);
  });
  return recordFingerprints({ people, tenant: { learners, fingerprints: {} }, complete, now: NOW });
}

/** The state after two runs: the first reads the learners in full, the second finds them in step from the lists. */
async function recordFingerprints(scenario: Scenario): Promise<Scenario> {
  for (let round = 0; round < 2; round++) {
    const plan = await planPopulation(inputOf(scenario), lookupIn(scenario.tenant));
    scenario.tenant.fingerprints = { ...scenario.tenant.fingerprints, ...plan.unchanged };
  }
  return scenario;
}

/** What a plan decided, in a form `toEqual` compares in full. */
function decisions(plan: PopulationPlan) {
  return {
    rows: plan.rows,
    unchanged: plan.unchanged,
    timers: plan.timers,
    seen: [...plan.seen],
    employees: plan.employees,
    sources: [...plan.sources],
  };
}

/**
 * Plans `before`, keeping its memo, then `after` from that memo and from nothing: the two plans
 * of `after` must be equal. Returns how many employees of `after` the memo settled.
 */
async function compare(
  before: Scenario,
  after: Scenario,
): Promise<{ remembered: number; settled: number; asBefore: boolean }> {
  const first = await planPopulation(inputOf(before, new SteadyMemo(KEY)), lookupIn(before.tenant));
  const memo = first.steady!;
  const plain = await planPopulation(inputOf(after), lookupIn(after.tenant));
  const recalled = SteadyMemo.restore(JSON.parse(JSON.stringify(memo)), KEY);
  const input = inputOf(after, recalled);
  const read = new Set<number>();
  const records = input.records;
  const counted = {
    length: records.length,
    at: (i: number) => (read.add(i), records.at(i)),
    digestAt: (i: number) => records.digestAt!(i),
  };
  const fromMemo = await planPopulation({ ...input, records: counted }, lookupIn(after.tenant));
  expect(decisions(fromMemo)).toEqual(decisions(plain));
  // Only employees in step are remembered, and the memo carries the next run's the same way.
  expect(Object.keys(plain.unchanged).length).toBeGreaterThanOrEqual(fromMemo.steady!.size);
  // Taken for the stored memo only when it would be stored the same (entries in any order).
  const asBefore = fromMemo.steady!.sameAs(recalled);
  const stored = (m: SteadyMemo) => JSON.stringify(m.toJSON().employees.sort(([a], [b]) => (a < b ? -1 : 1)));
  if (asBefore) expect(stored(fromMemo.steady!)).toBe(stored(recalled));
  return { remembered: memo.size, settled: records.length - read.size, asBefore };
}

const clone = (s: Scenario): Scenario => ({
  ...s,
  people: structuredClone(s.people),
  tenant: { learners: structuredClone(s.tenant.learners), fingerprints: { ...s.tenant.fingerprints } },
});

describe.each([
  ['360Learning (lists without custom values)', false],
  ['SCIM (complete lists)', true],
])('the steady memo, %s', (_name, complete) => {
  const seeds = [1, 2, 3];

  it.each(seeds)(
    'settles most of a tenant in step without planning it again, to the same plan (seed %i)',
    async (seed) => {
      const tenant = await inStep(seed, complete);
      const { remembered, settled, asBefore } = await compare(tenant, clone(tenant));
      expect(remembered).toBeGreaterThan(40);
      expect(asBefore).toBe(true);
      // Every remembered employee is settled by the memo: none of their records is read again.
      expect(settled).toBe(remembered);
    },
  );

  it.each(seeds)('gives the plan of a later day as planning from nothing does (seed %i)', async (seed) => {
    const tenant = await inStep(seed, complete);
    for (const days of [0.25, 1, 2, 3, 7, 20, 45]) {
      const later = { ...clone(tenant), now: new Date(NOW.getTime() + days * DAY) };
      await compare(tenant, later);
    }
  });

  it.each(seeds)('plans again what changed in HiBob, in the LMS or in the state (seed %i)', async (seed) => {
    const tenant = await inStep(seed, complete);
    const next = random(seed * 7);
    const some = <T>(list: T[], share = 0.2) => list.filter(() => next() < share);
    const learners = () => [...tenant.tenant.learners.values()];

    const renamed = clone(tenant);
    for (const p of some(renamed.people)) p.surname = 'Renamed';
    expect((await compare(tenant, renamed)).asBefore).toBe(false);

    const editedInLms = clone(tenant);
    for (const l of some([...editedInLms.tenant.learners.values()])) l.fields.lastName = 'Edited';
    await compare(tenant, editedInLms);

    const deletedInLms = clone(tenant);
    for (const l of some([...deletedInLms.tenant.learners.values()])) l.status = 'deleted';
    await compare(tenant, deletedInLms);

    const rolesTaken = clone(tenant);
    for (const l of some([...rolesTaken.tenant.learners.values()])) l.groups = [];
    await compare(tenant, rolesTaken);

    const unlinked = clone(tenant);
    for (const l of some([...unlinked.tenant.learners.values()])) delete l.externalId;
    await compare(tenant, unlinked);

    const managerMoved = clone(tenant);
    for (const p of some(managerMoved.people)) p.reportsTo = null;
    await compare(tenant, managerMoved);

    const stateLost = clone(tenant);
    stateLost.tenant.fingerprints = {};
    await compare(tenant, stateLost);

    // Forgotten by the state, and changed where only a full read shows it.
    const stateSome = clone(tenant);
    for (const l of some([...stateSome.tenant.learners.values()], 0.5)) {
      l.customFields = { Site: 'Elsewhere' };
      delete stateSome.tenant.fingerprints[l.externalId ?? ''];
    }
    await compare(tenant, stateSome);

    // Someone new in HiBob with a leaver's address: the leaver may no longer take over that learner.
    const addressTaken = clone(tenant);
    const leaver = addressTaken.people.find((p) => p.terminationDate && p.email);
    if (leaver)
      addressTaken.people.push({ id: employeeId(900), email: leaver.email, firstName: 'New', surname: 'Hire' });
    await compare(tenant, addressTaken);

    // Someone who left HiBob: whoever needed their address no longer does.
    const left = clone(tenant);
    left.people.splice(Math.floor(next() * left.people.length), 1);
    await compare(tenant, left);

    expect(learners().length).toBeGreaterThan(0);
  });
});

describe('the steady memo and leavers’ addresses', () => {
  it('plans a leaver again when the address it could not take over is no longer needed', async () => {
    const tenant = await inStep(4, false);
    const mail = 'shared@example.com';
    // A leaver and a rehire under a new id share an address; the learner with it is linked to neither.
    tenant.people.push(
      {
        id: employeeId(901),
        email: mail,
        terminationDate: '2026-01-31',
        lifecycleStatus: 'terminated',
        reportsTo: null,
      },
      { id: employeeId(902), email: mail, reportsTo: null },
    );
    tenant.tenant.learners.set('unlinked', {
      learnerId: 'unlinked',
      status: 'active',
      fields: { mail, firstName: 'Jane', lastName: 'Doe' },
      customFields: {},
      managerIds: [],
      groups: [],
    });
    await recordFingerprints(tenant);
    const rehireGone = clone(tenant);
    rehireGone.people.pop();
    await compare(tenant, rehireGone);
    // With the rehire gone, the leaver's plan takes the learner over (it was a noop before).
    const plain = await planPopulation(inputOf(rehireGone), lookupIn(rehireGone.tenant));
    expect(plain.rows.find((r) => r.employeeId === employeeId(901))?.action).toBe('deactivate');
  });
});

describe('steadyMemoKey', () => {
  const base = { mapping: mapping(), destination: { defaultGroupId: GROUP_DEFAULT }, protectedUsers: ['a', 'b'] };

  it('is the same for the same settings, protected learners in any order', () => {
    expect(steadyMemoKey(base)).toBe(steadyMemoKey({ ...base, protectedUsers: ['b', 'a'] }));
  });

  it('differs with the mapping, the destination, the protected learners or how changes are planned', () => {
    const key = steadyMemoKey(base);
    expect(steadyMemoKey({ ...base, mapping: mapping({ manager: { enabled: false } }) })).not.toBe(key);
    expect(steadyMemoKey({ ...base, destination: { defaultGroupId: 'other' } })).not.toBe(key);
    expect(steadyMemoKey({ ...base, protectedUsers: ['a'] })).not.toBe(key);
    expect(steadyMemoKey({ ...base, changedFromSnapshot: true })).not.toBe(key);
  });

  it('sets aside a memo made under other settings', () => {
    const memo = new SteadyMemo('one');
    memo.remember('digest', {
      member: { id: '1', email: 'one@example.com' },
      fingerprint: 'f',
      needsMail: false,
      adoptLeavers: true,
      learner: '',
      managerLearner: '',
    });
    expect(SteadyMemo.restore(memo.toJSON(), 'one').size).toBe(1);
    expect(SteadyMemo.restore(memo.toJSON(), 'two').size).toBe(0);
    expect(SteadyMemo.restore(undefined, 'one').size).toBe(0);
  });
});
