import { hibobFieldsFor, normaliseEmployee } from '../../src/domain/normalise';
import { mapping, rawEmployee } from './domain-fixtures';

/** The response example of contracts/hibob.md §4.8, with the slash keys it says it left out. */
const contractExample = {
  '/root/id': { value: '3332883894235038486' },
  '/root/email': { value: 'jane.doe@example.com' },
  '/root/firstName': { value: 'Jane' },
  '/root/surname': { value: 'Doe' },
  '/work/department': { value: '209192163' },
  '/work/reportsTo': { value: { id: '3332883804594373380', displayName: 'Alan Tullin' } },
  '/work/startDate': { value: '2021-05-04' },
  '/internal/status': { value: 'Active' },
  '/internal/lifecycleStatus': { value: 'employed' },
  id: '3332883894235038486',
  email: 'jane.doe@example.com',
  firstName: 'Jane',
  surname: 'Doe',
  work: {
    department: '209192163',
    title: null,
    reportsTo: {
      id: '3332883804594373380',
      firstName: 'Alan',
      surname: 'Tullin',
      displayName: 'Alan Tullin',
      email: 'alan@example.com',
    },
    startDate: '2021-05-04',
  },
  internal: { status: 'Active', lifecycleStatus: 'employed', terminationDate: null },
  humanReadable: {
    id: '3332883894235038486',
    work: { department: 'Engineering', startDate: '04/05/2021' },
    internal: { status: 'Active', lifecycleStatus: 'Employed' },
  },
};

describe('normaliseEmployee', () => {
  it('reads the contract example: nested values, labels, manager, lifecycle', () => {
    const e = normaliseEmployee(contractExample);
    expect(e.id).toBe('3332883894235038486');
    expect(e.email).toBe('jane.doe@example.com');
    expect(e.managerId).toBe('3332883804594373380');
    expect(e.lifecycle).toEqual({
      status: 'employed',
      internalStatus: 'Active',
      startDate: '2021-05-04',
      terminationDate: null,
      lastDayOfWork: undefined,
    });
    expect(e.fields['work.department']).toEqual({ value: '209192163', label: 'Engineering' });
    expect(e.fields['work.startDate']).toEqual({ value: '2021-05-04', label: '04/05/2021' });
    expect(e.fields['root.firstName']).toEqual({ value: 'Jane' });
    expect(e.fields['work.reportsTo']).toEqual({ value: '3332883804594373380', label: 'Alan Tullin' });
    expect(e.siteTimeZone).toBeUndefined();
  });

  it('keeps null (present but empty) apart from undefined (not returned)', () => {
    const e = normaliseEmployee(contractExample);
    expect(e.fields['work.title']).toEqual({ value: null });
    expect('work.title' in e.fields).toBe(true);
    expect(e.fields['work.site']).toBeUndefined();
    expect(e.lifecycle.terminationDate).toBeNull();
    expect(e.lifecycle.lastDayOfWork).toBeUndefined();
  });

  it('falls back to slash keys only when the nested value is missing', () => {
    const e = normaliseEmployee({
      id: '1',
      '/root/email': { value: 'slash@example.com' },
      '/work/department': { value: 'from-slash' },
      work: { department: 'nested' },
      '/payroll/employment/type': { value: '7' },
      '/work/reportsTo': { value: { id: '99', displayName: 'Boss' } },
    });
    expect(e.email).toBe('slash@example.com');
    expect(e.fields['work.department']!.value).toBe('nested');
    expect(e.fields['payroll.employment.type']!.value).toBe('7');
    expect(e.managerId).toBe('99');
    expect(e.fields['work.reportsTo']!.label).toBe('Boss');
  });

  it('reads deep categories, multi-lists, numbers, booleans and periods', () => {
    const e = normaliseEmployee({
      id: 7,
      payroll: { employment: { type: '3', contract: null } },
      about: { hobbies: ['1', '2'], socialData: {} },
      work: {
        employeeIdInCompany: 1042,
        isManager: true,
        tenureDuration: { periodISO: 'P4Y', sortFactor: 1, humanize: '4 years' },
      },
      employee: { lastDayOfWork: '2026-03-31' },
      humanReadable: { payroll: { employment: { type: 'Full time' } }, about: { hobbies: ['Chess', 'Running'] } },
    });
    expect(e.id).toBe('7');
    expect(e.fields['payroll.employment.type']).toEqual({ value: '3', label: 'Full time' });
    expect(e.fields['payroll.employment.contract']).toEqual({ value: null });
    expect(e.fields['about.hobbies']).toEqual({ value: ['1', '2'], label: 'Chess, Running' });
    expect(e.fields['about.socialData']).toBeUndefined();
    expect(e.fields['work.employeeIdInCompany']).toEqual({ value: 1042 });
    expect(e.fields['work.isManager']).toEqual({ value: true });
    expect(e.fields['work.tenureDuration']).toEqual({ value: 'P4Y', label: '4 years' });
    expect(e.lifecycle.lastDayOfWork).toBe('2026-03-31');
    expect(e.email).toBeUndefined();
    expect(e.managerId).toBeUndefined();
  });

  it('gives an empty manager as null and a present manager object as its id string', () => {
    expect(normaliseEmployee(rawEmployee({ reportsTo: null })).managerId).toBeNull();
    expect(normaliseEmployee({ id: '1', work: { manager: { id: '5' } } }).managerId).toBe('5');
  });

  it('lower-cases lifecycle values and uses the label when a tenant sends a list item id', () => {
    expect(normaliseEmployee(rawEmployee({ lifecycleStatus: 'Parental Leave ' })).lifecycle.status).toBe(
      'parental leave',
    );
    const byId = normaliseEmployee({
      id: '1',
      internal: { lifecycleStatus: '12' },
      humanReadable: { internal: { lifecycleStatus: 'Garden Leave' } },
    });
    expect(byId.lifecycle.status).toBe('garden leave');
    expect(normaliseEmployee({ id: '1', internal: { lifecycleStatus: null } }).lifecycle.status).toBeNull();
  });

  it('keeps dates as calendar dates, trims the time part, and empties blank text', () => {
    const e = normaliseEmployee({
      id: '1',
      email: '  ',
      work: { startDate: '2026-04-01T00:00:00' },
      internal: { terminationDate: '' },
    });
    expect(e.lifecycle.startDate).toBe('2026-04-01');
    expect(e.lifecycle.terminationDate).toBeNull();
    expect(e.email).toBeNull();
  });

  it('keeps long ids as strings', () => {
    const e = normaliseEmployee(
      rawEmployee({
        id: '3332883894235038486',
        reportsTo: { id: '3332883804594373380', firstName: 'A', surname: 'B' },
      }),
    );
    expect(e.id).toBe('3332883894235038486');
    expect(e.managerId).toBe('3332883804594373380');
  });

  it('refuses an employee without root.id', () => {
    expect(() => normaliseEmployee({ email: 'x@example.com' })).toThrow(/root\.id/);
    expect(() => normaliseEmployee({ id: null })).toThrow(/root\.id/);
  });

  it('accepts root fields under a root object and labels under humanReadable.root', () => {
    const e = normaliseEmployee({
      root: { id: '1', displayName: 'J' },
      humanReadable: { root: { displayName: 'Jane D.' } },
    });
    expect(e.id).toBe('1');
    expect(e.fields['root.displayName']).toEqual({ value: 'J', label: 'Jane D.' });
  });

  describe('site time zone', () => {
    it('comes from the site name or site id through the map, case-insensitively', () => {
      const zones = { london: 'Europe/London', '2154020': 'Asia/Jerusalem' };
      expect(normaliseEmployee(rawEmployee({ site: 'London' }), { siteTimeZones: zones }).siteTimeZone).toBe(
        'Europe/London',
      );
      const bySiteId = normaliseEmployee(
        { id: '1', work: { siteId: 2154020 }, humanReadable: { work: { siteId: 'Tel Aviv' } } },
        { siteTimeZones: zones },
      );
      expect(bySiteId.siteTimeZone).toBe('Asia/Jerusalem');
      const byLabel = normaliseEmployee(
        { id: '1', work: { siteId: 5 }, humanReadable: { work: { siteId: 'New York' } } },
        { siteTimeZones: { 'New York': 'America/New_York' } },
      );
      expect(byLabel.siteTimeZone).toBe('America/New_York');
    });

    it('prefers a time zone field, ignores unknown zones and unknown sites', () => {
      const raw = { id: '1', work: { site: 'London', siteTimeZone: 'Australia/Sydney' } };
      expect(normaliseEmployee(raw, { siteTimeZones: { London: 'Europe/London' } }).siteTimeZone).toBe(
        'Australia/Sydney',
      );
      expect(
        normaliseEmployee({ id: '1', custom: { tz: 'Asia/Tokyo' } }, { timeZoneField: 'custom.tz' }).siteTimeZone,
      ).toBe('Asia/Tokyo');
      expect(
        normaliseEmployee({ id: '1', work: { site: 'London', siteTimeZone: 'Nowhere/Land' } }).siteTimeZone,
      ).toBeUndefined();
      expect(
        normaliseEmployee(rawEmployee({ site: 'Paris' }), { siteTimeZones: { London: 'Europe/London' } }).siteTimeZone,
      ).toBeUndefined();
    });
  });
});

