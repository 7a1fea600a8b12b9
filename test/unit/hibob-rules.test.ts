/** Pure pieces of the HiBob emulator: request validation, lifecycle rules, dates, rendering, signatures. */
import { createHmac } from 'node:crypto';
import { addDays, localDate, periodBetween, zonedMidnight } from '../../packages/local/emulators/hibob/dates';
import { FieldCatalog, type ReadEnv } from '../../packages/local/emulators/hibob/fields';
import { formatMicros, MicrosecondStamper } from '../../packages/local/emulators/hibob/ids';
import { nextTransition, settle, transitionEvents } from '../../packages/local/emulators/hibob/lifecycle';
import { DEFAULT_NAMED_LISTS, ListIndex } from '../../packages/local/emulators/hibob/lists';
import { parseReadBody, parseSearchBody } from '../../packages/local/emulators/hibob/people-request';
import { renderEmployee } from '../../packages/local/emulators/hibob/render';
import type { HibobEmployeeRecord } from '../../packages/local/emulators/hibob/types';
import { bobSignature, envelopeBody } from '../../packages/local/emulators/hibob/webhook-payload';

function record(overrides: Partial<HibobEmployeeRecord> = {}): HibobEmployeeRecord {
  return {
    id: '3332883894235038486',
    email: 'jane.doe@example.com',
    firstName: 'Jane',
    surname: 'Doe',
    displayName: null,
    employeeIdInCompany: 1042,
    creationDateTime: '2021-04-01T09:00:00.000000',
    avatarUrl: null,
    about: null,
    contract: null,
    weeklyHours: null,
    title: null,
    department: '209192110',
    siteId: 2154020,
    reportsTo: null,
    startDate: '2021-05-04',
    status: 'Active',
    lifecycleStatus: 'employed',
    terminationDate: null,
    terminationReason: null,
    lastDayOfWork: null,
    employmentType: null,
    country: null,
    city: null,
    shortBirthDate: null,
    leave: null,
    lifecycle: [],
    custom: {},
    ...overrides,
  };
}

describe('search body validation', () => {
  it('accepts the documented shapes', () => {
    expect(parseSearchBody(undefined)).toEqual({
      ok: true,
      value: { fields: undefined, filter: undefined, showInactive: false, humanReadable: 'none' },
    });
    expect(parseSearchBody({ fields: ['root.id'], showInactive: true, humanReadable: 'Replace' })).toMatchObject({
      ok: true,
      value: { showInactive: true, humanReadable: 'replace' },
    });
    expect(
      parseSearchBody({ filters: [{ fieldPath: 'root.email', operator: 'equals', values: ['a@b.c'] }] }),
    ).toMatchObject({
      ok: true,
      value: { filter: { fieldPath: 'root.email', values: ['a@b.c'] } },
    });
  });

  it.each([
    { filters: [] },
    { filters: [{ fieldPath: 'root.id', operator: 'equals' }] },
    { filters: [{ fieldPath: 'root.surname', operator: 'equals', values: ['x'] }] },
    { fields: Array.from({ length: 401 }, () => 'root.id') },
    { humanReadable: 5 },
    { cursor: 'abc' },
  ])('rejects %p', (body) => {
    expect(parseSearchBody(body).ok).toBe(false);
  });

  it('allows only fields and humanReadable on a single read', () => {
    expect(parseReadBody({ fields: ['root.id'], humanReadable: 'APPEND' }).ok).toBe(true);
    expect(parseReadBody({ showInactive: true }).ok).toBe(false);
  });
});

describe('lifecycle rules', () => {
  it('starts a hire on the start date', () => {
    const hire = record({ lifecycleStatus: 'hired', status: 'Inactive', startDate: '2025-03-10' });
    expect(nextTransition(hire, '2025-03-09')).toBeNull();
    expect(nextTransition(hire, '2025-03-10')).toEqual({
      effectiveDate: '2025-03-10',
      to: { lifecycleStatus: 'employed', status: 'Active' },
      clearLeave: false,
    });
  });

  it('walks hire → employed → terminated in one settle when both dates passed', () => {
    const r = record({
      lifecycleStatus: 'hired',
      status: 'Inactive',
      startDate: '2025-01-01',
      terminationDate: '2025-02-01',
      lastDayOfWork: '2025-02-01',
    });
    expect(settle(r, '2025-03-01').map((t) => t.to.lifecycleStatus)).toEqual(['employed', 'terminated']);
    expect(r.status).toBe('Inactive');
  });

  it('models garden leave when the last day of work follows the termination date', () => {
    const r = record({ terminationDate: '2025-03-01', lastDayOfWork: '2025-03-31' });
    expect(settle(r, '2025-03-15').map((t) => t.to)).toEqual([{ lifecycleStatus: 'garden leave', status: 'Active' }]);
    expect(nextTransition(r, '2025-03-31')).toBeNull();
    expect(nextTransition(r, '2025-04-01')).toMatchObject({
      effectiveDate: '2025-04-01',
      to: { lifecycleStatus: 'terminated', status: 'Inactive' },
    });
  });

  it('names the events of each change', () => {
    expect(
      transitionEvents(
        { lifecycleStatus: 'hired', status: 'Inactive' },
        { lifecycleStatus: 'employed', status: 'Active' },
      ),
    ).toEqual(['employee.joined', 'employee.activated']);
    expect(
      transitionEvents(
        { lifecycleStatus: 'employed', status: 'Active' },
        { lifecycleStatus: 'terminated', status: 'Inactive' },
      ),
    ).toEqual(['employee.left', 'employee.inactivated']);
    expect(
      transitionEvents(
        { lifecycleStatus: 'garden leave', status: 'Active' },
        { lifecycleStatus: 'terminated', status: 'Inactive' },
      ),
    ).toEqual(['employee.inactivated']);
    expect(
      transitionEvents(
        { lifecycleStatus: 'employed', status: 'Active' },
        { lifecycleStatus: 'parental leave', status: 'Active' },
      ),
    ).toEqual(['employee.temporaryLeave']);
  });
});

