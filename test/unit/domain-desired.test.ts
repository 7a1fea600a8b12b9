import { desiredLearner, emailProblem, isParked, managedGroupRoles } from '../../src/domain/desired';
import type { DesiredLearner, ParkedEmployee } from '../../src/domain/types';
import { employee, GROUP_ENG, GROUP_LONDON, GROUP_SALES, mapping, NOW } from './domain-fixtures';

function desired(result: DesiredLearner | ParkedEmployee): DesiredLearner {
  if (isParked(result)) throw new Error(`parked: ${result.park}`);
  return result;
}

function parked(result: DesiredLearner | ParkedEmployee): ParkedEmployee {
  if (!isParked(result)) throw new Error('expected the employee to be parked');
  return result;
}

describe('desiredLearner with the default mapping', () => {
  it('maps the standard fields, manager and status', () => {
    const d = desired(desiredLearner(employee({ email: '  Jane.Doe@Example.com ' }), mapping(), NOW));
    expect(d).toEqual({
      employeeId: '3332883894235038486',
      inScope: true,
      status: { state: 'active', reason: 'lifecycle status is employed' },
      fields: {
        mail: 'jane.doe@example.com',
        firstName: 'Jane',
        lastName: 'Doe',
        job: 'Software Engineer',
        organization: 'Engineering',
      },
      customFields: {},
      managerEmployeeId: '3332883804594373380',
      groups: [],
      provenance: {
        scope: 'in scope (no scope rules)',
        mail: 'fields.mail ← root.email | trim | lowercase',
        firstName: 'fields.firstName ← root.firstName | trim',
        lastName: 'fields.lastName ← root.surname | trim',
        job: 'fields.job ← work.title (label)',
        organization: 'fields.organization ← work.department (label)',
        manager: 'manager ← work.reportsTo',
      },
    });
  });

  it('null in HiBob clears; a field HiBob did not return is left out (untouched)', () => {
    const d = desired(desiredLearner(employee({ title: null, department: undefined }), mapping(), NOW));
    expect(d.fields.job).toBeNull();
    expect('organization' in d.fields).toBe(true);
    const raw = employee();
    delete raw.fields['work.department'];
    const untouched = desired(desiredLearner(raw, mapping(), NOW));
    expect('organization' in untouched.fields).toBe(false);
  });

  it('no manager → null; manager unreadable → untouched; manager disabled → untouched; self → null', () => {
    expect(desired(desiredLearner(employee({ reportsTo: null }), mapping(), NOW)).managerEmployeeId).toBeNull();
    const unreadable = employee();
    delete unreadable.managerId;
    expect('managerEmployeeId' in desired(desiredLearner(unreadable, mapping(), NOW))).toBe(false);
    expect(
      'managerEmployeeId' in desired(desiredLearner(employee(), mapping({ manager: { enabled: false } }), NOW)),
    ).toBe(false);
    const self = employee({ reportsTo: { id: '3332883894235038486', firstName: 'Jane', surname: 'Doe' } });
    expect(desired(desiredLearner(self, mapping(), NOW)).managerEmployeeId).toBeNull();
  });
});

describe('email checks', () => {
  it.each([
    ['jane.doe@example.com', undefined],
    ["o'neil@example.co.uk", undefined],
    ['first+tag@sub.example.io', undefined],
    ['x@xn--bcher-kva.example', undefined],
    ['jane doe@example.com', 'contains a space'],
    ['jane.doe.example.com', 'needs a name, an @ and a domain'],
    ['@example.com', 'needs a name, an @ and a domain'],
    ['jane@', 'needs a name, an @ and a domain'],
    ['a@b@example.com', 'has more than one @'],
    ['jane..doe@example.com', 'has characters or dots before the @ that addresses cannot hold'],
    ['.jane@example.com', 'has characters or dots before the @ that addresses cannot hold'],
    ['jane(doe)@example.com', 'has characters or dots before the @ that addresses cannot hold'],
    ['jané@example.com', 'has characters or dots before the @ that addresses cannot hold'],
    ['jane@localhost', 'has a domain without a dot'],
    ['jane@-example.com', 'has an invalid domain "-example.com"'],
    ['jane@example..com', 'has an invalid domain "example..com"'],
    ['jane@example.c', 'has an invalid top-level domain in "example.c"'],
    ['jane@example.123', 'has an invalid top-level domain in "example.123"'],
    [`${'a'.repeat(65)}@example.com`, 'has more than 64 characters before the @'],
    [`a@${'b'.repeat(250)}.com`, 'is longer than 254 characters'],
  ])('%s → %s', (mail, problem) => {
    expect(emailProblem(mail)).toBe(problem);
  });

  it('apostrophes can be refused for destinations that reject them (Skillcast)', () => {
    expect(emailProblem("o'neil@example.com", { allowApostropheInEmail: false })).toBe(
      'contains an apostrophe, which this destination rejects',
    );
    expect(emailProblem("o'neil@example.com", { allowApostropheInEmail: true })).toBeUndefined();
  });

  it('parks an employee who needs an account and has no email or an invalid one', () => {
    expect(desiredLearner(employee({ email: null }), mapping(), NOW)).toEqual({
      employeeId: '3332883894235038486',
      park: 'HiBob holds no email for this employee',
      code: 'missingEmail',
    });
    expect(parked(desiredLearner(employee({ email: undefined }), mapping(), NOW)).park).toContain(
      'did not return the email field',
    );
    expect(parked(desiredLearner(employee({ email: 'jane doe@example.com' }), mapping(), NOW))).toMatchObject({
      code: 'invalidEmail',
      park: 'email "jane doe@example.com" contains a space',
    });
    expect(
      parked(
        desiredLearner(employee({ email: "o'neil@example.com" }), mapping(), NOW, { allowApostropheInEmail: false }),
      ).code,
    ).toBe('invalidEmail');
    const future = employee({
      email: null,
      lifecycleStatus: 'hired',
      internalStatus: 'Inactive',
      startDate: '2026-04-01',
    });
    expect(parked(desiredLearner(future, mapping(), NOW)).code).toBe('missingEmail');
  });

  it('does not park a leaver for a bad email: the address is left untouched so the learner can still be deactivated', () => {
    const leaver = desired(
      desiredLearner(employee({ email: 'not an email', lifecycleStatus: 'terminated' }), mapping(), NOW),
    );
    expect(leaver.status.state).toBe('inactive');
    expect('mail' in leaver.fields).toBe(false);
    expect(leaver.fields.firstName).toBe('Jane');
  });

  it('an unmapped mail is not checked', () => {
    const d = desired(desiredLearner(employee({ email: null }), mapping({ fields: { mail: null } }), NOW));
    expect('mail' in d.fields).toBe(false);
  });
});

