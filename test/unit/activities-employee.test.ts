/**
 * The employee workflow's HiBob read and planning activities, run in Temporal's mock activity
 * context against the HiBob emulator over HTTP, with a connection parsed from the demo config
 * `bobsync dev` writes.
 *
 * fetchEmployee reads one employee with every field the mapping needs and digests each field,
 * so the workflow can tell a field that still reads as before (HiBob's read-after-write lag).
 * planEmployee decides what to do: protected learners are never touched, and an employee deleted
 * in HiBob deactivates the learner linked to it, if any.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { parse, stringify } from 'yaml';
import { ConnectionRegistry } from '../../src/activities/deps';
import { employeeActivities, planForDeletedEmployee } from '../../src/activities/employee';
import type { LearnerLookup } from '../../src/activities/employee-types';
import { parseConfig } from '../../src/config/loader';
import type { BobsyncConfig } from '../../src/config/schema';
import { embeddedConfigYaml } from '../../packages/local/stack/embedded';
import { DEMO_CREDENTIALS } from '../../packages/local/stack/emulators';
import { fingerprint } from '../../src/domain/fingerprint';
import { hibobFieldsFor } from '../../src/domain/normalise';
import type { CurrentLearner } from '../../src/domain/types';
import type { RunningServer } from '../../packages/local/emulators/common/server';
import { DEPARTMENTS, DEFAULT_SITES, HibobEmulator } from '../../packages/local/emulators/hibob';
import { GROUP_DEFAULT, GROUP_ENG, GROUP_LONDON, GROUP_SALES, learner } from './domain-fixtures';

const CONNECTION = 'demo-360';
const NOW = new Date('2025-06-16T12:00:00Z');
/** Not the schema's default (20), so the value seen comes from the connection. */
const READ_LAG_SECONDS = 7;
/** 360Learning is never called by these activities. */
const UNUSED_URL = 'http://127.0.0.1:9';
const PROTECTED_MAIL = 'Auditor@Northwind.example';
const PROTECTED_LEARNER_ID = '64f1c2a9e4b0a1b2c3d4aaaa';

const ZOE = '3332883894235038486';
const MISSING = '3332883894235099999';
const LONDON = DEFAULT_SITES.find((s) => s.name === 'London')!;

let emulator: HibobEmulator;
let server: RunningServer;
let config: BobsyncConfig;

/** The demo config's 360Learning connection, with a read lag and protected users of its own. */
function demoConfig(hibobUrl: string, customFields: object[] = []): BobsyncConfig {
  const groups = { root: GROUP_DEFAULT, byName: { Engineering: GROUP_ENG, Sales: GROUP_SALES, London: GROUP_LONDON } };
  const raw = parse(embeddedConfigYaml(hibobUrl, UNUSED_URL, groups)) as {
    connections: { name: string; source: object }[];
  };
  raw.connections = raw.connections
    .filter((c) => c.name === CONNECTION)
    .map((c) => ({
      ...c,
      source: { ...c.source, readAfterWriteLagSeconds: READ_LAG_SECONDS },
      safety: { protectedUsers: [PROTECTED_MAIL, PROTECTED_LEARNER_ID] },
      ...(customFields.length ? { mapping: { ...(c as { mapping?: object }).mapping, customFields } } : {}),
    }));
  return parseConfig(stringify(raw), 'demo config');
}

function activities(env: NodeJS.ProcessEnv = { HIBOB_SERVICE_USER_TOKEN: DEMO_CREDENTIALS.hibobToken }) {
  return employeeActivities(new ConnectionRegistry({ config, env }), () => NOW);
}

/** Runs an activity in Temporal's mock activity context; failures the tests expect are not logged. */
function run<P extends unknown[], R>(fn: (...args: P) => Promise<R>, ...args: P): Promise<R> {
  return new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') }).run<P, R, typeof fn>(
    fn,
    ...args,
  );
}

const mapping = () => config.connections.find((c) => c.name === CONNECTION)!.mapping;

const linked = (l: CurrentLearner): LearnerLookup => ({
  match: { kind: 'externalId', learner: l },
  managerLearnerIds: {},
  linkedManagerLearnerIds: [],
});
const byEmail = (l: CurrentLearner): LearnerLookup => ({
  match: { kind: 'email', learner: l },
  managerLearnerIds: {},
  linkedManagerLearnerIds: [],
});
const NO_LEARNER: LearnerLookup = { match: { kind: 'none' }, managerLearnerIds: {}, linkedManagerLearnerIds: [] };

beforeAll(async () => {
  emulator = new HibobEmulator({
    serviceUsers: [{ id: DEMO_CREDENTIALS.hibobServiceUserId, token: DEMO_CREDENTIALS.hibobToken }],
    lifecycleTickMs: 0,
  });
  emulator.kit.clock.set(NOW);
  server = await emulator.start(0);
  config = demoConfig(server.url);
});

