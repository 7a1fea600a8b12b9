/**
 * The shape of bobsync.yaml. Secrets never live in the file: every credential is a reference
 * to an environment variable ({ env: NAME }), resolved at start-up by the loader.
 */
import { z } from 'zod';
import { mappingSchema } from '../domain/mapping-schema';
import { hibobFieldsFor } from '../domain/normalise';
import { TemplateSyntaxError } from '../domain/template';
import { SCIM_ONLY_FIELDS } from '../domain/types';
import { cronProblem } from './cron';

/** Field ids HiBob accepts in one people search or read (contract §4.1). */
const HIBOB_MAX_FIELDS = 400;

/** How many HiBob fields the mapping reads; undefined when a template in it is broken (named on its own). */
function fieldCount(mapping: z.infer<typeof mappingSchema>): number | undefined {
  try {
    return hibobFieldsFor(mapping).length;
  } catch (err) {
    if (err instanceof TemplateSyntaxError) return undefined;
    throw err;
  }
}

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

export const secretRef = z
  .object({ env: z.string().regex(ENV_NAME, 'must be an environment variable name such as HIBOB_TOKEN') })
  .strict()
  .describe(
    'A secret taken from the environment: { env: VARIABLE_NAME }. Secrets are never written in the config file.',
  );
export type SecretRef = z.infer<typeof secretRef>;

const connectionName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,62}$/,
    'use lower-case letters, digits and dashes (it appears in workflow ids and webhook URLs)',
  );

const url = z.url({ message: 'must be an absolute http(s) URL' });

export const hibobSource = z
  .object({
    type: z.literal('hibob'),
    baseUrl: url.default('https://api.hibob.com/v1').describe('HiBob API base, including /v1.'),
    serviceUserId: z.string().min(1).describe('ID of the HiBob service user (not secret).'),
    serviceUserToken: secretRef.describe('Token of the HiBob service user.'),
    webhookSecret: secretRef.optional().describe('Signing secret of the HiBob webhook pointing at this connection.'),
    searchRequestsPerMinute: z
      .number()
      .int()
      .min(1)
      .max(50)
      .default(50)
      .describe('HiBob allows 50 people searches per minute.'),
    readsPerSecond: z
      .number()
      .positive()
      .max(50)
      .default(5)
      .describe('Reads of one employee (POST /people/{id}) per second; HiBob publishes no figure, so stay modest.'),
    readAfterWriteLagSeconds: z
      .number()
      .int()
      .min(0)
      .max(120)
      .default(20)
      .describe(
        'HiBob may serve the old value of an edited field for up to 20 s. When a webhook names mapped fields that still read as before, ' +
          'bobsync reads again (after 2, 4, 8… s) for up to this long before concluding nothing changed. 0 turns the re-read off.',
      ),
    report: z
      .object({
        name: z.string().min(1).describe('Name of the HiBob company report, as listed in Bob (GET /company/reports).'),
        identityColumn: z
          .string()
          .min(1)
          .default('Email')
          .describe(
            'Column that identifies a row: the HiBob employee id column (e.g. "Bob ID") or the work email column.',
          ),
        humanReadable: z
          .boolean()
          .default(true)
          .describe(
            'Download list values as their labels (Skillcast’s advice); false reads machine values (list ids).',
          ),
        columns: z
          .record(z.string().min(1), z.string().min(1))
          .default({})
          .describe(
            'Column name → HiBob field id, for columns the report names differently from the field (e.g. "Bob ID": root.id).',
          ),
      })
      .strict()
      .optional()
      .describe(
        'Read full syncs from this HiBob custom report instead of a people search, as Skillcast’s own HiBob provisioning does. ' +
          'Every field the mapping reads must be a column of the report; a missing column stops the run before any write. Webhooks still read one person at a time.',
      ),
  })
  .strict();

export const learning360Destination = z
  .object({
    type: z.literal('360learning'),
    baseUrl: url
      .default('https://app.360learning.com')
      .describe('EU: https://app.360learning.com, US: https://app.us.360learning.com'),
    clientId: z.string().min(1),
    clientSecret: secretRef,
    defaultGroupId: z
      .string()
      .regex(/^[a-fA-F0-9]{24}$/, 'must be a 360Learning group id (24 hex characters)')
      .describe('Group every new learner joins as learner (360Learning requires a membership at creation).'),
    externalIdPlatform: z
      .string()
      .min(1)
      .default('hibob')
      .describe('Platform name under which the HiBob employee id is stored.'),
    sendInvitationEmail: z
      .boolean()
      .default(false)
      .describe(
        'Let 360Learning e-mail each new learner an invitation to activate their account; the report names who was invited.',
      ),
    bulkMemberships: z
      .boolean()
      .default(true)
      .describe(
        'Full syncs give group roles through 360Learning’s bulk memberships API: one write for a whole batch of learners, ' +
          'polled to completion, each item’s result in the report. It needs the groups:bulk and bulkOperations:read scopes; ' +
          'without them (or while 360Learning has the bulk API off) the roles go one call each. Real-time syncs always use one call per role.',
      ),
    writesPerSecond: z
      .number()
      .positive()
      .max(10)
      .default(10)
      .describe('360Learning allows 10 writes per second per company.'),
    readsPerSecond: z.number().positive().max(50).default(50),
  })
  .strict();

