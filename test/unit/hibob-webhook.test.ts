import { createHmac } from 'node:crypto';
import { parseHibobWebhook, signBobBody, verifyBobSignature } from '../../src/api/hibob-webhook';

const secret = 'whsec-test';
const body = (o: unknown) => Buffer.from(JSON.stringify(o));
const envelope = (data: Record<string, unknown>, type = 'employee.updated') => ({
  companyId: 636192,
  type,
  triggeredBy: '3332883804594373380',
  triggeredAt: '2025-01-08T13:06:26.915906',
  version: 'v2',
  data,
});

describe('Bob-Signature', () => {
  it('accepts the documented algorithm: base64 of HMAC-SHA512 over the raw body', () => {
    const raw = body(envelope({ employeeId: '1' }));
    const header = createHmac('sha512', secret).update(raw).digest('base64');
    expect(verifyBobSignature(secret, raw, header)).toBe(true);
    expect(signBobBody(secret, raw)).toBe(header);
  });

  it('rejects a missing, wrong, truncated or other-secret signature, and a re-serialised body', () => {
    const raw = body(envelope({ employeeId: '1' }));
    const good = signBobBody(secret, raw);
    expect(verifyBobSignature(secret, raw, undefined)).toBe(false);
    expect(verifyBobSignature(secret, raw, '')).toBe(false);
    expect(verifyBobSignature(secret, raw, good.slice(0, 20))).toBe(false);
    expect(verifyBobSignature('other', raw, good)).toBe(false);
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(raw.toString()), null, 1));
    expect(verifyBobSignature(secret, reserialised, good)).toBe(false);
  });
});

describe('HiBob webhook envelope', () => {
  it('recognises both ping forms', () => {
    expect(parseHibobWebhook(Buffer.from('Ping test'))).toEqual({ kind: 'ping' });
    expect(parseHibobWebhook(body({ text: 'Ping test' }))).toEqual({ kind: 'ping' });
  });

  it.each([
    ['fieldId objects', { fieldUpdates: [{ fieldId: 'root.email' }, { fieldId: 'work.title' }] }],
    ['id objects', { fieldUpdates: [{ id: 'root.email' }, { id: 'work.title' }] }],
    ['plain strings', { fieldUpdates: ['root.email', 'work.title'] }],
    ['the alternate key', { fieldUpdatesIds: [{ id: 'root.email' }, { id: 'work.title' }] }],
    [
      'v1-style extra keys',
      { fieldUpdates: [{ fieldId: 'root.email', oldValue: 'a', newValue: 'b' }, { fieldId: 'work.title' }] },
    ],
  ])('reads field updates given as %s', (_name, extra) => {
    const parsed = parseHibobWebhook(body(envelope({ employeeId: '3332883854254932743', ...extra })));
    expect(parsed).toMatchObject({
      kind: 'event',
      event: { employeeId: '3332883854254932743', fieldIds: ['root.email', 'work.title'], companyId: 636192 },
    });
  });

  it('treats missing or unparseable field updates as "something changed"', () => {
    for (const data of [
      { employeeId: '1' },
      { employeeId: '1', fieldUpdates: 'garbage' },
      { employeeId: '1', fieldUpdates: [] },
    ]) {
      expect(parseHibobWebhook(body(envelope(data)))).toMatchObject({ kind: 'event', event: { fieldIds: [] } });
    }
  });

  it('accepts an envelope without version and lifecycle and table events', () => {
    const { version: _v, ...noVersion } = envelope({ employeeId: '1' });
    expect(parseHibobWebhook(body(noVersion)).kind).toBe('event');
    for (const type of [
      'employee.created',
      'employee.deleted',
      'employee.joined',
      'employee.left',
      'employee.inactivated',
      'employee.activated',
      'table.entry.created',
    ]) {
      expect(parseHibobWebhook(body(envelope({ employeeId: '1' }, type))).kind).toBe('event');
    }
  });

  it('ignores events that are not about employees', () => {
    expect(parseHibobWebhook(body(envelope({ employeeId: '1' }, 'timeoff.request.created')))).toEqual({
      kind: 'ignored',
      type: 'timeoff.request.created',
      reason: 'not an employee event',
    });
  });

  it('rejects malformed bodies with the reason', () => {
    expect(parseHibobWebhook(Buffer.from('{not json'))).toEqual({ kind: 'invalid', reason: 'body is not JSON' });
    expect(parseHibobWebhook(body({ ...envelope({ employeeId: '1' }), companyId: '636192' }))).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining('companyId'),
    });
    expect(parseHibobWebhook(body(envelope({})))).toEqual({
      kind: 'invalid',
      reason: 'data.employeeId: required for employee events',
    });
  });

  it.each([
    ['5,000 characters', '7'.repeat(5_000)],
    ['65 characters', '1'.repeat(65)],
    ['a newline', '3332883854254932743\n'],
    ['a NUL', '3332883854254932743\u0000'],
    ['an escape sequence', '\u001b[31m3332883854254932743'],
    ['a space', '3332883854254932743 '],
    ['a slash', '3332883854254932743/../x'],
    ['an email address', 'jane.doe@example.com'],
  ])('rejects an employee id with %s, naming the field but not echoing the value', (_name, employeeId) => {
    const parsed = parseHibobWebhook(body(envelope({ employeeId })));
    expect(parsed).toEqual({ kind: 'invalid', reason: expect.stringMatching(/^data\.employeeId: not a HiBob id/) });
    if (parsed.kind === 'invalid') expect(parsed.reason).not.toContain(employeeId);
  });

  it('rejects an empty employee id', () => {
    expect(parseHibobWebhook(body(envelope({ employeeId: '' })))).toEqual({
      kind: 'invalid',
      reason: expect.stringContaining('data.employeeId'),
    });
  });

  it.each(['3332883854254932743', '1', '1'.repeat(64), 'E-1001', 'emp_42'])(
    'accepts the employee id %s',
    (employeeId) => {
      expect(parseHibobWebhook(body(envelope({ employeeId })))).toMatchObject({ kind: 'event', event: { employeeId } });
    },
  );

  it('gives the same delivery the same dedupe key and different events different keys', () => {
    const a = parseHibobWebhook(body(envelope({ employeeId: '1', fieldUpdates: [{ fieldId: 'root.email' }] })));
    const again = parseHibobWebhook(body(envelope({ employeeId: '1', fieldUpdates: [{ fieldId: 'root.email' }] })));
    const later = parseHibobWebhook(
      body({
        ...envelope({ employeeId: '1', fieldUpdates: [{ fieldId: 'root.email' }] }),
        triggeredAt: '2025-01-08T13:06:27.000001',
      }),
    );
    if (a.kind !== 'event' || again.kind !== 'event' || later.kind !== 'event') throw new Error('expected events');
    expect(again.event.dedupeKey).toBe(a.event.dedupeKey);
    expect(later.event.dedupeKey).not.toBe(a.event.dedupeKey);
  });
});