describe('dates', () => {
  it('finds local midnight across zones and DST changes', () => {
    expect(zonedMidnight('2025-03-10', 'Australia/Sydney').toISOString()).toBe('2025-03-09T13:00:00.000Z');
    expect(zonedMidnight('2025-03-10', 'America/New_York').toISOString()).toBe('2025-03-10T04:00:00.000Z');
    expect(zonedMidnight('2025-03-09', 'America/New_York').toISOString()).toBe('2025-03-09T05:00:00.000Z');
    expect(zonedMidnight('2025-07-01', 'Asia/Jerusalem').toISOString()).toBe('2025-06-30T21:00:00.000Z');
    expect(localDate(new Date('2025-03-09T13:00:00Z'), 'Australia/Sydney')).toBe('2025-03-10');
    expect(localDate(new Date('2025-03-09T12:59:59Z'), 'Australia/Sydney')).toBe('2025-03-09');
  });

  it('computes periods and adds days', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(periodBetween('2021-05-04', '2024-07-10')).toEqual({
      periodISO: 'P3Y2M6D',
      sortFactor: 1163,
      humanize: '3 years, 2 months',
    });
    expect(periodBetween('2025-01-01', '2024-01-01')).toBeNull();
  });

  it('formats Bob timestamps with microseconds and no zone, strictly increasing', () => {
    expect(formatMicros(Date.parse('2025-01-08T13:06:26.915Z') * 1000 + 906)).toBe('2025-01-08T13:06:26.915906');
    const s = new MicrosecondStamper();
    const at = Date.parse('2025-01-08T13:06:26.915Z');
    expect([s.stamp(at), s.stamp(at)]).toEqual(['2025-01-08T13:06:26.915000', '2025-01-08T13:06:26.915001']);
  });
});

describe('dual shape rendering', () => {
  const catalog = new FieldCatalog();
  const manager = record({
    id: '3332883804594373380',
    firstName: 'Alan',
    surname: 'Tullin',
    email: 'alan@example.com',
  });
  const env: ReadEnv = {
    companyId: 636192,
    today: '2025-06-16',
    lists: new ListIndex(DEFAULT_NAMED_LISTS),
    lookup: (id) => (id === manager.id ? manager : undefined),
    directReports: () => 0,
  };
  const fields = [
    'root.id',
    'root.email',
    'work.department',
    'work.reportsTo',
    'work.startDate',
    'internal.status',
    'internal.terminationDate',
  ].map((id) => catalog.get(id)!);

  it('matches the contract example', () => {
    const out = renderEmployee(record({ reportsTo: manager.id }), fields, env, {
      mode: 'append',
      dateFormat: 'DD/MM/YYYY',
    });
    expect(out).toEqual({
      '/root/id': { value: '3332883894235038486' },
      '/root/email': { value: 'jane.doe@example.com' },
      '/work/department': { value: '209192110' },
      '/work/reportsTo': {
        value: {
          id: manager.id,
          firstName: 'Alan',
          surname: 'Tullin',
          displayName: 'Alan Tullin',
          email: 'alan@example.com',
        },
      },
      '/work/startDate': { value: '2021-05-04' },
      '/internal/status': { value: 'Active' },
      id: '3332883894235038486',
      email: 'jane.doe@example.com',
      work: {
        department: '209192110',
        reportsTo: {
          id: manager.id,
          firstName: 'Alan',
          surname: 'Tullin',
          displayName: 'Alan Tullin',
          email: 'alan@example.com',
        },
        startDate: '2021-05-04',
      },
      internal: { status: 'Active', terminationDate: null },
      humanReadable: {
        id: '3332883894235038486',
        email: 'jane.doe@example.com',
        work: { department: 'Engineering', reportsTo: 'Alan Tullin', startDate: '04/05/2021' },
        internal: { status: 'Active', terminationDate: null },
      },
    });
  });
});

describe('webhook payloads', () => {
  it('signs with Base64(HMAC-SHA512(secret, body))', () => {
    const body = envelopeBody(
      {
        type: 'employee.updated',
        triggeredBy: '3332883804594373380',
        data: { employeeId: '3332883854254932743' },
        changes: [{ fieldId: 'root.surname', oldValue: 'A', newValue: 'B' }],
      },
      { companyId: 636192, triggeredAt: '2025-01-08T13:06:26.915906', variant: 'fieldId' },
    );
    expect(body).toBe(
      '{"companyId":636192,"type":"employee.updated","triggeredBy":"3332883804594373380","triggeredAt":"2025-01-08T13:06:26.915906","version":"v2","data":{"employeeId":"3332883854254932743","fieldUpdates":[{"fieldId":"root.surname"}]}}',
    );
    expect(bobSignature('s3cret', body)).toBe(createHmac('sha512', 's3cret').update(body, 'utf8').digest('base64'));
  });
});