describe('hibobFieldsFor', () => {
  it('requests the status fields, dates, manager and site for the default mapping', () => {
    expect(hibobFieldsFor(mapping())).toEqual([
      'employee.lastDayOfWork',
      'internal.lifecycleStatus',
      'internal.status',
      'internal.terminationDate',
      'root.email',
      'root.firstName',
      'root.id',
      'root.surname',
      'work.department',
      'work.reportsTo',
      'work.site',
      'work.siteId',
      'work.startDate',
      'work.title',
    ]);
  });

  it('adds every field named by expressions, templates, conditions and the time zone field, once', () => {
    const fields = hibobFieldsFor(
      mapping({
        manager: { enabled: false },
        fields: {
          job: { template: '{work.title|label} - {payroll.employment.type|label}' },
          lang: { from: 'address.country', label: true },
          phone: null,
        },
        customFields: [
          { name: 'Hobbies', source: { from: 'about.hobbies', label: true } },
          { name: 'Const', source: { value: 'x' } },
        ],
        groups: [
          {
            when: {
              any: [{ field: 'work.department', equals: '1' }, { not: { field: 'custom.field_17', exists: true } }],
            },
            groupId: '65a0c0ffee0000000000e001',
          },
        ],
        scope: {
          include: { field: 'payroll.employment.type', equals: '1' },
          exclude: { field: 'root.email', matches: 'x' },
        },
        status: { timeZoneField: 'custom.tz' },
      }),
    );
    expect(fields).toEqual([...new Set(fields)].sort());
    expect(fields).not.toContain('work.reportsTo');
    for (const f of [
      'work.title',
      'payroll.employment.type',
      'address.country',
      'about.hobbies',
      'work.department',
      'custom.field_17',
      'root.email',
      'custom.tz',
    ]) {
      expect(fields).toContain(f);
    }
  });
});
