/** Webhook v2 bodies and signatures (contract §10.3, §10.4, §10.6). Pure. */
import { createHmac } from 'node:crypto';
import type { DirectoryEvent, FieldChange } from './types';

/** Shapes of `data.fieldUpdates` the client must tolerate; "fieldId" is the default. */
export const FIELD_UPDATES_VARIANTS = [
  'fieldId',
  'id',
  'strings',
  'fieldUpdatesIds',
  'withValues',
  'missing',
  'empty',
  'unparseable',
] as const;
export type FieldUpdatesVariant = (typeof FIELD_UPDATES_VARIANTS)[number];

/** Base64(HMAC-SHA512(secret as UTF-8, raw body)). */
export function bobSignature(secret: string, rawBody: string | Buffer): string {
  return createHmac('sha512', Buffer.from(secret, 'utf8')).update(rawBody).digest('base64');
}

export function fieldUpdatesData(changes: FieldChange[], variant: FieldUpdatesVariant): Record<string, unknown> {
  switch (variant) {
    case 'id':
      return { fieldUpdates: changes.map((c) => ({ id: c.fieldId })) };
    case 'strings':
      return { fieldUpdates: changes.map((c) => c.fieldId) };
    case 'fieldUpdatesIds':
      return { fieldUpdatesIds: changes.map((c) => ({ id: c.fieldId })) };
    case 'withValues':
      return { fieldUpdates: changes.map((c) => ({ fieldId: c.fieldId, oldValue: c.oldValue, newValue: c.newValue })) };
    case 'missing':
      return {};
    case 'empty':
      return { fieldUpdates: [] };
    case 'unparseable':
      return { fieldUpdates: changes.map((c) => c.fieldId).join(';') };
    default:
      return { fieldUpdates: changes.map((c) => ({ fieldId: c.fieldId })) };
  }
}

export interface EnvelopeInput {
  companyId: number;
  triggeredAt: string;
  variant: FieldUpdatesVariant;
  /** One official example omits `version`; the sender can do the same. */
  omitVersion?: boolean;
}

/** The exact body bytes sent for one event (what the signature covers). */
export function envelopeBody(event: DirectoryEvent, o: EnvelopeInput): string {
  const data =
    event.type === 'employee.updated'
      ? { ...event.data, ...fieldUpdatesData(event.changes ?? [], o.variant) }
      : event.data;
  return JSON.stringify({
    companyId: o.companyId,
    type: event.type,
    triggeredBy: event.triggeredBy,
    triggeredAt: o.triggeredAt,
    ...(o.omitVersion ? {} : { version: 'v2' }),
    data,
  });
}