beforeEach(() => {
  emulator.reset();
  emulator.kit.clock.set(NOW);
  emulator.seed([
    {
      id: ZOE,
      firstName: 'Zoë',
      surname: 'Müller',
      email: 'zoe.muller@northwind.example',
      department: DEPARTMENTS.platform,
      siteId: LONDON.id,
      startDate: '2021-03-01',
      lifecycleStatus: 'employed',
      title: null,
      reportsTo: null,
      terminationDate: null,
      lastDayOfWork: null,
    },
  ]);
});

afterAll(async () => {
  await server.close();
});

describe('fetchEmployee', () => {
  it('digests every field the mapping reads, null for the empty ones, with the connection’s read lag', async () => {
    const fetched = await run(activities().fetchEmployee, CONNECTION, ZOE);

    expect(fetched.found).toBe(true);
    expect(fetched.readLagSeconds).toBe(READ_LAG_SECONDS);
    const fields = hibobFieldsFor(mapping());
    // The demo mapping reads department and site for its groups and custom fields, on top of the base fields.
    expect(fields).toEqual(
      expect.arrayContaining([
        'root.email',
        'work.department',
        'work.site',
        'work.startDate',
        'work.reportsTo',
        'work.title',
      ]),
    );
    expect(Object.keys(fetched.digests ?? {}).sort()).toEqual([...fields].sort());
    expect(fetched.digests).toMatchObject({
      'root.id': fingerprint(ZOE),
      'root.email': fingerprint('zoe.muller@northwind.example'),
      'work.department': fingerprint(DEPARTMENTS.platform),
      'work.site': fingerprint('London'),
      'work.startDate': fingerprint('2021-03-01'),
      'internal.lifecycleStatus': fingerprint('employed'),
      'work.title': null,
      'work.reportsTo': null,
      'internal.terminationDate': null,
      'employee.lastDayOfWork': null,
    });
    // Digests, not values: the workflow state carries no personal data.
    expect(JSON.stringify(fetched.digests)).not.toMatch(/zoe|müller|london/i);
    expect(fetched.found && (fetched.record as { id?: unknown }).id).toBe(ZOE);
  });

  it('changes the digest of an edited field and of no other', async () => {
    const before = await run(activities().fetchEmployee, CONNECTION, ZOE);
    emulator.updateEmployee(ZOE, { department: DEPARTMENTS.sales, title: '314420003' });
    const after = await run(activities().fetchEmployee, CONNECTION, ZOE);

    const changed = Object.keys(after.digests ?? {}).filter((f) => after.digests?.[f] !== before.digests?.[f]);
    expect(changed.sort()).toEqual(['work.department', 'work.title']);
    expect(after.digests?.['work.department']).toBe(fingerprint(DEPARTMENTS.sales));
    expect(after.digests?.['work.title']).toBe(fingerprint('314420003'));
  });

  it('reports an employee HiBob answers 404 for as not found, with the read lag', async () => {
    expect(await run(activities().fetchEmployee, CONNECTION, MISSING)).toEqual({
      found: false,
      readLagSeconds: READ_LAG_SECONDS,
    });

    emulator.deleteEmployee(ZOE);
    expect(await run(activities().fetchEmployee, CONNECTION, ZOE)).toEqual({
      found: false,
      readLagSeconds: READ_LAG_SECONDS,
    });
  });

  it('fails, rather than reporting the employee gone, when HiBob refuses the service user', async () => {
    const refused = activities({ HIBOB_SERVICE_USER_TOKEN: 'not-the-token' });
    await expect(run(refused.fetchEmployee, CONNECTION, ZOE)).rejects.toThrow(/401/);
  });

  it('fails for good on a connection that is not configured', async () => {
    await expect(run(activities().fetchEmployee, 'no-such-connection', ZOE)).rejects.toMatchObject({
      type: 'UnknownConnection',
      nonRetryable: true,
    });
  });
});

describe('a custom field HiBob files under its category', () => {
  // The emulator's custom fields have opaque ids, and json paths under their category.
  const COST_CENTRE = 'custom.field_1701776342011';
  const LANGUAGE = 'custom.field_1701776371777';
  const FRENCH = '88002';

  function customFieldActivities() {
    const custom = demoConfig(server.url, [
      { name: 'Cost centre', source: { from: COST_CENTRE } },
      { name: 'Language', source: { from: LANGUAGE, label: true } },
    ]);
    const registry = new ConnectionRegistry({
      config: custom,
      env: { HIBOB_SERVICE_USER_TOKEN: DEMO_CREDENTIALS.hibobToken },
    });
    return employeeActivities(registry, () => NOW);
  }
  const metadataReads = () => emulator.kit.requests.entries.filter((e) => e.path.endsWith('/company/people/fields'));

  it('reads the value and label at the field’s json path, and an emptied value as cleared', async () => {
    emulator.updateEmployee(ZOE, { custom: { [COST_CENTRE]: 'CC-42', [LANGUAGE]: FRENCH } });
    const { fetchEmployee, planEmployee } = customFieldActivities();
    const filled = await run(fetchEmployee, CONNECTION, ZOE);
    if (!filled.found) throw new Error('the emulator lost Zoë');
    expect(filled.digests?.[COST_CENTRE]).toBe(fingerprint('CC-42'));
    const learnerHolding = (customFields: Record<string, string>) => linked(learner({ externalId: ZOE, customFields }));
    // The list field's label, not its item id, goes to the LMS.
    const labelled = await run(planEmployee, CONNECTION, ZOE, filled.record, learnerHolding({ Language: 'English' }));
    expect(JSON.stringify(labelled.outcome)).toContain('Français');
    expect(JSON.stringify(labelled.outcome)).not.toContain(FRENCH);

    emulator.updateEmployee(ZOE, { custom: { [COST_CENTRE]: null } });
    const emptied = await run(fetchEmployee, CONNECTION, ZOE);
    if (!emptied.found) throw new Error('the emulator lost Zoë');
    expect(emptied.digests?.[COST_CENTRE]).toBeNull();
    // Empty in HiBob clears the LMS value; a field HiBob did not return would be left alone.
    const cleared = await run(
      planEmployee,
      CONNECTION,
      ZOE,
      emptied.record,
      learnerHolding({ 'Cost centre': 'CC-42', Language: 'Français' }),
    );
    const operations = cleared.outcome.kind === 'apply' ? cleared.outcome.operations : [];
    expect(operations.find((o) => o.op === 'setCustomFields')).toMatchObject({
      changes: [{ field: 'Cost centre', from: 'CC-42', to: null }],
    });
    // One metadata read served every read and plan of this worker.
    expect(metadataReads()).toHaveLength(1);
  });

  it('costs no metadata read when the mapping reads no such field', async () => {
    await run(activities().fetchEmployee, CONNECTION, ZOE);
    expect(metadataReads()).toHaveLength(0);
  });
});

