import { ConfigError, parseConfig } from '../../src/config/loader';
import { defaultMapping, mappingSchema } from '../../src/config/mapping-schema';
import { configJsonSchema } from '../../src/config/schema';

const connection = (mapping: string) => `
connections:
  - name: acme
    source: { type: hibob, serviceUserId: S, serviceUserToken: { env: HIBOB_TOKEN } }
    destination: { type: 360learning, clientId: c, clientSecret: { env: L360_SECRET }, defaultGroupId: 507f1f77bcf86cd799439011 }
${mapping ? `    mapping:\n${mapping.replace(/^/gm, '      ')}` : ''}
`;

function problems(mapping: string): string[] {
  try {
    parseConfig(connection(mapping), 'test.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected the mapping to be rejected');
}

describe('mapping defaults', () => {
  it('gives a connection without a mapping section the standard 360Learning mapping', () => {
    const config = parseConfig(connection(''));
    expect(config.connections[0]!.mapping).toEqual(defaultMapping());
    expect(defaultMapping()).toEqual({
      match: { order: ['externalId', 'email'] },
      fields: {
        mail: { from: 'root.email', transforms: ['trim', 'lowercase'] },
        firstName: { from: 'root.firstName', transforms: ['trim'] },
        lastName: { from: 'root.surname', transforms: ['trim'] },
        job: { from: 'work.title', label: true },
        organization: { from: 'work.department', label: true },
      },
      customFields: [],
      manager: { enabled: true },
      groups: [],
      scope: { onLeaveScope: 'deactivate' },
      status: {
        activateBeforeStartDays: 0,
        inactiveLifecycleStatuses: ['terminated'],
        leaveStatuses: { statuses: ['leave', 'parental leave'], keepActive: true },
        useInternalStatus: true,
        deactivateAt: 'endOfLastDay',
        defaultTimeZone: 'UTC',
        siteTimeZones: {},
      },
    });
  });

  it('keeps the defaults of standard fields that are not mentioned, and null unmaps a field', () => {
    const m = mappingSchema.parse({ fields: { job: null, phone: { from: 'work.mobilePhone' } } });
    expect(m.fields.job).toBeNull();
    expect(m.fields.phone).toEqual({ from: 'work.mobilePhone' });
    expect(m.fields.mail).toEqual({ from: 'root.email', transforms: ['trim', 'lowercase'] });
  });

  it('accepts a full mapping and normalises lifecycle names and YAML numbers', () => {
    const config = parseConfig(
      connection(`match: { order: [externalId] }
fields:
  lang: { from: address.country, label: true, transforms: [{ map: { France: fr, Germany: de }, default: en, caseInsensitive: true }] }
  job: { template: "{work.title|label} ({work.department|label})", transforms: [collapseSpaces] }
customFields:
  - { name: Start date, type: date, source: { from: work.startDate } }
  - { name: Cost centre, source: { value: 4711 }, createIfMissing: true }
groups:
  - { when: { field: work.department, equals: 209192163 }, groupId: 65a0c0ffee0000000000e001 }
  - { when: { any: [{ field: work.site, in: [London] }, { not: { field: work.site, exists: true } }] }, groupId: 65a0c0ffee0000000000e003, role: coach }
scope:
  include: { all: [{ field: payroll.employment.type, label: true, notIn: [Contractor] }] }
  exclude: { field: root.email, matches: "@partner\\\\.example$" }
  onLeaveScope: ignore
status:
  activateBeforeStartDays: 7
  inactiveLifecycleStatuses: [Terminated, " Garden Leave "]
  leaveStatuses: { statuses: [Sabbatical], keepActive: false }
  deactivateAt: startOfTerminationDate
  defaultTimeZone: Europe/London
  siteTimeZones: { New York: America/New_York, "2154020": Asia/Jerusalem }
  timeZoneField: work.customTimeZone
`),
    );
    const m = config.connections[0]!.mapping;
    expect(m.match.order).toEqual(['externalId']);
    expect(m.customFields[0]).toEqual({
      name: 'Start date',
      type: 'date',
      source: { from: 'work.startDate' },
      createIfMissing: false,
      authorizedValues: 'extend',
    });
    expect(m.customFields[1]).toEqual({
      name: 'Cost centre',
      type: 'string',
      source: { value: '4711' },
      createIfMissing: true,
      authorizedValues: 'extend',
    });
    expect(m.groups[0]).toEqual({
      when: { field: 'work.department', equals: '209192163' },
      groupId: '65a0c0ffee0000000000e001',
      role: 'learner',
    });
    expect(m.groups[1]!.role).toBe('coach');
    expect(m.status.inactiveLifecycleStatuses).toEqual(['terminated', 'garden leave']);
    expect(m.status.leaveStatuses).toEqual({ statuses: ['sabbatical'], keepActive: false });
    expect(m.scope.onLeaveScope).toBe('ignore');
    expect(m.fields.lang).toEqual({
      from: 'address.country',
      label: true,
      transforms: [{ map: { France: 'fr', Germany: 'de' }, default: 'en', caseInsensitive: true }],
    });
  });
});

describe('mapping errors name the path and the fix', () => {
  it('an invalid regular expression in a replace transform', () => {
    expect(
      problems('fields: { job: { from: work.title, transforms: [trim, { replace: { pattern: "(", with: "" } }] } }'),
    ).toEqual([
      expect.stringMatching(
        /^connections\[0\]\.mapping\.fields\.job\.transforms\[1\]\.replace\.pattern: is not a valid regular expression/,
      ),
    ]);
  });

  it('invalid regular expression flags', () => {
    expect(
      problems(
        'fields: { job: { from: work.title, transforms: [{ replace: { pattern: a, with: b, flags: gg } }] } }',
      )[0],
    ).toContain(
      'connections[0].mapping.fields.job.transforms[0].replace.flags: must be JavaScript regular expression flags',
    );
  });

  it('an invalid regular expression in a condition, however deep', () => {
    expect(problems('scope: { include: { not: { all: [{ field: work.site, matches: "[" }] } } }')).toEqual([
      expect.stringMatching(
        /^connections\[0\]\.mapping\.scope\.include\.not\.all\[0\]\.matches: is not a valid regular expression/,
      ),
    ]);
  });

  it('an unknown transform', () => {
    expect(problems('fields: { job: { from: work.title, transforms: [titlcase] } }')[0]).toBe(
      'connections[0].mapping.fields.job: transforms[0]: must be one of trim, lowercase, uppercase, titlecase, collapseSpaces, { map: {…} }, { replace: { pattern, with } }, { date: { format } } or { truncate: N }.',
    );
  });

  it('a value expression of no known shape, and a misspelt key', () => {
    expect(problems('fields: { job: { frm: work.title } }')[0]).toContain(
      'connections[0].mapping.fields.job: must be { from: <HiBob field id> }, { template',
    );
    expect(problems('fields: { job: { from: work.title, lable: true } }')[0]).toContain(
      'connections[0].mapping.fields.job: unknown key(s) "lable"',
    );
  });

  it('a broken template', () => {
    expect(problems('fields: { job: { template: "{work.title|lbl}" } }')[0]).toBe(
      'connections[0].mapping.fields.job.template: unknown modifier "|lbl" in {work.title}; the only modifier is |label.',
    );
    expect(problems('fields: { job: { template: "{work.title" } }')[0]).toContain(
      'fields.job.template: "{" at position 1 is never closed',
    );
    expect(problems('fields: { job: { template: "a } b" } }')[0]).toContain('unexpected "}"');
    expect(problems('fields: { job: { template: "{ }" } }')[0]).toContain('must name a HiBob field id');
  });

  it('a condition without a test, and an unknown condition shape', () => {
    expect(problems('groups: [{ when: { field: work.site }, groupId: 65a0c0ffee0000000000e001 }]')[0]).toBe(
      'connections[0].mapping.groups[0].when: give at least one test: equals, in, notIn, matches, exists.',
    );
    expect(problems('scope: { include: { any: [{ field: a, equals: x }, { fild: b, equals: y }] } }')[0]).toContain(
      'connections[0].mapping.scope.include: any[1]: must be { field, equals',
    );
  });

  it('a bad group id or role', () => {
    expect(problems('groups: [{ when: { field: a, exists: true }, groupId: sales }]')[0]).toContain(
      'groups[0].groupId: must be a 360Learning group id',
    );
    expect(
      problems(
        'groups: [{ when: { field: a, exists: true }, groupId: 65a0c0ffee0000000000e001, role: user-admin }]',
      )[0],
    ).toContain('groups[0].role');
  });

  it('unknown time zones', () => {
    expect(problems('status: { defaultTimeZone: Mars/Olympus, siteTimeZones: { London: Europe/Lndon } }')).toEqual([
      'connections[0].mapping.status.defaultTimeZone: must be an IANA time zone such as Europe/London.',
      'connections[0].mapping.status.siteTimeZones.London: must be an IANA time zone such as Europe/London.',
    ]);
  });

  it('a match order that does not start with the HiBob id', () => {
    expect(problems('match: { order: [email, externalId] }')[0]).toContain(
      'match.order: must be [externalId] or [externalId, email]',
    );
    expect(problems('match: { order: [externalId, externalId] }')[0]).toContain('match.order');
  });

  it('a custom field mapped twice', () => {
    expect(problems('customFields: [{ name: A, source: { value: x } }, { name: A, source: { value: y } }]')).toEqual([
      'connections[0].mapping.customFields[1].name: custom field "A" is mapped twice.',
    ]);
  });

  it('a number too long to be exact', () => {
    expect(
      problems(
        'groups: [{ when: { field: root.id, equals: 3332883894235038486 }, groupId: 65a0c0ffee0000000000e001 }]',
      ),
    ).toEqual(['connections[0].mapping.groups[0].when: equals: is a number too long to be exact; put it in quotes.']);
  });

  it('a date format without tokens and a zero truncate', () => {
    expect(problems('fields: { job: { from: a, transforms: [{ date: { format: "D/M/Y" } }] } }')[0]).toContain(
      'YYYY, MM, DD',
    );
    expect(problems('fields: { job: { from: a, transforms: [{ truncate: 0 }] } }')[0]).toContain('transforms[0]');
  });

  it('an unknown section', () => {
    expect(problems('filters: {}')[0]).toContain('connections[0].mapping: unknown key(s) "filters"');
  });
});

describe('mapping JSON Schema', () => {
  it('is part of the editor schema with shared definitions and defaults', () => {
    const schema = configJsonSchema() as { $defs: Record<string, unknown> };
    expect(Object.keys(schema.$defs).sort()).toEqual(['MappingCondition', 'MappingTransform', 'MappingValue']);
    const text = JSON.stringify(schema);
    expect(text).toContain('"activateBeforeStartDays"');
    expect(text).toContain('{"from":"root.email","transforms":["trim","lowercase"]}');
  });
});
