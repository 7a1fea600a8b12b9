import { ScimError } from '../../packages/local/emulators/skillcast/errors';
import { emailProblem } from '../../packages/local/emulators/skillcast/email-rules';
import { parseFilter } from '../../packages/local/emulators/skillcast/filter';
import { applyPatch, parsePatchRequest, parsePath } from '../../packages/local/emulators/skillcast/patch';
import { DEFAULT_EXTENSION_URN, ENTERPRISE_USER_URN } from '../../packages/local/emulators/skillcast/schemas';
import { parseUserDocument, toDocument, type SchemaContext } from '../../packages/local/emulators/skillcast/user-model';

const ctx: SchemaContext = { extensionUrn: DEFAULT_EXTENSION_URN, attributes: ['Site', 'Start Date'] };

function scimErrorOf(fn: () => unknown): ScimError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ScimError) return err;
    throw err;
  }
  throw new Error('expected a ScimError');
}

describe('emailProblem', () => {
  it.each([
    ['jane@example.com', undefined],
    ["e.o'connor@example.com", 'contains an apostrophe'],
    ['e.o’connor@example.com', 'contains an apostrophe'],
    ['jane doe@example.com', 'contains a space'],
    ['jane@example.com\t', 'contains a space'],
    ['jane.example.com', 'is not an email address'],
    ['a@b@example.com', 'is not an email address'],
  ])('%s → %s', (email, problem) => {
    expect(emailProblem(email)).toBe(problem);
  });
});

describe('parseFilter', () => {
  it('reads eq on userName, externalId and emails.value, in any case and URN-qualified', () => {
    expect(parseFilter('userName eq "jane@example.com"')).toEqual({ attribute: 'userName', value: 'jane@example.com' });
    expect(parseFilter('  EXTERNALID Eq "a \\"quoted\\" id" ')).toEqual({
      attribute: 'externalId',
      value: 'a "quoted" id',
    });
    expect(parseFilter('emails.value eq "x@example.com"').attribute).toBe('emails.value');
    expect(parseFilter('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"').attribute).toBe('userName');
  });

  it.each([
    'userName co "x"',
    'title eq "x"',
    'userName eq x',
    'userName eq "x" or userName eq "y"',
    'userName pr',
    '',
  ])('refuses %p', (filter) => {
    expect(scimErrorOf(() => parseFilter(filter))).toMatchObject({ status: 400, scimType: 'invalidFilter' });
  });
});

describe('parseUserDocument', () => {
  it('canonicalises attribute names and string booleans', () => {
    const data = parseUserDocument(
      {
        USERNAME: 'jane@example.com',
        Name: { GivenName: 'Jane' },
        Active: 'FALSE',
        emails: [{ Value: 'jane@example.com', Primary: 'true' }],
        [`${ENTERPRISE_USER_URN}:employeeNumber`]: '10',
        [DEFAULT_EXTENSION_URN.toUpperCase()]: { Site: 'London', 'Start Date': null },
        id: 'ignored',
        meta: { version: 'ignored' },
      },
      ctx,
      true,
    );
    expect(data).toEqual({
      core: {
        userName: 'jane@example.com',
        name: { givenName: 'Jane' },
        active: false,
        emails: [{ value: 'jane@example.com', primary: true }],
      },
      enterprise: { employeeNumber: '10' },
      attributes: { Site: 'London' },
    });
  });

  it('refuses unknown portal attributes (exact names), two primaries and non-string employee numbers', () => {
    expect(
      scimErrorOf(() =>
        parseUserDocument({ userName: 'a@example.com', [DEFAULT_EXTENSION_URN]: { 'start date': 'x' } }, ctx, true),
      ),
    ).toMatchObject({
      scimType: 'invalidValue',
      message: expect.stringContaining('did you mean "Start Date"'),
    });
    const twoPrimaries = {
      userName: 'a@example.com',
      emails: [
        { value: 'a@example.com', primary: true },
        { value: 'b@example.com', primary: true },
      ],
    };
    expect(scimErrorOf(() => parseUserDocument(twoPrimaries, ctx, true)).scimType).toBe('invalidValue');
    expect(
      scimErrorOf(() => parseUserDocument({ userName: 'a', [ENTERPRISE_USER_URN]: { employeeNumber: 10 } }, ctx, true))
        .scimType,
    ).toBe('invalidValue');
    expect(scimErrorOf(() => parseUserDocument({ userName: 'a', 'urn:example:other': {} }, ctx, true)).scimType).toBe(
      'invalidSyntax',
    );
  });
});