describe('planEmployee', () => {
  /** Zoë as HiBob serves her, and a linked learner whose fields all differ from HiBob's. */
  async function zoe(): Promise<{
    record: Record<string, unknown>;
    stale: (overrides?: Partial<CurrentLearner>) => CurrentLearner;
  }> {
    const fetched = await run(activities().fetchEmployee, CONNECTION, ZOE);
    if (!fetched.found) throw new Error('the emulator lost Zoë');
    return { record: fetched.record, stale: (overrides = {}) => learner({ externalId: ZOE, ...overrides }) };
  }

  it('changes an unprotected linked learner whose fields differ from HiBob', async () => {
    const { record, stale } = await zoe();
    const plan = await run(activities().planEmployee, CONNECTION, ZOE, record, linked(stale()));
    expect(plan.employeeId).toBe(ZOE);
    expect(plan.outcome.kind).toBe('apply');
  });

  it.each([
    ['email (any case)', { fields: { ...learner().fields, mail: PROTECTED_MAIL.toLowerCase() } }],
    ['learner id', { learnerId: PROTECTED_LEARNER_ID }],
  ])(
    'leaves a learner protected by %s unchanged, whatever HiBob says',
    async (_by, overrides: Partial<CurrentLearner>) => {
      const { record, stale } = await zoe();
      const { planEmployee } = activities();
      const expected = { kind: 'noop', reason: 'protected user: never changed by bobsync' };

      expect((await run(planEmployee, CONNECTION, ZOE, record, linked(stale(overrides)))).outcome).toEqual(expected);
      expect((await run(planEmployee, CONNECTION, ZOE, record, byEmail(stale(overrides)))).outcome).toEqual(expected);
      // Not even deactivated when the employee is deleted in HiBob.
      expect((await run(planEmployee, CONNECTION, ZOE, null, linked(stale(overrides)))).outcome).toEqual(expected);
    },
  );

  it('deactivates the active learner linked to an employee deleted in HiBob', async () => {
    const { planEmployee } = activities();
    for (const status of ['active', 'invited'] as const) {
      const plan = await run(planEmployee, CONNECTION, ZOE, null, linked(learner({ externalId: ZOE, status })));
      expect(plan).toEqual(planForDeletedEmployee(ZOE, linked(learner({ externalId: ZOE, status }))));
      expect(plan.outcome).toEqual({
        kind: 'apply',
        operations: [{ op: 'deactivate', reason: 'employee deleted in HiBob' }],
      });
    }
  });

  it.each([
    ['no learner at all', NO_LEARNER],
    ['a learner found only by email, not linked', byEmail(learner({ externalId: undefined }))],
    ['a linked learner already deleted', linked(learner({ externalId: ZOE, status: 'deleted' }))],
  ])('changes nothing for an employee deleted in HiBob with %s', async (_what, lookup: LearnerLookup) => {
    const plan = await run(activities().planEmployee, CONNECTION, ZOE, null, lookup);
    expect(plan.outcome).toEqual({ kind: 'noop', reason: 'deleted in HiBob; no active learner is linked' });
  });

  it('fingerprints a deletion by employee and learner state, so a repeated plan is recognised', () => {
    const active = linked(learner({ externalId: ZOE }));
    const print = planForDeletedEmployee(ZOE, active).fingerprint;
    expect(planForDeletedEmployee(ZOE, active).fingerprint).toBe(print);
    expect(planForDeletedEmployee(ZOE, linked(learner({ externalId: ZOE, status: 'deleted' }))).fingerprint).not.toBe(
      print,
    );
    expect(planForDeletedEmployee(MISSING, active).fingerprint).not.toBe(print);
  });
});
