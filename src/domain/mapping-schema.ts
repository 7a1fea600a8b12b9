/**
 * The `mapping:` section of a connection: how a HiBob employee becomes a learner. Matching,
 * standard and custom fields (with data standardisation), manager, group rules, scope filters
 * and status rules. Every part has a default, so a connection without a mapping section gets a
 * sensible 360Learning mapping. Regular expressions, templates and time zones are checked here,
 * at load time, so a typo fails with its path instead of misbehaving during a sync.
 */
import { z } from 'zod';
import { parseTemplate, TemplateSyntaxError } from './template';
import { isTimeZone } from './time';

const fieldId = z
  .string()
  .regex(/^[^\s{}|]+$/, 'must be a HiBob field id such as root.email, work.department or a custom field id')
  .describe('A HiBob field id in dot notation (root.email, work.department, internal.lifecycleStatus, …).');

function checkRegex(pattern: string, flags: string | undefined, ctx: z.core.$RefinementCtx, path: PropertyKey[]): void {
  try {
    new RegExp(pattern, flags);
  } catch (err) {
    ctx.addIssue({ code: 'custom', path, message: `is not a valid regular expression (${(err as Error).message})` });
  }
}

/**
 * Error for a union of objects told apart by one key (`from` / `template` / `value`): when the
 * input has one of those keys, report the first problem of that option with its inner path, so
 * a typo deep inside (transforms[1].replace.pattern) is named instead of the whole union.
 */
function keyedUnionError(keys: readonly string[], fallback: string) {
  return (issue: z.core.$ZodRawIssue): string => {
    const input = issue.input;
    const errors = (issue as { errors?: z.core.$ZodIssue[][] }).errors;
    if (input !== null && typeof input === 'object' && !Array.isArray(input) && errors) {
      const option = keys.findIndex((k) => Object.prototype.hasOwnProperty.call(input, k));
      const inner = option >= 0 ? errors[option]?.[0] : undefined;
      if (inner) {
        const where = inner.path.reduce<string>(
          (acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)),
          '',
        );
        return where ? `${where}: ${inner.message}` : inner.message;
      }
    }
    return fallback;
  };
}

/** Text in the config; YAML numbers and booleans are accepted and read as text (list item ids look like numbers). */
const text = z
  .union([
    z.string(),
    z.number().refine((v) => Number.isSafeInteger(v) || !Number.isInteger(v), {
      message: 'is a number too long to be exact; put it in quotes',
    }),
    z.boolean(),
  ])
  .transform((v) => String(v));

const regexFlags = z
  .string()
  .regex(/^(?!.*(.).*\1)[dgimsuvy]*$/, 'must be JavaScript regular expression flags such as "gi"');

// ---------------------------------------------------------------- transforms

const simpleTransform = z
  .enum(['trim', 'lowercase', 'uppercase', 'titlecase', 'collapseSpaces'])
  .describe(
    'trim; lowercase; uppercase; titlecase (first letter of each word); collapseSpaces (runs of blanks become one space, ends trimmed).',
  );

const mapTransform = z
  .object({
    map: z.record(z.string(), text).describe('Value map: input value → output value (e.g. country → language code).'),
    default: text.optional().describe('Output for values the map does not list; without it they pass unchanged.'),
    caseInsensitive: z.boolean().default(false),
  })
  .strict();

const replaceTransform = z
  .object({
    replace: z
      .object({
        pattern: z.string().min(1).describe('JavaScript regular expression.'),
        with: z.string().describe('Replacement; $1, $2 … refer to groups.'),
        flags: regexFlags.optional().describe('Regular expression flags; default "g" (every occurrence).'),
      })
      .strict()
      .superRefine((r, ctx) => checkRegex(r.pattern, r.flags ?? 'g', ctx, ['pattern'])),
  })
  .strict();