describe('PATCH', () => {
  const base = () =>
    parseUserDocument(
      {
        userName: 'jane@example.com',
        emails: [
          { value: 'jane@example.com', type: 'work', primary: true },
          { value: 'jane@home.example', type: 'home' },
        ],
        [ENTERPRISE_USER_URN]: { department: 'Sales' },
        [DEFAULT_EXTENSION_URN]: { Site: 'London' },
      },
      ctx,
      true,
    );
  const run = (...operations: unknown[]) => {
    const ops = parsePatchRequest({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: operations,
    });
    return parseUserDocument(applyPatch(toDocument(base(), ctx), ops, ctx), ctx, true);
  };

  it('resolves paths to canonical names, URN-qualified ones included', () => {
    expect(parsePath('NAME.GIVENNAME', ctx)).toMatchObject({ container: 'core', attribute: 'name', sub: 'givenName' });
    expect(parsePath('emails[Type eq "work"].Value', ctx)).toMatchObject({
      attribute: 'emails',
      filter: { attribute: 'type', value: 'work' },
      sub: 'value',
    });
    expect(parsePath(`${ENTERPRISE_USER_URN}:Manager.value`, ctx)).toMatchObject({
      container: 'enterprise',
      attribute: 'manager',
      sub: 'value',
    });
    expect(parsePath(`${DEFAULT_EXTENSION_URN}:Start Date`, ctx)).toEqual({
      container: 'extension',
      attribute: 'Start Date',
    });
    expect(parsePath(DEFAULT_EXTENSION_URN, ctx)).toEqual({ container: 'extension' });
    expect(scimErrorOf(() => parsePath('emails[type sw "w"].value', ctx)).scimType).toBe('invalidFilter');
    expect(scimErrorOf(() => parsePath('title[type eq "x"]', ctx)).scimType).toBe('invalidPath');
    expect(scimErrorOf(() => parsePath('meta.version', ctx)).scimType).toBe('mutability');
  });

  it('makes the value just written the only primary', () => {
    const data = run({ op: 'replace', path: 'emails[type eq "home"].primary', value: 'True' });
    expect(data.core.emails).toEqual([
      { value: 'jane@example.com', type: 'work', primary: false },
      { value: 'jane@home.example', type: 'home', primary: true },
    ]);
  });

  it('adds to a multi-valued attribute without duplicating an existing value', () => {
    const data = run({
      op: 'add',
      path: 'emails',
      value: [{ value: 'JANE@home.example', display: 'Home' }, { value: 'j@other.example' }],
    });
    expect(data.core.emails).toEqual([
      { value: 'jane@example.com', type: 'work', primary: true },
      { value: 'JANE@home.example', type: 'home', display: 'Home' },
      { value: 'j@other.example' },
    ]);
  });

  it('replaces a whole multi-valued attribute, removes named values and clears an extension', () => {
    expect(run({ op: 'replace', path: 'emails', value: [{ value: 'only@example.com' }] }).core.emails).toEqual([
      { value: 'only@example.com' },
    ]);
    expect(run({ op: 'remove', path: 'emails', value: [{ value: 'jane@home.example' }] }).core.emails).toHaveLength(1);
    expect(run({ op: 'remove', path: DEFAULT_EXTENSION_URN }).attributes).toEqual({});
    expect(run({ op: 'replace', path: `${DEFAULT_EXTENSION_URN}:Site`, value: null }).attributes).toEqual({});
  });

  it('merges a complex value and treats null as removal', () => {
    const data = run(
      { op: 'replace', value: { name: { givenName: 'Jane', familyName: 'Doe' } } },
      { op: 'replace', path: 'name', value: { familyName: null } },
    );
    expect(data.core.name).toEqual({ givenName: 'Jane' });
  });

  it('validates the request envelope', () => {
    expect(scimErrorOf(() => parsePatchRequest({ schemas: ['x'], Operations: [] })).scimType).toBe('invalidSyntax');
    expect(
      scimErrorOf(() =>
        parsePatchRequest({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [] }),
      ).scimType,
    ).toBe('invalidSyntax');
    expect(
      scimErrorOf(() =>
        parsePatchRequest({
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'replace', value: 'x' }],
        }),
      ).scimType,
    ).toBe('invalidValue');
    expect(
      parsePatchRequest({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        operations: [{ OP: 'Add', Path: 'title', Value: 'x' }],
      }),
    ).toEqual([{ op: 'add', path: 'title', value: 'x' }]);
  });
});
