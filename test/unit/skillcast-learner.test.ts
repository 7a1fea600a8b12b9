/**
 * How a Skillcast SCIM user and the plan's learner translate into each other: the fields the
 * plan compares, archive as `deleted`, and the PATCH changes an update or a new address makes.
 */
import { learnerFromScim, scimChangesOf, scimUserToCreate } from '../../src/activities/skillcast';
import { ENTERPRISE_USER_URN, type ScimUser } from '../../src/clients/scim/types';

const EXTENSION = 'urn:ietf:params:scim:schemas:extension:skillcast:2.0:User';

const user: ScimUser = {
  schemas: [],
  id: 'u-1',
  userName: 'jane.doe@northwind.example',
  externalId: '3332883894235038486',
  name: { givenName: 'Jane', familyName: 'Doe' },
  title: 'Engineer',
  active: false,
  emails: [{ value: 'jane.doe@northwind.example', type: 'work', primary: true }],
  phoneNumbers: [{ value: '+44 20 7946 0000', type: 'work' }],
  preferredLanguage: 'en',
  [ENTERPRISE_USER_URN]: {
    organization: 'Platform',
    employeeNumber: '1042',
    department: 'Data',
    manager: { value: 'u-9' },
  },
  [EXTENSION]: { Site: 'London', 'Start Date': '2021-05-04', Empty: '' },
};

describe('a Skillcast user as the plan sees it', () => {
  it('reads the standard fields, the attributes, the manager and the link; archived is deleted', () => {
    expect(learnerFromScim(user, EXTENSION)).toEqual({
      learnerId: 'u-1',
      status: 'deleted',
      fields: {
        mail: 'jane.doe@northwind.example',
        firstName: 'Jane',
        lastName: 'Doe',
        job: 'Engineer',
        organization: 'Platform',
        phone: '+44 20 7946 0000',
        lang: 'en',
        employeeNumber: '1042',
        department: 'Data',
      },
      customFields: { Site: 'London', 'Start Date': '2021-05-04' },
      managerIds: ['u-9'],
      groups: [],
      externalId: '3332883894235038486',
    });
    expect(learnerFromScim({ ...user, active: true }, EXTENSION).status).toBe('active');
  });
});

describe('the changes bobsync sends', () => {
  it('a new address is the same user with a new userName and primary e-mail, never a new user', () => {
    expect(scimChangesOf({ mail: 'jane.smith@northwind.example' })).toEqual({
      userName: 'jane.smith@northwind.example',
      emails: [{ value: 'jane.smith@northwind.example', type: 'work', primary: true }],
    });
  });

  it('names, title, organisation, phone and language map to their SCIM attributes; null clears', () => {
    expect(
      scimChangesOf({ firstName: 'Janet', lastName: null, job: 'Lead', organization: 'Data', phone: null, lang: 'fr' }),
    ).toEqual({
      name: { givenName: 'Janet', familyName: null },
      title: 'Lead',
      enterprise: { organization: 'Data' },
      phoneNumbers: null,
      preferredLanguage: 'fr',
    });
  });

  it('employee number and department are enterprise attributes beside the organisation; null clears', () => {
    expect(scimChangesOf({ organization: 'Platform', employeeNumber: '1042', department: null })).toEqual({
      enterprise: { organization: 'Platform', employeeNumber: '1042', department: null },
    });
    expect(
      scimUserToCreate('3332883894235038486', {
        mail: 'ada@northwind.example',
        employeeNumber: '1043',
        department: 'Data',
      }).enterprise,
    ).toEqual({ employeeNumber: '1043', department: 'Data' });
  });

  it('a new user is created active, linked to the employee, with a display name', () => {
    expect(
      scimUserToCreate('3332883894235038486', {
        mail: 'ada@northwind.example',
        firstName: 'Ada',
        lastName: 'Lovelace',
        job: 'Analyst',
      }),
    ).toEqual({
      userName: 'ada@northwind.example',
      externalId: '3332883894235038486',
      active: true,
      emails: [{ value: 'ada@northwind.example', type: 'work', primary: true }],
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      displayName: 'Ada Lovelace',
      title: 'Analyst',
    });
  });
});
