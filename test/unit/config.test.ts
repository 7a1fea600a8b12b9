import { ConfigError, missingSecrets, parseConfig, readSecret, secretReferences } from '../../src/config/loader';
import { approvalMode, configJsonSchema } from '../../src/config/schema';
import { runtimeSettings } from '../../src/config/runtime';
import { embeddedConfigYaml } from '../../packages/local/stack/embedded';

const valid = `
connections:
  - name: acme-360
    source:
      type: hibob
      serviceUserId: SERVICE-1
      serviceUserToken: { env: HIBOB_TOKEN }
      webhookSecret: { env: HIBOB_WEBHOOK_SECRET }
    destination:
      type: 360learning
      clientId: client-1
      clientSecret: { env: L360_SECRET }
      defaultGroupId: 507f1f77bcf86cd799439011
  - name: acme-360-us
    source:
      type: hibob
      serviceUserId: SERVICE-1
      serviceUserToken: { env: HIBOB_TOKEN }
    destination:
      type: 360learning
      baseUrl: https://app.us.360learning.com
      clientId: client-2
      clientSecret: { env: L360_US_SECRET }
      defaultGroupId: 65a0c0ffee0000000000e001
`;

const skillcastConnection = `
  - name: acme-skillcast
    source:
      type: hibob
      serviceUserId: SERVICE-1
      serviceUserToken: { env: HIBOB_TOKEN }
    destination:
      type: skillcast
      baseUrl: https://acme.skillcast.io/skillcastApi/scim
      token: { env: SKILLCAST_TOKEN }
      domain: Employees
`;

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'test.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

