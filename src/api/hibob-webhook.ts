/**
 * HiBob webhook v2 parsing and signature checks, apart from HTTP so they can be tested alone.
 * Payloads are triggers only (ids, no data): the employee workflow re-reads HiBob before deciding.
 */
import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { HIBOB_EMPLOYEE_ID } from '../workflows/ids';

/** Base64(HMAC-SHA512(secret, raw body)) compared in constant time, before any JSON parsing. */
export function verifyBobSignature(secret: string, rawBody: Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const expected = createHmac('sha512', secret).update(rawBody).digest();
  const given = Buffer.from(header.trim(), 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function signBobBody(secret: string, rawBody: Buffer | string): string {
  return createHmac('sha512', secret).update(rawBody).digest('base64');
}

/** HiBob's field-update lists come in several shapes; all of them name field ids. */
const fieldUpdate = z.union([
  z.string(),
  z.object({ fieldId: z.string() }).loose(),
  z.object({ id: z.string() }).loose(),
]);

const envelopeSchema = z
  .object({
    companyId: z.number(),
    type: z.string().min(1),
    triggeredBy: z.string().optional(),
    triggeredAt: z.string().min(1),
    version: z.string().optional(),
    data: z
      .object({
        employeeId: z.union([z.string().min(1), z.number().transform(String)]).optional(),
        fieldUpdates: z.array(fieldUpdate).optional().catch(undefined),
        fieldUpdatesIds: z.array(fieldUpdate).optional().catch(undefined),
        email: z.string().optional(),
      })
      .loose(),
  })
  .loose();

export interface HibobEvent {
  type: string;
  employeeId: string;
  companyId: number;
  triggeredAt: string;
  /** Field ids HiBob says changed; empty = unknown, re-read everything. */
  fieldIds: string[];
  /** Same delivery seen twice has the same key: HiBob retries and duplicates carry no event id. */
  dedupeKey: string;
}

export type ParsedWebhook =
  | { kind: 'ping' }
  | { kind: 'event'; event: HibobEvent }
  | { kind: 'ignored'; type: string; reason: string }
  | { kind: 'invalid'; reason: string };

const EMPLOYEE_EVENTS =
  /^(employee\.(created|updated|deleted|joined|left|inactivated|activated|temporaryLeave)|table\.entry\.(created|updated))$/;

function fieldIdOf(update: z.infer<typeof fieldUpdate>): string {
  if (typeof update === 'string') return update;
  return 'fieldId' in update ? String(update.fieldId) : String((update as { id: string }).id);
}

export function parseHibobWebhook(rawBody: Buffer): ParsedWebhook {
  const text = rawBody.toString('utf8').trim();
  if (text === 'Ping test') return { kind: 'ping' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'invalid', reason: 'body is not JSON' };
  }
  if (json && typeof json === 'object' && (json as { text?: unknown }).text === 'Ping test') return { kind: 'ping' };
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { kind: 'invalid', reason: `${issue.path.join('.') || 'body'}: ${issue.message}` };
  }
  const envelope = parsed.data;
  if (!EMPLOYEE_EVENTS.test(envelope.type))
    return { kind: 'ignored', type: envelope.type, reason: 'not an employee event' };
  const employeeId = envelope.data.employeeId;
  if (!employeeId) return { kind: 'invalid', reason: 'data.employeeId: required for employee events' };
  // The value itself stays out of the reason: it may be kilobytes long or hold control characters.
  if (!HIBOB_EMPLOYEE_ID.test(employeeId)) {
    return {
      kind: 'invalid',
      reason: `data.employeeId: not a HiBob id (${employeeId.length} characters; expected 1-64 letters, digits, "_" or "-")`,
    };
  }
  const updates = envelope.data.fieldUpdates ?? envelope.data.fieldUpdatesIds ?? [];
  const dedupeKey = hash(
    'sha256',
    JSON.stringify([envelope.type, employeeId, envelope.triggeredAt, envelope.data]),
    'base64url',
  ).slice(0, 32);
  return {
    kind: 'event',
    event: {
      type: envelope.type,
      employeeId,
      companyId: envelope.companyId,
      triggeredAt: envelope.triggeredAt,
      fieldIds: updates.map(fieldIdOf),
      dedupeKey,
    },
  };
}