const dateTransform = z
  .object({
    date: z
      .object({
        format: z
          .string()
          .regex(/YYYY|MM|DD/, 'must contain at least one of the tokens YYYY, MM, DD')
          .describe('Output format of an ISO date (YYYY-MM-DD) using the tokens YYYY, MM and DD, e.g. DD/MM/YYYY.'),
      })
      .strict(),
  })
  .strict();

const truncateTransform = z
  .object({ truncate: z.number().int().positive().describe('Keep at most this many characters.') })
  .strict();

export const transformSchema = z
  .union([simpleTransform, mapTransform, replaceTransform, dateTransform, truncateTransform], {
    error: keyedUnionError(
      ['', 'map', 'replace', 'date', 'truncate'],
      'must be one of trim, lowercase, uppercase, titlecase, collapseSpaces, { map: {…} }, { replace: { pattern, with } }, { date: { format } } or { truncate: N }',
    ),
  })
  .meta({ id: 'MappingTransform' });
export type Transform = z.output<typeof transformSchema>;

// ---------------------------------------------------------------- value expressions

const transforms = z
  .array(transformSchema)
  .optional()
  .describe('Applied in order; an unreadable value stays unreadable, an empty one stays empty.');

const fromExpression = z
  .object({
    from: fieldId,
    label: z
      .boolean()
      .optional()
      .describe('Use the display value (list label, manager name) instead of the machine value (list item id).'),
    transforms,
    default: text.optional().describe('Used when HiBob holds no value (empty field).'),
  })
  .strict();

const templateExpression = z
  .object({
    template: z
      .string()
      .describe(
        'Text with placeholders: "{root.firstName} {root.surname}", "{work.title|label}". {{ and }} write braces.',
      ),
    transforms,
  })
  .strict()
  .superRefine((t, ctx) => {
    try {
      parseTemplate(t.template);
    } catch (err) {
      if (!(err instanceof TemplateSyntaxError)) throw err;
      ctx.addIssue({ code: 'custom', path: ['template'], message: err.message });
    }
  });

const constantExpression = z.object({ value: text.describe('A constant value.') }).strict();

export const valueExpressionSchema = z
  .union([fromExpression, templateExpression, constantExpression], {
    error: keyedUnionError(
      ['from', 'template', 'value'],
      'must be { from: <HiBob field id> }, { template: "…{field}…" } or { value: "constant" }',
    ),
  })
  .meta({
    id: 'MappingValue',
    description:
      'Where a value comes from: { from: field, label?, transforms?, default? }, { template, transforms? } or { value }.',
  });
export type ValueExpression = z.output<typeof valueExpressionSchema>;
export type FromExpression = z.output<typeof fromExpression>;
export type TemplateExpression = z.output<typeof templateExpression>;

// ---------------------------------------------------------------- conditions

export type FieldCondition = {
  field: string;
  label?: boolean;
  equals?: string | string[];
  in?: string[];
  notIn?: string[];
  matches?: string;
  exists?: boolean;
  caseSensitive?: boolean;
};
export type Condition = FieldCondition | { all: Condition[] } | { any: Condition[] } | { not: Condition };

const FIELD_TESTS = ['equals', 'in', 'notIn', 'matches', 'exists'] as const;

const fieldCondition = z
  .object({
    field: fieldId,
    label: z.boolean().optional().describe('Compare the display value (list label) instead of the machine value.'),
    equals: z
      .union([text, z.array(text)], {
        error: (issue) =>
          typeof issue.input === 'number'
            ? 'is a number too long to be exact; put it in quotes'
            : 'must be a value or a list of values',
      })
      .optional(),
    in: z.array(text).optional(),
    notIn: z.array(text).optional(),
    matches: z.string().optional().describe('JavaScript regular expression the value must match.'),
    exists: z.boolean().optional().describe('true: the field holds a value; false: it is empty.'),
    caseSensitive: z.boolean().optional().describe('Default false: equals, in, notIn and matches ignore case.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!FIELD_TESTS.some((t) => c[t] !== undefined)) {
      ctx.addIssue({ code: 'custom', message: `give at least one test: ${FIELD_TESTS.join(', ')}` });
    }
    if (c.matches !== undefined) checkRegex(c.matches, c.caseSensitive ? '' : 'i', ctx, ['matches']);
  });