describe('standard and custom fields', () => {
  it('templates, constants, transforms and language maps', () => {
    const m = mapping({
      fields: {
        job: { template: '{work.title|label} – {work.department|label}' },
        phone: { template: '+44 {work.phone}', transforms: [{ replace: { pattern: '[^+\\d]', with: '' } }] },
        lang: {
          from: 'address.country',
          label: true,
          transforms: [{ map: { france: 'fr', germany: 'de' }, caseInsensitive: true, default: 'en' }],
        },
        firstName: { from: 'root.firstName', transforms: ['uppercase'] },
      },
    });
    const fr = desired(
      desiredLearner(
        employee({
          extra: { 'address.country': { value: '77', label: 'France' }, 'work.phone': { value: '(0)20 7946-0000' } },
        }),
        m,
        NOW,
      ),
    );
    expect(fr.fields).toMatchObject({
      job: 'Software Engineer – Engineering',
      phone: '+4402079460000',
      lang: 'fr',
      firstName: 'JANE',
    });
    expect(() => mapping({ fields: { phone: { value: 'x', transforms: ['trim'] } } as never })).toThrow(
      /Unrecognized key/,
    );
    const other = desired(
      desiredLearner(employee({ extra: { 'address.country': { value: '9', label: 'Spain' } } }), m, NOW),
    );
    expect(other.fields.lang).toBe('en');
    const none = desired(
      desiredLearner(employee({ extra: { 'address.country': { value: null, label: null } } }), m, NOW),
    );
    expect(none.fields.lang).toBeNull();
    expect(fr.provenance!.lang).toBe('fields.lang ← address.country (label) | map(2 values, default "en")');
  });

  it('custom fields: values, null clears, unreadable is left out, dates must be ISO', () => {
    const m = mapping({
      customFields: [
        { name: 'Department', source: { from: 'work.department', label: true } },
        { name: 'Start date', type: 'date', source: { from: 'work.startDate' } },
        { name: 'Contract', source: { from: 'payroll.employment.contract' } },
        { name: 'Hidden', source: { from: 'custom.notPermitted' } },
      ],
    });
    const d = desired(desiredLearner(employee({ extra: { 'payroll.employment.contract': { value: null } } }), m, NOW));
    expect(d.customFields).toEqual({ Department: 'Engineering', 'Start date': '2021-05-04', Contract: null });
    expect(d.provenance!['customFields.Department']).toBe('customFields "Department" ← work.department (label)');

    const badDate = mapping({
      customFields: [
        {
          name: 'Start',
          type: 'date',
          source: { from: 'work.startDate', transforms: [{ date: { format: 'DD/MM/YYYY' } }] },
        },
      ],
    });
    expect(parked(desiredLearner(employee(), badDate, NOW))).toMatchObject({
      code: 'invalidValue',
      park: 'custom field "Start" is a date field and needs YYYY-MM-DD, but the mapping gives "04/05/2021"',
    });
    const leaver = desired(desiredLearner(employee({ lifecycleStatus: 'terminated' }), badDate, NOW));
    expect(leaver.customFields).toEqual({});
  });
});