describe('bobsync.yaml', () => {
  it('accepts a valid file and fills documented defaults', () => {
    const config = parseConfig(valid);
    expect(config.connections.map((c) => c.name)).toEqual(['acme-360', 'acme-360-us']);
    expect(config.temporal).toEqual({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'bobsync' });
    const first = config.connections[0]!;
    expect(first.source.baseUrl).toBe('https://api.hibob.com/v1');
    expect(first.source.searchRequestsPerMinute).toBe(50);
    if (first.destination.type !== '360learning') throw new Error('wrong destination');
    expect(first.destination.writesPerSecond).toBe(10);
    expect(first.destination.externalIdPlatform).toBe('hibob');
  });

  it('refuses a secret written inline and says how to reference it', () => {
    const problems = problemsOf(valid.replace('clientSecret: { env: L360_SECRET }', 'clientSecret: s3cr3t-value'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('connections[0].destination.clientSecret');
    expect(problems[0]).toContain('{ env: SOME_VARIABLE }');
    expect(problems[0]).not.toContain('s3cr3t-value');
  });

  it('refuses a secret YAML reads as a number, with the same fix', () => {
    const problems = problemsOf(valid.replace('clientSecret: { env: L360_SECRET }', 'clientSecret: 12345678901234'));
    expect(problems).toEqual([expect.stringContaining('connections[0].destination.clientSecret: secrets cannot')]);
    expect(problems[0]).toContain('{ env: SOME_VARIABLE }');
    expect(problems[0]).not.toContain('12345678901234');
  });

  it('names a full-sync schedule that is not a cron expression, and how to write one', () => {
    const withSchedule = (schedule: string) =>
      valid.replace(
        '      defaultGroupId: 507f1f77bcf86cd799439011\n',
        `      defaultGroupId: 507f1f77bcf86cd799439011\n    fullSync: { schedule: "${schedule}" }\n`,
      );
    expect(problemsOf(withSchedule('every day'))).toEqual([
      expect.stringMatching(
        /^connections\[0\]\.fullSync\.schedule: "every day" is not a cron expression: .*"0 2 \* \* \*"/,
      ),
    ]);
    for (const ok of [
      '0 2 * * *',
      '*/15 6-18 * * MON-FRI',
      '0 0 2 * * * 2027',
      '@daily',
      '@every 6h',
      '@every 24h/2h',
      '0 2 * * * # nightly',
    ])
      expect(parseConfig(withSchedule(ok), 'test.yaml').connections[0]!.fullSync.schedule).toBe(ok);
  });

  it('refuses the Skillcast-only employeeNumber and department on a 360Learning connection, with the fix', () => {
    const problems = problemsOf(
      valid.replace(
        '      defaultGroupId: 507f1f77bcf86cd799439011\n',
        '      defaultGroupId: 507f1f77bcf86cd799439011\n    mapping:\n      fields:\n        department: { from: work.department }\n',
      ),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^connections\[0\]\.mapping\.fields\.department: is a Skillcast \(SCIM enterprise\) attribute.*map it in mapping\.customFields instead/,
      ),
    ]);
  });

  it('refuses a mapping that reads more HiBob fields than one request may ask for', () => {
    const customFields = (n: number) =>
      `    mapping:\n      customFields:\n` +
      Array.from({ length: n }, (_, i) => `        - { name: f${i}, source: { from: custom.field_${i} } }\n`).join('');
    const withFields = (n: number) =>
      valid.replace(
        '      defaultGroupId: 507f1f77bcf86cd799439011\n',
        `      defaultGroupId: 507f1f77bcf86cd799439011\n${customFields(n)}`,
      );
    expect(problemsOf(withFields(400))).toEqual([
      expect.stringMatching(
        /^connections\[0\]\.mapping: reads 4\d\d HiBob fields .* at most 400 per request; map fewer/,
      ),
    ]);
    // The base fields the status rules need count too; a mapping within the limit loads.
    expect(parseConfig(withFields(350), 'test.yaml').connections[0]!.mapping.customFields).toHaveLength(350);
  });

  it('names the path of a missing required field', () => {
    const problems = problemsOf(valid.replace('      defaultGroupId: 507f1f77bcf86cd799439011\n', ''));
    expect(problems).toEqual([expect.stringContaining('connections[0].destination.defaultGroupId: is required')]);
  });

  it('names an unknown key so typos surface', () => {
    const problems = problemsOf(
      valid.replace(
        '      defaultGroupId: 65a0c0ffee0000000000e001',
        '      defaultGroupId: 65a0c0ffee0000000000e001\n      writesPerSecnd: 5',
      ),
    );
    expect(problems[0]).toContain('connections[1].destination');
    expect(problems[0]).toContain('"writesPerSecnd"');
  });

  it('explains a wrong destination type, a bad group id and a duplicate connection name', () => {
    expect(problemsOf(valid.replace('type: 360learning\n      baseUrl', 'type: moodle\n      baseUrl'))).toEqual([
      'connections[1].destination.type: must be 360learning or skillcast.',
    ]);
    expect(problemsOf(valid.replace('507f1f77bcf86cd799439011', 'not-an-id'))[0]).toContain('24 hex characters');
    expect(problemsOf(valid.replace('acme-360-us', 'acme-360'))).toEqual([
      'connections[1].name: connection name "acme-360" is used twice; names must be unique.',
    ]);
  });

  it('accepts a Skillcast connection with its defaults, and refuses what SCIM cannot do', () => {
    const config = parseConfig(valid + skillcastConnection);
    const skillcast = config.connections[2]!;
    if (skillcast.destination.type !== 'skillcast') throw new Error('wrong destination');
    expect(skillcast.destination).toMatchObject({
      domain: 'Employees',
      uniqueIdentifier: 'email',
      requestsPerSecond: 5,
    });
    expect(approvalMode(skillcast)).toBe('firstRun');
    expect(approvalMode(config.connections[0]!)).toBe('onSafeguard');
    expect(
      problemsOf(
        (valid + skillcastConnection).replace(
          '      domain: Employees\n',
          '      domain: Employees\n      uniqueIdentifier: employeeId\n',
        ),
      ),
    ).toEqual([
      'connections[2].destination.uniqueIdentifier: Skillcast domains keyed on employee ID are not supported yet; use email.',
    ]);
    const withGroups = `${valid + skillcastConnection}    mapping:\n      groups:\n        - when: { field: work.department, equals: Sales }\n          groupId: 507f1f77bcf86cd799439011\n          role: learner\n`;
    expect(problemsOf(withGroups)).toEqual([
      expect.stringContaining('connections[2].mapping.groups: Skillcast has no group roles over SCIM'),
    ]);
  });

  it('reports YAML syntax errors and an empty file', () => {
    expect(problemsOf('connections: [\n')[0]).toMatch(/^YAML syntax/);
    expect(problemsOf('')[0]).toContain('connections');
  });

  it('lists secret references and names each unset variable without reading values', () => {
    const config = parseConfig(valid);
    expect(secretReferences(config).map((r) => r.ref.env)).toEqual([
      'HIBOB_TOKEN',
      'HIBOB_WEBHOOK_SECRET',
      'L360_SECRET',
      'HIBOB_TOKEN',
      'L360_US_SECRET',
    ]);
    const missing = missingSecrets(config, { HIBOB_TOKEN: 'x', HIBOB_WEBHOOK_SECRET: 'y' });
    expect(missing).toEqual([
      'L360_SECRET is not set (needed by connections[0].destination.clientSecret); export it before starting bobsync.',
      'L360_US_SECRET is not set (needed by connections[1].destination.clientSecret); export it before starting bobsync.',
    ]);
    expect(readSecret({ env: 'HIBOB_TOKEN' }, { HIBOB_TOKEN: 'tok' })).toBe('tok');
    expect(() => readSecret({ env: 'NOPE' }, {})).toThrow('NOPE is not set');
  });

  it('exports a JSON Schema that editors can use', () => {
    const schema = configJsonSchema() as { properties: Record<string, unknown>; required?: string[] };
    expect(schema.properties).toHaveProperty('connections');
    expect(JSON.stringify(schema)).toContain('360learning');
    expect(schema.required).toContain('connections');
  });

  it('describes the Skillcast destination and the report source in the JSON Schema', () => {
    const text = JSON.stringify(configJsonSchema());
    expect(text).toContain('"const":"skillcast"');
    expect(text).not.toContain('planned, not available');
    expect(text).toContain('HiBob custom report');
  });
});

