/**
 * The HiBob population of a full sync against the HiBob emulator over HTTP: a people search
 * when the connection names no report, otherwise the named custom report (contracts:
 * hibob.md §9, skillcast.md §5). A report with the mapped columns gives the same employees as
 * a people search, with labels or as machine values; a report that lacks a mapped column, or a
 * report name Bob does not know, stops the run before anything is written; rows sharing an
 * identity are problems, not employees.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { RunningServer } from '../../packages/local/emulators/common/server';
import { DEFAULT_SERVICE_USER, HibobEmulator, generateDemoEmployees } from '../../packages/local/emulators/hibob';
import { HibobClient, type HibobEmployee } from '../../src/clients/hibob/client';
import { connectionSchema, type ConnectionConfig } from '../../src/config/schema';
import { mappingSchema, type MappingInput } from '../../src/domain/mapping-schema';
import { hibobFieldsFor, normaliseEmployee } from '../../src/domain/normalise';
import type { NormalisedEmployee } from '../../src/domain/types';
import { hibobReportClients, readHibobPopulation, type HibobSnapshotSource } from '../../src/activities/hibob-snapshot';
import { EmployeeRecords } from '../../src/clients/hibob/employee-records';

const TOKEN_ENV = 'HIBOB_SERVICE_USER_TOKEN';
const ENV = { [TOKEN_ENV]: DEFAULT_SERVICE_USER.token };

/** The default mapping plus a custom field read from a list field and a group rule on the site. */
const MAPPING: MappingInput = {
  customFields: [{ name: 'Department', source: { from: 'work.department', label: true } }],
  groups: [{ when: { field: 'work.site', equals: 'London' }, groupId: '507f1f77bcf86cd799439012' }],
};
const MAPPED_FIELDS = hibobFieldsFor(mappingSchema.parse(MAPPING));
const without = (...ids: string[]) => MAPPED_FIELDS.filter((f) => !ids.includes(f)).map((fieldId) => ({ fieldId }));

const REPORTS = {
  full: {
    id: 501,
    name: 'Learning feed',
    columns: [...MAPPED_FIELDS.map((fieldId) => ({ fieldId })), { fieldId: 'work.employeeIdInCompany' }],
  },
  noDepartment: { id: 502, name: 'Learning feed (no department)', columns: without('work.department') },
  noDepartmentNorTitle: {
    id: 503,
    name: 'Learning feed (no department, no title)',
    columns: without('work.department', 'work.title'),
  },
  noSites: { id: 504, name: 'Learning feed (no sites)', columns: without('work.site', 'work.siteId') },
};

let emu: HibobEmulator;
let server: RunningServer;
let hibob: HibobClient;

function connection(report?: Record<string, unknown>, mapping: MappingInput = MAPPING): ConnectionConfig {
  return connectionSchema.parse({
    name: 'acme-360',
    source: {
      type: 'hibob',
      baseUrl: `${server.url}/v1`,
      serviceUserId: DEFAULT_SERVICE_USER.id,
      serviceUserToken: { env: TOKEN_ENV },
      ...(report ? { report } : {}),
    },
    destination: {
      type: '360learning',
      baseUrl: 'http://127.0.0.1:9',
      clientId: 'acme',
      clientSecret: { env: 'LEARNING360_CLIENT_SECRET' },
      defaultGroupId: '507f1f77bcf86cd799439011',
    },
    mapping,
  });
}

/** The search client and a report client of its own (fresh download budget, quick polling). */
function source(): HibobSnapshotSource {
  return {
    hibob,
    reports: hibobReportClients(ENV, undefined, {
      poll: { initialDelayMs: 50, factor: 2, maxDelayMs: 100, timeoutMs: 10_000 },
      downloadsPerMinute: 1000,
    }),
  };
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error('expected the read to fail');
}

/** A people search of the mapped fields, normalised by employee id. */
async function searched(humanReadable?: 'APPEND'): Promise<Map<string, NormalisedEmployee>> {
  const people: HibobEmployee[] = await hibob.searchPeople({
    fields: MAPPED_FIELDS,
    showInactive: true,
    ...(humanReadable ? { humanReadable } : {}),
  });
  return new Map(people.map((p) => [p.id, normaliseEmployee(p)]));
}

beforeAll(async () => {
  emu = new HibobEmulator({
    lifecycleTickMs: 0,
    reports: Object.values(REPORTS),
    reportAsyncDelayMs: 400,
    rateLimits: { 'reports.download': 1000 },
  });
  emu.kit.clock.set(new Date('2025-06-16T09:00:00Z'));
  emu.seed(generateDemoEmployees({ count: 30, seed: 7, today: '2025-06-16' }));
  server = await emu.start(0);
  hibob = new HibobClient({
    baseUrl: `${server.url}/v1`,
    serviceUserId: DEFAULT_SERVICE_USER.id,
    token: DEFAULT_SERVICE_USER.token,
  });
});

afterAll(async () => {
  await server.close();
});