export const conditionSchema: z.ZodType<Condition> = z
  .lazy(() =>
    z.union(
      [
        fieldCondition,
        z.object({ all: z.array(conditionSchema).min(1) }).strict(),
        z.object({ any: z.array(conditionSchema).min(1) }).strict(),
        z.object({ not: conditionSchema }).strict(),
      ],
      {
        error: keyedUnionError(
          ['field', 'all', 'any', 'not'],
          'must be { field, equals | in | notIn | matches | exists } or { all: […] }, { any: […] }, { not: {…} }',
        ),
      },
    ),
  )
  .meta({ id: 'MappingCondition' });

// ---------------------------------------------------------------- sections

const groupId = z.string().regex(/^[a-fA-F0-9]{24}$/, 'must be a 360Learning group id (24 hex characters)');

const role = z.enum(['admin', 'analyst', 'editor', 'coach', 'contributor', 'learner', 'userAdmin']);

const matchSchema = z
  .object({
    order: z
      .array(z.enum(['externalId', 'email']))
      .min(1)
      .default(['externalId', 'email'])
      .refine((o) => o[0] === 'externalId' && new Set(o).size === o.length, {
        message:
          'must be [externalId] or [externalId, email]: the HiBob id is the key; email only adopts an existing learner the first time',
      })
      .describe('How a learner is found: by the stored HiBob id, then (unless removed) by email.'),
  })
  .strict();

const optionalField = valueExpressionSchema.nullable().optional();

const fieldsSchema = z
  .object({
    mail: valueExpressionSchema.nullable().prefault({ from: 'root.email', transforms: ['trim', 'lowercase'] }),
    firstName: valueExpressionSchema.nullable().prefault({ from: 'root.firstName', transforms: ['trim'] }),
    lastName: valueExpressionSchema.nullable().prefault({ from: 'root.surname', transforms: ['trim'] }),
    job: valueExpressionSchema.nullable().prefault({ from: 'work.title', label: true }),
    organization: valueExpressionSchema.nullable().prefault({ from: 'work.department', label: true }),
    phone: optionalField,
    lang: optionalField.describe(
      'A language code (en, fr, de…): 360Learning lang, SCIM preferredLanguage; map a HiBob field with { map: … }.',
    ),
    employeeNumber: optionalField.describe(
      'Skillcast only: the SCIM enterprise employeeNumber, e.g. { from: work.employeeIdInCompany }.',
    ),
    department: optionalField.describe(
      'Skillcast only: the SCIM enterprise department, e.g. { from: work.department, label: true }.',
    ),
  })
  .strict()
  .describe(
    'Standard learner fields (360Learning user fields; for Skillcast the SCIM userName/emails, name, title, enterprise organization, employeeNumber and department, phoneNumbers, preferredLanguage). null (or leaving phone, lang, employeeNumber or department out) = the connector never touches that field.',
  );

const customFieldSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .describe('Custom field name in 360Learning, or the exact name of the Skillcast portal attribute.'),
    type: z.enum(['string', 'date']).default('string').describe('date values must be YYYY-MM-DD.'),
    source: valueExpressionSchema,
    createIfMissing: z
      .boolean()
      .default(false)
      .describe(
        'Create the custom field definition when 360Learning lacks it (Skillcast attributes are created in the portal).',
      ),
    authorizedValues: z
      .enum(['extend', 'strict'])
      .default('extend')
      .describe(
        '360Learning fields with authorized values: extend adds a new value to the list (never removes one; at most 300); strict writes only values already listed and reports the employee otherwise.',
      ),
  })
  .strict();

