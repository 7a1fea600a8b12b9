import {
  CORE_USER_URN,
  ENTERPRISE_USER_URN,
  applyChanges,
  buildPatchOperations,
  toUserDocument,
  type ScimUser,
} from '../../src/clients/scim';

const EXT = 'urn:ietf:params:scim:schemas:extension:skillcast:2.0:User';

const current: ScimUser = {
  schemas: [CORE_USER_URN, ENTERPRISE_USER_URN, EXT],
  id: 'u1',
  userName: 'jane.doe@example.com',
  externalId: '333',
  name: { givenName: 'Jane', familyName: 'Doe' },
  title: 'Engineer',
  active: true,
  emails: [{ value: 'jane.doe@example.com', type: 'work', primary: true }],
  [ENTERPRISE_USER_URN]: { employeeNumber: '10', department: 'Engineering' },
  [EXT]: { Site: 'London', 'Start Date': '2021-05-04' },
  meta: { resourceType: 'User', version: 'W/"3"' },
  groups: [{ value: 'g1' }],
};

describe('User documents', () => {
  it('names every extension it carries in schemas', () => {
    expect(toUserDocument({ userName: 'a@b.c' })).toEqual({ schemas: [CORE_USER_URN], userName: 'a@b.c' });
    expect(
      toUserDocument(
        { userName: 'a@b.c', active: false, enterprise: { department: 'Ops' }, custom: { Site: 'Paris' } },
        EXT,
      ),
    ).toEqual({
      schemas: [CORE_USER_URN, ENTERPRISE_USER_URN, EXT],
      userName: 'a@b.c',
      active: false,
      [ENTERPRISE_USER_URN]: { department: 'Ops' },
      [EXT]: { Site: 'Paris' },
    });
    expect(() => toUserDocument({ userName: 'a@b.c', custom: { Site: 'Paris' } })).toThrow(/extension URN/);
  });
});

describe('PATCH operations', () => {
  it('replaces and removes attribute by attribute when the current state is unknown', () => {
    expect(
      buildPatchOperations(
        {
          active: false,
          title: null,
          name: { givenName: 'Janet', middleName: null },
          emails: [{ value: 'j@example.com', type: 'work', primary: true }],
          enterprise: { department: 'Ops', manager: { value: 'm1' } },
          custom: { Site: 'Paris', 'Start Date': '2022-01-01', Department: null, 'Cost Centre': null },
        },
        { extensionUrn: EXT },
      ),
    ).toEqual([
      { op: 'replace', path: 'active', value: false },
      { op: 'remove', path: 'title' },
      { op: 'replace', path: 'emails', value: [{ value: 'j@example.com', type: 'work', primary: true }] },
      { op: 'replace', path: 'name.givenName', value: 'Janet' },
      { op: 'remove', path: 'name.middleName' },
      { op: 'replace', path: `${ENTERPRISE_USER_URN}:department`, value: 'Ops' },
      { op: 'replace', path: `${ENTERPRISE_USER_URN}:manager`, value: { value: 'm1' } },
      { op: 'replace', path: `${EXT}:Site`, value: 'Paris' },
      { op: 'remove', path: `${EXT}:Department` },
      // Names with spaces cannot be a path: they travel in the value of the extension itself.
      { op: 'replace', path: EXT, value: { 'Start Date': '2022-01-01', 'Cost Centre': null } },
    ]);
  });

  it('with the current state: adds what is missing, skips what is equal, never removes what is absent', () => {
    expect(
      buildPatchOperations(
        {
          active: true,
          title: 'Lead',
          displayName: 'Jane Doe',
          nickName: null,
          name: { givenName: 'Jane', familyName: 'Smith' },
          emails: [{ value: 'jane.doe@example.com', type: 'work', primary: true }],
          enterprise: { department: 'Engineering', costCenter: 'CC1' },
          custom: { Site: 'London', 'Start Date': '2021-05-04', Department: 'R&D' },
        },
        { extensionUrn: EXT, current },
      ),
    ).toEqual([
      { op: 'replace', path: 'title', value: 'Lead' },
      { op: 'add', path: 'displayName', value: 'Jane Doe' },
      { op: 'replace', path: 'name.familyName', value: 'Smith' },
      { op: 'add', path: `${ENTERPRISE_USER_URN}:costCenter`, value: 'CC1' },
      { op: 'add', path: `${EXT}:Department`, value: 'R&D' },
    ]);
    expect(
      buildPatchOperations({ active: true, custom: { 'Start Date': '2021-05-04' } }, { extensionUrn: EXT, current }),
    ).toEqual([]);
  });

  it('clears the whole name or enterprise extension with one remove', () => {
    expect(buildPatchOperations({ name: null, enterprise: null })).toEqual([
      { op: 'remove', path: 'name' },
      { op: 'remove', path: ENTERPRISE_USER_URN },
    ]);
  });
});

describe('PUT bodies when a server has no PATCH', () => {
  it('applies the changes to the full current resource and drops what the server owns', () => {
    const doc = applyChanges(
      current,
      {
        active: false,
        title: null,
        name: { givenName: 'Janet' },
        enterprise: { department: null },
        custom: { 'Start Date': null, Site: 'Paris' },
      },
      EXT,
    );
    expect(doc).toEqual({
      schemas: [CORE_USER_URN, ENTERPRISE_USER_URN, EXT],
      id: 'u1',
      userName: 'jane.doe@example.com',
      externalId: '333',
      name: { givenName: 'Janet', familyName: 'Doe' },
      active: false,
      emails: [{ value: 'jane.doe@example.com', type: 'work', primary: true }],
      [ENTERPRISE_USER_URN]: { employeeNumber: '10' },
      [EXT]: { Site: 'Paris' },
    });
    // The caller's resource is left alone.
    expect(current.title).toBe('Engineer');
  });

  it('drops an extension that becomes empty, and its schema', () => {
    const doc = applyChanges(current, { enterprise: null, custom: { Site: null, 'Start Date': null } }, EXT);
    expect(doc.schemas).toEqual([CORE_USER_URN]);
    expect(doc[ENTERPRISE_USER_URN]).toBeUndefined();
    expect(doc[EXT]).toBeUndefined();
  });

  it('matches attribute names case-insensitively, as servers may spell them differently', () => {
    const doc = applyChanges({ ...current, DisplayName: 'Old' }, { displayName: 'New' });
    expect(doc.displayName).toBe('New');
    expect(doc.DisplayName).toBeUndefined();
  });
});