describe('without a report', () => {
  it('reads one people search of the mapped fields, inactive people and labels included', async () => {
    const beats: unknown[] = [];
    const population = await readHibobPopulation(source(), connection(), { heartbeat: (d) => beats.push(d) });
    const search = await hibob.searchPeople({ fields: MAPPED_FIELDS, showInactive: true, humanReadable: 'APPEND' });
    expect({ ...population, records: [...population.records] }).toEqual({
      records: search,
      source: { kind: 'search' },
      problems: [],
      heldEmployeeIds: [],
      heldKeys: [],
    });
    expect(population.records).toHaveLength(30);
    expect(beats).toContainEqual({ phase: 'search', employees: 30 });
  });

  it('asks the search for exactly the fields the mapping reads', async () => {
    const requests: unknown[] = [];
    const recording: HibobSnapshotSource = {
      hibob: {
        searchPeopleAnswer: async (request) => {
          requests.push(request);
          return EmployeeRecords.of([]);
        },
      },
    };
    await readHibobPopulation(recording, connection(), {});
    expect(requests).toEqual([{ fields: MAPPED_FIELDS, showInactive: true, humanReadable: 'APPEND' }]);
  });
});

describe('from a report with the mapped columns', () => {
  it('with labels: the employees equal those of a people search for the same people', async () => {
    const population = await readHibobPopulation(source(), connection({ name: 'Learning feed' }), {});
    expect(population.source).toEqual({
      kind: 'report',
      reportName: 'Learning feed',
      reportId: '501',
      humanReadable: true,
    });
    const bySearch = await searched('APPEND');
    const held = new Set(population.heldEmployeeIds);
    // Everyone is either an employee of the population or held by a row problem.
    expect(population.records.length + held.size).toBe(30);
    expect(population.records.length).toBeGreaterThan(20);

    for (const record of population.records) {
      const employee = normaliseEmployee(record);
      const expected = bySearch.get(employee.id)!;
      expect(employee.id).toBe(expected.id);
      expect(employee.email).toBe(expected.email);
      expect(employee.fields['root.firstName']).toEqual(expected.fields['root.firstName']);
      expect(employee.fields['root.surname']).toEqual(expected.fields['root.surname']);
      expect(employee.fields['work.department']).toEqual(expected.fields['work.department']);
      expect(employee).toEqual(expected);
    }
    const lukasz = [...population.records]
      .map((r) => normaliseEmployee(r))
      .find((e) => e.fields['root.firstName']?.value === 'Łukasz')!;
    expect(lukasz.fields['work.department']).toEqual({ value: expect.stringMatching(/^\d+$/), label: 'Engineering' });
    expect(lukasz.managerId).toEqual(expect.stringMatching(/^\d+$/));
  });

  it('as machine values: the employees equal those of a people search without labels', async () => {
    const population = await readHibobPopulation(
      source(),
      connection({ name: 'Learning feed', humanReadable: false }),
      {},
    );
    expect(population.source).toEqual({
      kind: 'report',
      reportName: 'Learning feed',
      reportId: '501',
      humanReadable: false,
    });
    const bySearch = await searched();
    expect(population.records.length).toBeGreaterThan(20);
    for (const record of population.records) {
      expect(record).not.toHaveProperty('humanReadable');
      const employee = normaliseEmployee(record);
      expect(employee).toEqual(bySearch.get(employee.id));
    }
    const lukasz = [...population.records]
      .map((r) => normaliseEmployee(r))
      .find((e) => e.fields['root.firstName']?.value === 'Łukasz')!;
    expect(lukasz.fields['work.department']).toEqual({ value: expect.stringMatching(/^\d+$/) });
  });

  it('a column named in the connection can be the identity: every row with a HiBob id is an employee', async () => {
    const population = await readHibobPopulation(
      source(),
      connection({ name: 'learning FEED', identityColumn: 'Bob ID', columns: { 'Bob ID': 'root.id' } }),
      {},
    );
    expect(population.source).toMatchObject({ reportName: 'Learning feed' });
    expect(population.problems).toEqual([]);
    const bySearch = await searched('APPEND');
    expect([...population.records].map((r) => normaliseEmployee(r))).toEqual([...bySearch.values()]);
  });
});

describe('rows left out', () => {
  it('a row sharing an email with another is a problem, not a record, and its id is held', async () => {
    const people = emu.listEmployees().filter((p) => p.email);
    const [first, second] = [people[3]!, people[4]!];
    const before = second.email!;
    emu.changeEmail(second.id, first.email!.toUpperCase());
    try {
      const population = await readHibobPopulation(source(), connection({ name: 'Learning feed' }), {});
      const ids = [...population.records].map((r) => String(r.id));
      expect(ids).not.toContain(first.id);
      expect(ids).not.toContain(second.id);
      const duplicates = population.problems.filter(
        (p) => p.code === 'duplicateIdentity' && [first.id, second.id].includes(p.employeeId!),
      );
      expect(duplicates).toHaveLength(2);
      for (const p of duplicates) {
        expect(p.message).toContain('report "Learning feed"');
        expect(p.message).toContain('identity column "Email"');
      }
      expect(population.heldEmployeeIds).toEqual(expect.arrayContaining([first.id, second.id]));
      expect(population.heldKeys.map((k) => k.toLowerCase())).toContain(first.email!.toLowerCase());
      // The people without an email are held too; nobody is lost.
      expect(population.problems.some((p) => p.code === 'emptyIdentity')).toBe(true);
      expect(new Set([...ids, ...population.heldEmployeeIds]).size).toBe(30);
    } finally {
      emu.changeEmail(second.id, before);
    }
  });
});

