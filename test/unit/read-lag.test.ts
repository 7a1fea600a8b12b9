import { fieldDigests } from '../../src/domain/field-digests';
import { normaliseEmployee } from '../../src/domain/normalise';
import {
  mappedNamedFields,
  rereadPauses,
  snapshotRecordUsable,
  staleReadReason,
  type ReadLagCheck,
  type SnapshotUse,
} from '../../src/workflows/read-lag';

const before = { 'root.surname': 'aaa', 'work.title': 'bbb', 'root.email': 'ccc' };
const check = (over: Partial<ReadLagCheck>): ReadLagCheck => ({
  namedFields: ['root.surname'],
  digests: before,
  applied: before,
  planChangesNothing: true,
  found: true,
  eventTypes: ['employee.updated'],
  ...over,
});

describe('HiBob read-after-write lag', () => {
  it('a named field that reads as before the events is stale', () => {
    expect(staleReadReason(check({}))).toBe('root.surname still reads as before the edit');
  });

  it('a named field that reads differently is current, even when other named fields do not move', () => {
    expect(
      staleReadReason(check({ digests: { ...before, 'root.surname': 'new' }, planChangesNothing: false })),
    ).toBeUndefined();
  });

  it('a partly stale read is stale: one of two named fields still reads old', () => {
    const reason = staleReadReason(
      check({
        namedFields: ['root.surname', 'work.title'],
        digests: { ...before, 'root.surname': 'new' },
        planChangesNothing: false,
      }),
    );
    expect(reason).toBe('work.title still reads as before the edit');
  });

  it('a named field that reads empty where it had a value is stale', () => {
    expect(staleReadReason(check({ digests: { ...before, 'root.surname': null }, planChangesNothing: false }))).toBe(
      'root.surname reads empty',
    );
  });

  it('events naming no mapped field, or no field at all, never wait', () => {
    expect(staleReadReason(check({ namedFields: ['payroll.salary'] }))).toBeUndefined();
    expect(staleReadReason(check({ namedFields: [] }))).toBeUndefined();
  });

  it('without a known last value, a read that changes nothing after an edit of a mapped field is suspect', () => {
    expect(staleReadReason(check({ applied: undefined }))).toMatch(
      /root.surname changed in HiBob but the read changes nothing/,
    );
    expect(staleReadReason(check({ applied: undefined, planChangesNothing: false }))).toBeUndefined();
  });

  it('before the read is planned, only the digests decide: an unknown last value does not look stale yet', () => {
    expect(staleReadReason(check({ applied: undefined, planChangesNothing: undefined }))).toBeUndefined();
    expect(staleReadReason(check({ planChangesNothing: undefined }))).toBe(
      'root.surname still reads as before the edit',
    );
  });

  it('a new hire that does not read yet is stale; a deleted one is not', () => {
    expect(staleReadReason(check({ found: false, digests: undefined, eventTypes: ['employee.created'] }))).toBe(
      'a new employee does not read yet',
    );
    expect(
      staleReadReason(check({ found: false, digests: undefined, eventTypes: ['employee.deleted'] })),
    ).toBeUndefined();
    expect(
      staleReadReason(
        check({ found: false, digests: undefined, eventTypes: ['employee.created', 'employee.deleted'] }),
      ),
    ).toBeUndefined();
  });

  it('only named fields the mapping reads count, each once', () => {
    expect(mappedNamedFields(['root.surname', 'root.surname', 'x.y'], before)).toEqual(['root.surname']);
    expect(mappedNamedFields(['root.surname'], undefined)).toEqual([]);
  });

  it('pauses start short, double, and add up to the budget exactly', () => {
    expect(rereadPauses(20)).toEqual([2_000, 4_000, 8_000, 6_000]);
    expect(rereadPauses(5)).toEqual([2_000, 3_000]);
    expect(rereadPauses(0)).toEqual([]);
    expect(rereadPauses(-3)).toEqual([]);
    expect(rereadPauses(0.5)).toEqual([500]);
  });
});

describe('field digests', () => {
  const employee = (surname: unknown) =>
    normaliseEmployee({ id: '1', firstName: 'Ada', surname, email: 'ada@example.com' });

  it('differ when a value changes and are equal when it does not', () => {
    const a = fieldDigests(employee('Lovelace'), ['root.surname', 'root.firstName']);
    const b = fieldDigests(employee('King'), ['root.surname', 'root.firstName']);
    expect(a['root.surname']).not.toEqual(b['root.surname']);
    expect(a['root.firstName']).toEqual(b['root.firstName']);
    expect(fieldDigests(employee('Lovelace'), ['root.surname'])).toEqual({ 'root.surname': a['root.surname'] });
  });

  it('mark empty and unread fields null, and never hold the value itself', () => {
    const d = fieldDigests(employee(null), ['root.surname', 'work.department']);
    expect(d).toEqual({ 'root.surname': null, 'work.department': null });
    expect(JSON.stringify(fieldDigests(employee('Lovelace'), ['root.surname']))).not.toContain('Lovelace');
  });
});

describe("a full sync's snapshot record in place of a HiBob read", () => {
  const now = Date.parse('2026-12-03T10:00:00Z');
  const use = (over: Partial<SnapshotUse>): SnapshotUse => ({
    snapshotReadAt: now - 60_000,
    readLagSeconds: 20,
    now,
    idleTimeoutMs: 10 * 60_000,
    ...over,
  });

  it('stands in when this workflow has read nothing and no earlier one can have read since', () => {
    expect(snapshotRecordUsable(use({}))).toBe(true);
  });

  it('not when the search began within the read lag of, or before, the last read applied', () => {
    expect(snapshotRecordUsable(use({ lastReadAt: now - 120_000 }))).toBe(true);
    // Settled 80 s ago: a read 79 s ago may have shown an edit the search had not caught up with.
    expect(snapshotRecordUsable(use({ lastReadAt: now - 79_000 }))).toBe(false);
    expect(snapshotRecordUsable(use({ lastReadAt: now - 80_000 }))).toBe(false);
    expect(snapshotRecordUsable(use({ lastReadAt: now - 81_000 }))).toBe(true);
  });

  it('not when an earlier workflow of the employee, now completed, may have read after the search', () => {
    // An idle workflow completes 10 minutes after its last read: a search settled before then is too old.
    expect(snapshotRecordUsable(use({ snapshotReadAt: now - 10 * 60_000 + 21_000 }))).toBe(true);
    expect(snapshotRecordUsable(use({ snapshotReadAt: now - 10 * 60_000 + 20_000 }))).toBe(false);
    expect(snapshotRecordUsable(use({ snapshotReadAt: now - 3_600_000 }))).toBe(false);
  });

  it('not when the time of the search cannot be read', () => {
    expect(snapshotRecordUsable(use({ snapshotReadAt: Number.NaN }))).toBe(false);
  });
});
