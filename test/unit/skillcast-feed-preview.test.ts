import {
  previewFeed,
  type FeedPreviewInput,
  type FeedRow,
  type FeedUser,
} from '../../packages/local/emulators/skillcast';

const user = (id: string, email: string, employeeId: string, extra: Partial<FeedUser> = {}): FeedUser => ({
  id,
  domain: 'Employees',
  active: true,
  email,
  employeeId,
  firstName: id,
  lastName: 'Test',
  attributes: {},
  ...extra,
});

const row = (email: string, employeeId: string, extra: Record<string, string> = {}): FeedRow => ({
  Email: email,
  'Employee ID': employeeId,
  'First name': email.split('@')[0] ?? '',
  'Last name': 'Test',
  ...extra,
});

function preview(rows: FeedRow[], users: FeedUser[], extra: Partial<FeedPreviewInput> = {}) {
  return previewFeed({
    domain: 'Employees',
    identifier: 'email',
    rows,
    users,
    attributes: ['Site', 'Start Date', 'Department'],
    ...extra,
  });
}

describe('previewFeed', () => {
  it('sorts rows and users into toAdd, toReactivate, toUpdate and toArchive', () => {
    const users = [
      user('alice', 'alice@example.com', '1', { attributes: { Site: 'London' } }),
      user('bob', 'bob@example.com', '2', { active: false }),
      user('carol', 'carol@example.com', '3'),
      user('dan', 'dan@example.com', '4'),
    ];
    const result = preview(
      [
        row('alice@example.com', '1', { Site: 'Leeds' }),
        row('BOB@example.com', '2', { 'First name': 'bob' }),
        row('dan@example.com', '4'),
        row('erin@example.com', '5', { Site: 'Paris' }),
      ],
      users,
    );
    expect(result.toAdd).toEqual([
      {
        row: 4,
        identifier: 'erin@example.com',
        email: 'erin@example.com',
        employeeId: '5',
        firstName: 'erin',
        lastName: 'Test',
        attributes: { Site: 'Paris' },
      },
    ]);
    expect(result.toReactivate).toEqual([
      expect.objectContaining({ userId: 'bob', identifier: 'BOB@example.com', changes: [] }),
    ]);
    expect(result.toUpdate).toEqual([
      expect.objectContaining({
        userId: 'alice',
        changes: [{ field: 'attributes.Site', from: 'London', to: 'Leeds' }],
      }),
    ]);
    expect(result.toArchive).toEqual([
      {
        userId: 'carol',
        identifier: 'carol@example.com',
        email: 'carol@example.com',
        employeeId: '3',
        reason: 'missing',
      },
    ]);
    expect(result.unchanged).toBe(1);
    expect(result.identifierChanges).toEqual([]);
  });

  it('shows an email change as archive + add when the domain keys on email', () => {
    const result = preview([row('jane.smith@example.com', '10')], [user('jane', 'jane.doe@example.com', '10')]);
    expect(result.toArchive).toEqual([expect.objectContaining({ userId: 'jane', reason: 'identifierChanged' })]);
    expect(result.toAdd).toEqual([expect.objectContaining({ identifier: 'jane.smith@example.com', replaces: 'jane' })]);
    expect(result.identifierChanges).toEqual([
      { userId: 'jane', from: 'jane.doe@example.com', to: 'jane.smith@example.com', row: 1, matchedOn: 'employeeId' },
    ]);
  });

  it('shows an employee ID change as archive + add, and an email change as an update, when the domain keys on employee ID', () => {
    const users = [user('jane', 'jane@example.com', '10'), user('john', 'john@example.com', '11')];
    const result = preview(
      [row('jane@example.com', 'E-10'), row('john.new@example.com', '11', { 'First name': 'john' })],
      users,
      { identifier: 'employeeId' },
    );
    expect(result.identifierChanges).toEqual([{ userId: 'jane', from: '10', to: 'E-10', row: 1, matchedOn: 'email' }]);
    expect(result.toAdd.map((a) => [a.identifier, a.replaces])).toEqual([['E-10', 'jane']]);
    expect(result.toUpdate).toEqual([
      expect.objectContaining({
        userId: 'john',
        changes: [{ field: 'email', from: 'john@example.com', to: 'john.new@example.com' }],
      }),
    ]);
  });

  it('neither compares nor touches users of other domains', () => {
    const users = [
      user('admin', 'admin@example.com', '99', { domain: 'Always active' }),
      user('contractor', 'c@example.com', '98', { domain: 'Always active' }),
      user('jane', 'jane@example.com', '10'),
    ];
    const result = preview(
      [row('jane@example.com', '10'), row('admin@example.com', '99', { Site: 'Elsewhere' })],
      users,
    );
    expect(result.otherDomain).toEqual([
      { row: 2, identifier: 'admin@example.com', userId: 'admin', domain: 'Always active' },
    ]);
    expect([...result.toAdd, ...result.toUpdate, ...result.toReactivate]).toEqual([]);
    // The contractor is absent from the feed but lives in another domain: not archived.
    expect(result.toArchive).toEqual([]);
  });

  it('reports duplicate identifiers and leaves their user alone', () => {
    const result = preview(
      [row('jane@example.com', '10'), row('JANE@example.com', '12'), row('new@example.com', '13')],
      [user('jane', 'jane@example.com', '10')],
    );
    expect(result.duplicates).toEqual([{ identifier: 'jane@example.com', rows: [1, 2] }]);
    expect(result.toArchive).toEqual([]);
    expect(result.toAdd.map((a) => a.identifier)).toEqual(['new@example.com']);
  });

  it('refuses rows without an identifier or with a refused email, without archiving their user', () => {
    const users = [user('eoin', 'eoin@example.com', '20')];
    const result = preview(
      [row("e.o'connor@example.com", '20'), row('', '21'), row('spaced name@example.com', '22')],
      users,
      { identifier: 'employeeId' },
    );
    expect(result.invalid).toEqual([
      { row: 1, identifier: '20', reason: `email "e.o'connor@example.com" contains an apostrophe` },
      { row: 3, identifier: '22', reason: 'email "spaced name@example.com" contains a space' },
    ]);
    expect(result.toAdd.map((a) => a.identifier)).toEqual(['21']);
    expect(result.toArchive).toEqual([]);
    expect(preview([{ 'First name': 'Nobody' }], []).invalid).toEqual([{ row: 1, reason: 'missing email' }]);
  });

  it('archives leavers by lifecycle status and does not add them', () => {
    const result = preview(
      [
        row('jane@example.com', '10', { 'Lifecycle status': 'Terminated' }),
        row('gone@example.com', '11', { 'Lifecycle status': 'terminated' }),
        row('ok@example.com', '12', { 'Lifecycle status': 'Employed' }),
      ],
      [user('jane', 'jane@example.com', '10')],
    );
    expect(result.toArchive).toEqual([expect.objectContaining({ userId: 'jane', reason: 'leaver' })]);
    expect(result.toAdd.map((a) => a.identifier)).toEqual(['ok@example.com']);
  });

  it('reads attributes from their data feed name and compares only columns the report carries', () => {
    const users = [user('jane', 'jane@example.com', '10', { attributes: { Site: 'London', Department: 'Sales' } })];
    const rows: FeedRow[] = [
      { 'Work email': 'jane@example.com', 'First name': 'jane', Location: 'Leeds', 'Start date': '2021-05-04' },
    ];
    const result = preview(rows, users, {
      columns: { email: 'Work email', attributes: { Site: 'Location', 'Start Date': 'Start date' } },
    });
    // No Department, Last name or Employee ID column: those are not compared.
    expect(result.toUpdate).toEqual([
      expect.objectContaining({
        changes: [
          { field: 'attributes.Site', from: 'London', to: 'Leeds' },
          { field: 'attributes.Start Date', from: '', to: '2021-05-04' },
        ],
      }),
    ]);
  });

  it('is pure: the same input gives the same output and the input is not changed', () => {
    const input: FeedPreviewInput = {
      domain: 'Employees',
      identifier: 'email',
      rows: [
        row('jane@example.com', '10', { Site: 'Leeds' }),
        row('bob@example.com', '11'),
        row('dan.new@example.com', '13'),
      ],
      users: [
        user('jane', 'jane@example.com', '10', { attributes: { Site: 'London' } }),
        user('bob', 'bob@example.com', '11', { active: false }),
        user('carol', 'carol@example.com', '12'),
        user('dan', 'dan.old@example.com', '13'),
      ],
      attributes: ['Site'],
      columns: { attributes: { Site: 'Site' } },
      inactiveStatuses: ['Terminated'],
    };
    const copy = structuredClone(input);
    const expected = {
      domain: 'Employees',
      identifier: 'email',
      toAdd: [
        {
          row: 3,
          identifier: 'dan.new@example.com',
          email: 'dan.new@example.com',
          employeeId: '13',
          firstName: 'dan.new',
          lastName: 'Test',
          attributes: {},
          replaces: 'dan',
        },
      ],
      toReactivate: [
        {
          userId: 'bob',
          identifier: 'bob@example.com',
          record: {
            row: 2,
            identifier: 'bob@example.com',
            email: 'bob@example.com',
            employeeId: '11',
            firstName: 'bob',
            lastName: 'Test',
            attributes: {},
          },
          changes: [],
        },
      ],
      toUpdate: [
        {
          userId: 'jane',
          identifier: 'jane@example.com',
          record: {
            row: 1,
            identifier: 'jane@example.com',
            email: 'jane@example.com',
            employeeId: '10',
            firstName: 'jane',
            lastName: 'Test',
            attributes: { Site: 'Leeds' },
          },
          changes: [{ field: 'attributes.Site', from: 'London', to: 'Leeds' }],
        },
      ],
      toArchive: [
        {
          userId: 'carol',
          identifier: 'carol@example.com',
          email: 'carol@example.com',
          employeeId: '12',
          reason: 'missing',
        },
        {
          userId: 'dan',
          identifier: 'dan.old@example.com',
          email: 'dan.old@example.com',
          employeeId: '13',
          reason: 'identifierChanged',
        },
      ],
      unchanged: 0,
      identifierChanges: [
        { userId: 'dan', from: 'dan.old@example.com', to: 'dan.new@example.com', row: 3, matchedOn: 'employeeId' },
      ],
      duplicates: [],
      invalid: [],
      otherDomain: [],
    };
    // Twice on the same objects: a first call that left anything behind would show in the second.
    expect(previewFeed(input)).toStrictEqual(expected);
    expect(previewFeed(input)).toStrictEqual(expected);
    expect(input).toStrictEqual(copy);
  });
});