describe('a report that does not fit', () => {
  it('a missing mapped column stops the run, naming the column and the report', async () => {
    const err = await failureOf(
      readHibobPopulation(source(), connection({ name: 'Learning feed (no department)' }), {}),
    );
    expect(err).toMatchObject({ type: 'reportColumns', nonRetryable: true });
    expect(err.message).toContain('report "Learning feed (no department)" has no column "Department"');
    expect(err.message).toContain('work.department');
  });

  it('every missing column is listed, under the name the connection gives it', async () => {
    const err = await failureOf(
      readHibobPopulation(
        source(),
        connection({ name: 'Learning feed (no department, no title)', columns: { Team: 'work.department' } }),
        {},
      ),
    );
    expect(err).toMatchObject({ type: 'reportColumns', nonRetryable: true });
    expect(err.message).toContain('report "Learning feed (no department, no title)" has no column "Team"');
    expect(err.message).toContain('report "Learning feed (no department, no title)" has no column "Job title"');
  });

  it('a missing identity column stops the run', async () => {
    const err = await failureOf(
      readHibobPopulation(source(), connection({ name: 'Learning feed', identityColumn: 'Work email' }), {}),
    );
    expect(err).toMatchObject({ type: 'reportColumns', nonRetryable: true });
    expect(err.message).toContain('report "Learning feed" has no identity column "Work email"');
  });

  it('site columns are needed only when the mapping reads sites', async () => {
    const plain = { fields: {}, customFields: [] } satisfies MappingInput;
    const population = await readHibobPopulation(source(), connection({ name: 'Learning feed (no sites)' }, plain), {});
    expect(population.records.length).toBeGreaterThan(20);
    const zones = await failureOf(
      readHibobPopulation(
        source(),
        connection(
          { name: 'Learning feed (no sites)' },
          { ...plain, status: { siteTimeZones: { London: 'Europe/London' } } },
        ),
        {},
      ),
    );
    expect(zones).toMatchObject({ type: 'reportColumns', nonRetryable: true });
    expect(zones.message).toContain('report "Learning feed (no sites)" has no column "Site" or "Site ID"');
    const rule = await failureOf(readHibobPopulation(source(), connection({ name: 'Learning feed (no sites)' }), {}));
    expect(rule.message).toContain('report "Learning feed (no sites)" has no column "Site"');
    expect(rule.message).toContain('groups[0]');
  });

  it('an unknown report name stops the run, naming it and the reports there are', async () => {
    const err = await failureOf(readHibobPopulation(source(), connection({ name: 'LMS export' }), {}));
    expect(err).toMatchObject({ type: 'reportNotFound', nonRetryable: true });
    expect(err.message).toContain('"LMS export"');
    expect(err.message).toContain('"Learning feed", "Learning feed (no department)"');
  });
});

describe('waiting for the report', () => {
  it('heartbeats while the asynchronous report file is being built', async () => {
    const beats: unknown[] = [];
    const population = await readHibobPopulation(source(), connection({ name: 'Learning feed' }), {
      downloadMode: 'async',
      heartbeat: (d) => beats.push(d),
      heartbeatIntervalMs: 50,
    });
    expect(population.records.length).toBeGreaterThan(20);
    const waiting = beats.filter((b) => typeof (b as { waitedMs?: unknown }).waitedMs === 'number');
    expect(waiting.length).toBeGreaterThanOrEqual(2);
    expect(beats.at(-1)).toEqual({ phase: 'report', report: 'Learning feed', reportId: '501', rows: 30, via: 'async' });
  });

  it('a cancelled read stops waiting for the file', async () => {
    emu.updateSettings({ reportAsyncDelayMs: 60_000 });
    try {
      const started = Date.now();
      const read = readHibobPopulation(source(), connection({ name: 'Learning feed' }), {
        downloadMode: 'async',
        signal: AbortSignal.timeout(200),
      });
      await expect(read).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      emu.updateSettings({ reportAsyncDelayMs: 400 });
    }
  });
});

describe('report clients', () => {
  it('one per connection, built from its source and its token', () => {
    const clients = hibobReportClients(ENV);
    const a = connection({ name: 'Learning feed' });
    expect(clients(a)).toBe(clients(connection({ name: 'Learning feed' })));
    expect(clients({ ...a, name: 'other-connection' })).not.toBe(clients(a));
    expect(() => hibobReportClients({})(a)).toThrow(TOKEN_ENV);
  });
});