const groupRuleSchema = z
  .object({
    when: conditionSchema,
    groupId,
    role: role.default('learner'),
  })
  .strict();

const scopeSchema = z
  .object({
    include: conditionSchema.optional().describe('Only employees matching this are synchronised (default: everyone).'),
    exclude: conditionSchema.optional().describe('Employees matching this are left out.'),
    onLeaveScope: z
      .enum(['deactivate', 'ignore'])
      .default('deactivate')
      .describe('What happens to the learner of an employee who leaves the scope.'),
  })
  .strict();

const lifecycleList = z.array(
  z
    .string()
    .min(1)
    .transform((s) => s.trim().toLowerCase()),
);

const timeZone = z.string().refine(isTimeZone, { message: 'must be an IANA time zone such as Europe/London' });

const statusSchema = z
  .object({
    activateBeforeStartDays: z
      .number()
      .int()
      .min(0)
      .max(365)
      .default(0)
      .describe('Activate this many days before the start date.'),
    inactiveLifecycleStatuses: lifecycleList
      .prefault(['terminated'])
      .describe('Lifecycle statuses that make the learner inactive.'),
    activeLifecycleStatuses: lifecycleList
      .optional()
      .describe(
        'If set, only these lifecycle statuses (and leave statuses kept active) may be active; include hired for pre-start activation.',
      ),
    leaveStatuses: z
      .object({
        statuses: lifecycleList.prefault(['leave', 'parental leave']),
        keepActive: z.boolean().default(true).describe('Keep learners on leave active (HiBob may mark them Inactive).'),
      })
      .strict()
      .prefault({}),
    useInternalStatus: z
      .boolean()
      .default(true)
      .describe('Treat HiBob internal.status Inactive as inactive (except future hires).'),
    deactivateAt: z
      .enum(['endOfLastDay', 'startOfTerminationDate'])
      .default('endOfLastDay')
      .describe(
        'endOfLastDay: local midnight after the last day of work (or termination date); startOfTerminationDate: local midnight starting the termination date.',
      ),
    defaultTimeZone: timeZone.default('UTC').describe('Time zone for employees whose site time zone is unknown.'),
    siteTimeZones: z
      .record(z.string(), timeZone)
      .default({})
      .describe('Site name or site id → IANA time zone, e.g. { London: Europe/London, "2154020": America/New_York }.'),
    timeZoneField: fieldId
      .optional()
      .describe('A HiBob field holding the IANA time zone of the employee, if the company keeps one.'),
  })
  .strict();

export const mappingSchema = z
  .object({
    match: matchSchema.prefault({}),
    fields: fieldsSchema.prefault({}),
    customFields: z
      .array(customFieldSchema)
      .default([])
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((f, i) => {
          if (seen.has(f.name))
            ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `custom field "${f.name}" is mapped twice` });
          seen.add(f.name);
        });
      }),
    manager: z
      .object({
        enabled: z.boolean().default(true).describe('Set the HiBob manager (work.reportsTo) as the learner manager.'),
      })
      .strict()
      .prefault({}),
    groups: z
      .array(groupRuleSchema)
      .default([])
      .describe('Group roles given when a condition holds and removed when it stops holding.'),
    scope: scopeSchema.prefault({}),
    status: statusSchema.prefault({}),
  })
  .strict()
  .describe(
    'How HiBob employees become learners: matching, fields, custom fields, manager, groups, scope and status rules.',
  );

export type MappingInput = z.input<typeof mappingSchema>;
export type MappingConfig = z.output<typeof mappingSchema>;
export type StatusRules = MappingConfig['status'];
export type GroupRule = MappingConfig['groups'][number];
export type CustomFieldMapping = MappingConfig['customFields'][number];

/** The mapping a connection gets without a mapping section. */
export function defaultMapping(): MappingConfig {
  return mappingSchema.parse({});
}