describe('runtime settings', () => {
  it('reads defaults and rejects a bad port with the variable name', () => {
    expect(runtimeSettings({}).BOBSYNC_API_PORT).toBe(3000);
    expect(() => runtimeSettings({ BOBSYNC_API_PORT: 'eighty' })).toThrow(/BOBSYNC_API_PORT/);
    expect(() => runtimeSettings({ BOBSYNC_SMTP_URL: 'mail.example.com' })).toThrow(/smtp:\/\//);
  });

  it('never echoes a mail URL, which may hold a password', () => {
    const problem = () => runtimeSettings({ BOBSYNC_SMTP_URL: 'smtp:/mailer:S3cretPw@mail.example.com:587' });
    expect(problem).toThrow(/BOBSYNC_SMTP_URL: must look like smtp:\/\/host:port .*value is not shown/);
    expect(problem).not.toThrow(/S3cretPw/);
  });

  it('takes a blank variable, as compose leaves one, as not set', () => {
    const settings = runtimeSettings({
      BOBSYNC_API_PORT: '',
      BOBSYNC_CODEC_PORT: '',
      BOBSYNC_SMTP_URL: '',
      BOBSYNC_LOG_LEVEL: '',
      TEMPORAL_ADDRESS: '',
      BOBSYNC_DATA_DIR: '',
    });
    expect(settings).toMatchObject({
      BOBSYNC_API_PORT: 3000,
      BOBSYNC_CODEC_PORT: 3001,
      BOBSYNC_LOG_LEVEL: 'info',
      BOBSYNC_DATA_DIR: '.data',
    });
    expect(settings.BOBSYNC_SMTP_URL).toBeUndefined();
    expect(settings.TEMPORAL_ADDRESS).toBeUndefined();
  });
});

describe('committed editor schema', () => {
  it('bobsync.schema.json matches the config schema (regenerate with `bobsync config schema > bobsync.schema.json`)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const committed = require('../../bobsync.schema.json');
    expect(committed).toEqual(configJsonSchema());
  });

  it('the example config is valid', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { readFileSync } = require('node:fs') as typeof import('node:fs');
    const config = parseConfig(readFileSync(`${__dirname}/../../bobsync.example.yaml`, 'utf8'));
    expect(config.connections.map((c) => c.destination.type)).toEqual(['360learning']);
  });
});

describe('the demo config `npm start` writes', () => {
  it('is valid and syncs one HiBob company to 360Learning and to Skillcast', () => {
    const config = parseConfig(
      embeddedConfigYaml(
        'http://127.0.0.1:4010',
        'http://127.0.0.1:4020',
        { root: '507f1f77bcf86cd799439011', byName: {} },
        'http://127.0.0.1:4030',
      ),
    );
    expect(config.connections.map((c) => [c.name, c.destination.type])).toEqual([
      ['demo-360', '360learning'],
      ['demo-skillcast', 'skillcast'],
    ]);
    expect(config.connections[1]!.source).toEqual(config.connections[0]!.source);
  });

  it('without a Skillcast emulator, has the 360Learning connection only', () => {
    const config = parseConfig(
      embeddedConfigYaml('http://127.0.0.1:4010', 'http://127.0.0.1:4020', {
        root: '507f1f77bcf86cd799439011',
        byName: {},
      }),
    );
    expect(config.connections.map((c) => c.name)).toEqual(['demo-360']);
  });
});

describe('a config written back out', () => {
  it('parses again to the same value, defaults included (what `bobsync dev` and operators do)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { stringify } = require('yaml') as typeof import('yaml');
    const config = parseConfig(valid);
    expect(parseConfig(stringify(config))).toEqual(config);
  });
});