/**
 * Skillcast over SCIM 2.0. The SCIM API user's domain access decides which users bobsync can
 * see and change: users of any other domain are invisible to it and never touched.
 */
export const skillcastDestination = z
  .object({
    type: z.literal('skillcast'),
    baseUrl: url.describe('SCIM base, e.g. https://acme.skillcast.io/skillcastApi/scim'),
    token: secretRef.describe('Session ID of the Skillcast API user with "Enable SCIM v2 API" and "Manage Users".'),
    domain: z
      .string()
      .min(1)
      .describe(
        'The user domain this connection provisions; give the SCIM API user access to this domain only, so no other domain is read or changed.',
      ),
    extensionUrn: z
      .string()
      .default('urn:ietf:params:scim:schemas:extension:skillcast:2.0:User')
      .describe('Schema URN carrying Skillcast attributes (custom fields); checked against the server’s /Schemas.'),
    uniqueIdentifier: z
      .literal('email', { error: 'Skillcast domains keyed on employee ID are not supported yet; use email' })
      .default('email')
      .describe('What the domain is keyed on: the SCIM userName is the work email.'),
    requestsPerSecond: z
      .number()
      .positive()
      .max(100)
      .default(5)
      .describe(
        'SCIM requests per second for this connection (Skillcast publishes no limit); enforced on a task queue of the connection’s own.',
      ),
  })
  .strict()
  .describe('Skillcast (SCIM 2.0).');