describe('scope', () => {
  const contractors = { field: 'payroll.employment.type', label: true, equals: 'Contractor' };
  const withType = (label: string | null) =>
    employee({ extra: { 'payroll.employment.type': { value: label ? '1' : null, label } } });

  it('include and exclude', () => {
    const m = mapping({ scope: { exclude: contractors } });
    expect(desired(desiredLearner(withType('Full time'), m, NOW)).inScope).toBe(true);
    const out = desired(desiredLearner(withType('Contractor'), m, NOW));
    expect(out.inScope).toBe(false);
    expect(out.provenance!.scope).toBe(
      'out of scope: scope.exclude matches (payroll.employment.type (label) equals "Contractor")',
    );
    const inc = mapping({ scope: { include: { field: 'work.site', in: ['London', 'Paris'] } } });
    expect(desired(desiredLearner(employee({ site: 'Paris' }), inc, NOW)).inScope).toBe(true);
    const notIncluded = desired(desiredLearner(employee({ site: 'Rome' }), inc, NOW));
    expect(notIncluded.inScope).toBe(false);
    expect(notIncluded.provenance!.scope).toContain('scope.include is not met');
    expect(desired(desiredLearner(withType(null), m, NOW)).inScope).toBe(true);
  });

  it('an out-of-scope employee is not parked for a bad email', () => {
    const m = mapping({ scope: { exclude: contractors } });
    const e = employee({ email: null, extra: { 'payroll.employment.type': { value: '1', label: 'Contractor' } } });
    expect(desired(desiredLearner(e, m, NOW)).inScope).toBe(false);
  });

  it('a scope that reads a field HiBob did not return is undecidable: park, never guess', () => {
    const m = mapping({ scope: { exclude: contractors } });
    expect(parked(desiredLearner(employee(), m, NOW))).toEqual({
      employeeId: '3332883894235038486',
      park: "scope cannot be decided: HiBob did not return payroll.employment.type (check the service user's permissions)",
      code: 'invalidValue',
    });
    // A decided part wins: excluded by a readable field even though another is unreadable.
    const either = mapping({
      scope: {
        include: {
          any: [
            { field: 'work.site', equals: 'London' },
            { field: 'custom.x', exists: true },
          ],
        },
      },
    });
    expect(desired(desiredLearner(employee(), either, NOW)).inScope).toBe(true);
  });
});

describe('status readability', () => {
  it('parks when neither lifecycle nor internal status is readable', () => {
    const e = employee();
    e.lifecycle = { startDate: '2021-05-04' };
    expect(parked(desiredLearner(e, mapping(), NOW)).park).toContain('status cannot be decided');
    e.lifecycle.internalStatus = 'Active';
    expect(desired(desiredLearner(e, mapping(), NOW)).status.state).toBe('active');
    expect(parked(desiredLearner(e, mapping({ status: { useInternalStatus: false } }), NOW)).code).toBe('invalidValue');
  });
});

describe('group rules', () => {
  const m = mapping({
    groups: [
      { when: { field: 'work.department', label: true, equals: 'Engineering' }, groupId: GROUP_ENG },
      { when: { field: 'work.department', label: true, equals: 'Sales' }, groupId: GROUP_SALES },
      { when: { field: 'work.site', equals: 'London' }, groupId: GROUP_LONDON, role: 'coach' },
      { when: { field: 'custom.team', equals: 'x' }, groupId: GROUP_LONDON },
      { when: { field: 'work.site', exists: true }, groupId: GROUP_ENG },
    ],
  });

  it('gives the roles whose rule holds, once each', () => {
    const d = desired(desiredLearner(employee(), m, NOW));
    expect(d.groups).toEqual([
      { groupId: GROUP_ENG, role: 'learner' },
      { groupId: GROUP_LONDON, role: 'coach' },
    ]);
    expect(d.provenance![`groups.${GROUP_ENG}/learner`]).toBe(
      'groups[0]: work.department (label) equals "Engineering"',
    );
  });

  it('holds roles whose rule reads an unreadable field', () => {
    const d = desired(desiredLearner(employee(), m, NOW));
    expect(d.heldGroups).toEqual([{ groupId: GROUP_LONDON, role: 'learner' }]);
    expect(d.provenance![`groups.${GROUP_LONDON}/learner`]).toContain(
      'cannot be decided: HiBob did not return custom.team',
    );
  });

  it('a role given by one rule is not held by another', () => {
    const twice = mapping({
      groups: [
        { when: { field: 'custom.team', equals: 'x' }, groupId: GROUP_ENG },
        { when: { field: 'work.site', equals: 'London' }, groupId: GROUP_ENG },
      ],
    });
    const d = desired(desiredLearner(employee(), twice, NOW));
    expect(d.groups).toEqual([{ groupId: GROUP_ENG, role: 'learner' }]);
    expect(d.heldGroups).toBeUndefined();
    expect(d.provenance![`groups.${GROUP_ENG}/learner`]).toBe('groups[1]: work.site equals "London"');
  });

  it('managedGroupRoles lists every role the rules can give, once', () => {
    expect(managedGroupRoles(m)).toEqual([
      { groupId: GROUP_ENG, role: 'learner' },
      { groupId: GROUP_SALES, role: 'learner' },
      { groupId: GROUP_LONDON, role: 'coach' },
      { groupId: GROUP_LONDON, role: 'learner' },
    ]);
  });
});