export const connectionSchema = z
  .object({
    name: connectionName,
    enabled: z.boolean().default(true),
    source: hibobSource,
    destination: z.discriminatedUnion('type', [learning360Destination, skillcastDestination], {
      error: (issue) => (issue.code === 'invalid_union' ? 'must be 360learning or skillcast' : undefined),
    }),
    /** Field mapping, filters, status rules and groups: filled in by the sync engine's schema. */
    mapping: mappingSchema.prefault({}),
    safety: z
      .object({
        protectedUsers: z
          .array(z.string().min(1))
          .default([])
          .describe(
            'Emails or LMS user ids that bobsync never changes or deactivates (admins, auditors, service accounts).',
          ),
        maxDeactivationPercent: z
          .number()
          .min(0)
          .max(100)
          .default(10)
          .describe(
            'A full sync that would deactivate more than this share of active learners stops and asks for approval.',
          ),
        maxDeactivations: z
          .number()
          .int()
          .min(0)
          .optional()
          .describe('Absolute limit on deactivations per full sync; the lower of the two limits applies.'),
        maxHibobDropPercent: z
          .number()
          .min(0)
          .max(100)
          .default(20)
          .describe(
            'HiBob returning this much fewer people than the last run (a permission change?) also asks for approval.',
          ),
        unmatchedLearners: z
          .enum(['report', 'deactivate'])
          .default('report')
          .describe(
            'Learners that match no HiBob person (no HiBob link, and no one in HiBob, leavers included, has their e-mail): ' +
              'report lists them in every full-sync report ("Not in HiBob"); deactivate also deactivates them, under the ' +
              'safeguards and never the protected users.',
          ),
        approval: z
          .enum(['always', 'firstRun', 'onSafeguard', 'never'])
          .optional()
          .describe(
            'When a full sync waits for `bobsync approve`: always (every run’s plan), firstRun (the first run’s plan, then onSafeguard), ' +
              'onSafeguard (only deactivations a safeguard holds), never (held deactivations are skipped and reported). Default: firstRun for Skillcast, onSafeguard for 360Learning.',
          ),
        approvalTimeoutHours: z
          .number()
          .positive()
          .max(24 * 30)
          .default(72)
          .describe('Unanswered approvals are rejected after this long.'),
        approvalReminderHours: z
          .number()
          .min(0)
          .max(24 * 30)
          .default(24)
          .describe(
            'While a full sync waits for approval, notifications.to get a reminder after this many hours, and again every this many hours ' +
              'until someone approves or rejects or the request lapses. 0 sends no reminders.',
          ),
      })
      .strict()
      .prefault({}),
    fullSync: z
      .object({
        schedule: z
          .string()
          .superRefine((expression, ctx) => {
            const problem = cronProblem(expression);
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          })
          .default('0 2 * * *')
          .describe('Cron expression (UTC) of the scheduled full sync, used by `bobsync schedule create`.'),
        batchSize: z.number().int().min(1).max(1000).default(50).describe('Changed employees per batch workflow.'),
        parallelism: z.number().int().min(1).max(50).default(4).describe('Batches running at once.'),
        concurrencyPerBatch: z
          .number()
          .int()
          .min(1)
          .max(100)
          .default(10)
          .describe('Employees synced at once inside a batch.'),
        timerHorizonDays: z
          .number()
          .int()
          .min(1)
          .max(366)
          .default(35)
          .describe(
            'An activation or deactivation due within this many days gets a durable timer in the employee’s workflow; later ones are picked up by a later full sync.',
          ),
        runTimeoutHours: z
          .number()
          .positive()
          .max(24 * 30)
          .default(12)
          .describe(
            'A full sync still running after this many hours is stopped, and notifications.to are told in which phase it was. ' +
              'Time spent waiting for approval does not count: that wait has its own limit, safety.approvalTimeoutHours.',
          ),
      })
      .strict()
      .prefault({}),
    notifications: z
      .object({
        to: z
          .array(z.email())
          .default([])
          .describe('Who hears about employees that cannot be synced, and gets full-sync reports.'),
        // Local names such as bobsync@localhost are fine as a sender.
        from: z
          .string()
          .regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address')
          .default('bobsync@localhost'),
        digestWindowSeconds: z
          .number()
          .int()
          .min(0)
          .max(3600)
          .default(60)
          .describe('Failures within this window go out as one email.'),
        minIntervalSeconds: z
          .number()
          .int()
          .min(0)
          .max(86_400)
          .default(900)
          .describe('At most one failure email per this many seconds; a storm becomes a digest.'),
      })
      .strict()
      .default({ to: [], from: 'bobsync@localhost', digestWindowSeconds: 60, minIntervalSeconds: 900 }),
  })
  .strict()
  .superRefine((connection, ctx) => {
    if (connection.destination.type === 'skillcast' && connection.mapping.groups.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['mapping', 'groups'],
        message:
          'Skillcast has no group roles over SCIM; remove mapping.groups and build audience groups in Skillcast from attributes (mapping.customFields)',
      });
    }
    if (connection.destination.type === '360learning') {
      for (const field of SCIM_ONLY_FIELDS) {
        if (!connection.mapping.fields[field]) continue;
        ctx.addIssue({
          code: 'custom',
          path: ['mapping', 'fields', field],
          message: `is a Skillcast (SCIM enterprise) attribute, and 360Learning users have no such field; map it in mapping.customFields instead`,
        });
      }
    }
    // Every read and search asks HiBob for all the fields the mapping uses, and HiBob refuses a list this long.
    const requested = fieldCount(connection.mapping);
    if (requested !== undefined && requested > HIBOB_MAX_FIELDS) {
      ctx.addIssue({
        code: 'custom',
        path: ['mapping'],
        message: `reads ${requested} HiBob fields (its fields, custom fields, groups, scope and status together), and HiBob takes at most ${HIBOB_MAX_FIELDS} per request; map fewer fields`,
      });
    }
  });

export type ApprovalMode = 'always' | 'firstRun' | 'onSafeguard' | 'never';

/** The connection's approval mode, with the destination's default when the config leaves it out. */
export function approvalMode(connection: Pick<ConnectionConfig, 'safety' | 'destination'>): ApprovalMode {
  return connection.safety.approval ?? (connection.destination.type === 'skillcast' ? 'firstRun' : 'onSafeguard');
}

export const configSchema = z
  .object({
    temporal: z
      .object({
        address: z
          .string()
          .default('127.0.0.1:7233')
          .describe('host:port of the Temporal frontend; TEMPORAL_ADDRESS overrides.'),
        namespace: z.string().default('default'),
        taskQueue: z.string().default('bobsync'),
      })
      .strict()
      .default({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'bobsync' }),
    connections: z
      .array(connectionSchema)
      .min(1, 'declare at least one connection')
      .superRefine((connections, ctx) => {
        const seen = new Set<string>();
        connections.forEach((c, i) => {
          if (seen.has(c.name))
            ctx.addIssue({
              code: 'custom',
              path: [i, 'name'],
              message: `connection name "${c.name}" is used twice; names must be unique`,
            });
          seen.add(c.name);
        });
      }),
  })
  .strict();

export type BobsyncConfig = z.infer<typeof configSchema>;
export type ConnectionConfig = z.infer<typeof connectionSchema>;
export type HibobSourceConfig = z.infer<typeof hibobSource>;
export type Learning360DestinationConfig = z.infer<typeof learning360Destination>;
export type SkillcastDestinationConfig = z.infer<typeof skillcastDestination>;

/** JSON Schema of bobsync.yaml for editors (e.g. yaml-language-server). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'bobsync configuration',
  };
}
