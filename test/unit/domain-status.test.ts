import type { MappingInput } from '../../src/config/mapping-schema';
import { evaluateStatus, targetState } from '../../src/domain/status';
import type { NormalisedEmployee } from '../../src/domain/types';
import { mapping, NOW } from './domain-fixtures';

type Lifecycle = NormalisedEmployee['lifecycle'];

function person(lifecycle: Lifecycle, siteTimeZone?: string): NormalisedEmployee {
  const e: NormalisedEmployee = { id: '1', email: 'a@example.com', fields: {}, lifecycle };
  if (siteTimeZone) e.siteTimeZone = siteTimeZone;
  return e;
}

const rules = (status: MappingInput['status'] = {}) =>
  mapping({ status: { defaultTimeZone: 'Europe/London', ...status } }).status;
const employed: Lifecycle = {
  status: 'employed',
  internalStatus: 'Active',
  startDate: '2021-05-04',
  terminationDate: null,
  lastDayOfWork: null,
};

describe('evaluateStatus (now = 2026-03-15 12:00 UTC)', () => {
  it('employed → active, nothing scheduled', () => {
    expect(evaluateStatus(person(employed), rules(), NOW)).toEqual({
      state: 'active',
      reason: 'lifecycle status is employed',
    });
  });

  it('an inactive lifecycle status wins over everything, including a future start (cancelled hire)', () => {
    const d = evaluateStatus(
      person({ ...employed, status: 'terminated', internalStatus: 'Active', startDate: '2026-04-01' }),
      rules(),
      NOW,
    );
    expect(d).toEqual({ state: 'inactive', reason: 'lifecycle status is terminated' });
    const custom = evaluateStatus(
      person({ ...employed, status: 'garden leave' }),
      rules({ inactiveLifecycleStatuses: ['Terminated', 'Garden leave'] }),
      NOW,
    );
    expect(custom.state).toBe('inactive');
  });

  describe('leavers', () => {
    it('a future termination stays active until the end of the last day, local time', () => {
      const d = evaluateStatus(person({ ...employed, terminationDate: '2026-03-31' }), rules(), NOW);
      expect(d).toEqual({
        state: 'active',
        reason:
          'lifecycle status is employed; deactivation at 2026-04-01 00:00 Europe/London (end of the last day 2026-03-31)',
        changesAt: '2026-03-31T23:00:00.000Z',
        nextState: 'inactive',
      });
      expect(
        evaluateStatus(
          person({ ...employed, terminationDate: '2026-03-31' }),
          rules(),
          new Date('2026-03-31T22:59:59.999Z'),
        ).state,
      ).toBe('active');
      expect(
        evaluateStatus(person({ ...employed, terminationDate: '2026-03-31' }), rules(), new Date(d.changesAt!)).state,
      ).toBe('inactive');
    });

    it('a termination dated today still works today', () => {
      const d = evaluateStatus(person({ ...employed, terminationDate: '2026-03-15' }), rules(), NOW);
      expect(d.state).toBe('active');
      expect(d.changesAt).toBe('2026-03-16T00:00:00.000Z');
    });

    it('a past termination → inactive even while HiBob still says employed', () => {
      const d = evaluateStatus(person({ ...employed, terminationDate: '2026-03-14' }), rules(), NOW);
      expect(d).toEqual({
        state: 'inactive',
        reason: 'deactivated since 2026-03-15 00:00 Europe/London (end of the last day 2026-03-14)',
      });
    });

    it('startOfTerminationDate deactivates at the local midnight that starts the termination date', () => {
      const future = evaluateStatus(
        person({ ...employed, terminationDate: '2026-03-31' }),
        rules({ deactivateAt: 'startOfTerminationDate' }),
        NOW,
      );
      expect(future.changesAt).toBe('2026-03-30T23:00:00.000Z');
      expect(future.reason).toContain('(start of the termination date 2026-03-31)');
      const today = evaluateStatus(
        person({ ...employed, terminationDate: '2026-03-15' }),
        rules({ deactivateAt: 'startOfTerminationDate' }),
        NOW,
      );
      expect(today.state).toBe('inactive');
    });

    it('garden leave: active until the end of the last day of work, not the termination date', () => {
      const leaver = person({
        ...employed,
        status: 'garden leave',
        lastDayOfWork: '2026-03-20',
        terminationDate: '2026-04-30',
      });
      const d = evaluateStatus(leaver, rules(), NOW);
      expect(d.state).toBe('active');
      expect(d.changesAt).toBe('2026-03-21T00:00:00.000Z');
      expect(d.nextState).toBe('inactive');
      expect(evaluateStatus(leaver, rules(), new Date('2026-03-22T00:00:00Z')).state).toBe('inactive');
    });

    it('startOfTerminationDate with only a last day of work ends after that day', () => {
      const d = evaluateStatus(
        person({ ...employed, lastDayOfWork: '2026-03-20' }),
        rules({ deactivateAt: 'startOfTerminationDate' }),
        NOW,
      );
      expect(d.changesAt).toBe('2026-03-21T00:00:00.000Z');
    });
  });

  describe('joiners', () => {
    const hired: Lifecycle = {
      status: 'hired',
      internalStatus: 'Inactive',
      startDate: '2026-04-01',
      terminationDate: null,
      lastDayOfWork: null,
    };

    it('a future hire is notYet until local midnight of the start date', () => {
      const d = evaluateStatus(person(hired), rules(), NOW);
      expect(d).toEqual({
        state: 'notYet',
        reason: 'starts on 2026-04-01; activation at 2026-04-01 00:00 Europe/London',
        changesAt: '2026-03-31T23:00:00.000Z',
        nextState: 'active',
      });
      // HiBob may not have flipped the status yet at that instant: on the start date the date decides.
      expect(evaluateStatus(person(hired), rules(), new Date('2026-03-31T23:00:00Z'))).toEqual({
        state: 'active',
        reason: 'starts today (2026-04-01)',
      });
      expect(evaluateStatus(person(hired), rules(), new Date('2026-04-02T08:00:00Z'))).toEqual({
        state: 'inactive',
        reason: 'HiBob internal status is Inactive',
      });
    });

    it('activateBeforeStartDays moves activation earlier and overrides internal Inactive', () => {
      const r = rules({ activateBeforeStartDays: 7 });
      const before = evaluateStatus(person(hired), r, NOW);
      expect(before.state).toBe('notYet');
      expect(before.changesAt).toBe('2026-03-25T00:00:00.000Z');
      expect(before.reason).toContain('(7 days before the start date)');
      const within = evaluateStatus(person(hired), r, new Date('2026-03-26T09:00:00Z'));
      expect(within).toEqual({ state: 'active', reason: 'starts on 2026-04-01; activated 7 days ahead' });
    });

    it('a hire already inside the lead time is active now', () => {
      expect(
        evaluateStatus(person({ ...hired, startDate: '2026-03-20' }), rules({ activateBeforeStartDays: 7 }), NOW).state,
      ).toBe('active');
    });

    it('the next state is inactive when the contract ends the moment it starts', () => {
      const d = evaluateStatus(
        person({ ...hired, terminationDate: '2026-04-01' }),
        rules({ deactivateAt: 'startOfTerminationDate' }),
        NOW,
      );
      expect(d.state).toBe('notYet');
      expect(d.nextState).toBe('inactive');
    });

    it('a hire past the start date that HiBob still marks Inactive is inactive', () => {
      const d = evaluateStatus(person({ ...hired, startDate: '2026-03-01' }), rules(), NOW);
      expect(d).toEqual({ state: 'inactive', reason: 'HiBob internal status is Inactive' });
    });
  });

  describe('rehire', () => {
    it('an old termination before the new start date is ignored', () => {
      const back = person({
        status: 'employed',
        internalStatus: 'Active',
        startDate: '2026-03-01',
        terminationDate: '2025-06-30',
        lastDayOfWork: '2025-06-30',
      });
      expect(evaluateStatus(back, rules(), NOW)).toEqual({ state: 'active', reason: 'lifecycle status is employed' });
    });

    it('a rehire starting later is notYet, then active', () => {
      const back = person({
        status: 'hired',
        internalStatus: 'Inactive',
        startDate: '2026-04-15',
        terminationDate: '2025-06-30',
        lastDayOfWork: null,
      });
      const d = evaluateStatus(back, rules(), NOW);
      expect(d.state).toBe('notYet');
      expect(d.changesAt).toBe('2026-04-14T23:00:00.000Z');
      expect(evaluateStatus(back, rules(), new Date('2026-04-15T08:00:00Z')).state).toBe('active');
    });
  });

  describe('internal status, leave and active lifecycle lists', () => {
    it('internal Inactive → inactive unless useInternalStatus is off', () => {
      const off = person({ ...employed, internalStatus: 'Inactive' });
      expect(evaluateStatus(off, rules(), NOW).state).toBe('inactive');
      expect(evaluateStatus(off, rules({ useInternalStatus: false }), NOW).state).toBe('active');
    });

    it('leave keeps the learner active by default, even when HiBob marks it Inactive', () => {
      const onLeave = person({ ...employed, status: 'parental leave', internalStatus: 'Inactive' });
      expect(evaluateStatus(onLeave, rules(), NOW)).toEqual({
        state: 'active',
        reason: 'on parental leave; kept active (status.leaveStatuses.keepActive)',
      });
      expect(evaluateStatus(onLeave, rules({ leaveStatuses: { keepActive: false } }), NOW)).toEqual({
        state: 'inactive',
        reason: 'on parental leave; status.leaveStatuses.keepActive is false',
      });
    });

    it('leave with a termination ahead is deactivated at the end of the last day', () => {
      const d = evaluateStatus(person({ ...employed, status: 'leave', terminationDate: '2026-03-20' }), rules(), NOW);
      expect(d.state).toBe('active');
      expect(d.nextState).toBe('inactive');
    });

    it('activeLifecycleStatuses: anything else is inactive, leave statuses still count', () => {
      const r = rules({ activeLifecycleStatuses: ['Employed'] });
      expect(evaluateStatus(person({ ...employed, status: 'hired', internalStatus: 'Active' }), r, NOW)).toEqual({
        state: 'inactive',
        reason: 'lifecycle status hired is not in status.activeLifecycleStatuses',
      });
      expect(evaluateStatus(person(employed), r, NOW).state).toBe('active');
      expect(evaluateStatus(person({ ...employed, status: 'leave' }), r, NOW).state).toBe('active');
    });

    it('an unknown lifecycle decides on internal status and dates', () => {
      expect(evaluateStatus(person({ internalStatus: 'Active' }), rules(), NOW)).toEqual({
        state: 'active',
        reason: 'HiBob internal status is Active',
      });
      expect(evaluateStatus(person({ internalStatus: 'Inactive' }), rules(), NOW).state).toBe('inactive');
      expect(evaluateStatus(person({ status: null, internalStatus: null }), rules(), NOW).reason).toBe(
        'HiBob internal status is not set',
      );
    });

    it('ignores dates that are not calendar dates', () => {
      expect(
        evaluateStatus(person({ ...employed, terminationDate: '31/03/2026', startDate: 'soon' }), rules(), NOW),
      ).toEqual({
        state: 'active',
        reason: 'lifecycle status is employed',
      });
    });
  });

  describe('time zones', () => {
    it.each([
      ['Europe/London', '2026-03-28', '2026-03-29T00:00:00.000Z', 'the day before clocks go forward ends in GMT'],
      ['Europe/London', '2026-03-29', '2026-03-29T23:00:00.000Z', 'the day clocks go forward ends in BST'],
      ['America/New_York', '2026-03-07', '2026-03-08T05:00:00.000Z', 'EST'],
      ['America/New_York', '2026-03-08', '2026-03-09T04:00:00.000Z', 'EDT from the 8th'],
      ['Australia/Sydney', '2026-04-04', '2026-04-04T13:00:00.000Z', 'AEDT until the 5th'],
      ['Australia/Sydney', '2026-04-05', '2026-04-05T14:00:00.000Z', 'AEST after'],
      ['Asia/Jerusalem', '2026-03-26', '2026-03-26T22:00:00.000Z', 'IST'],
      ['Asia/Jerusalem', '2026-03-27', '2026-03-27T21:00:00.000Z', 'IDT from the Friday'],
    ])('%s: last day %s ends at %s (%s)', (zone, lastDay, instant) => {
      const d = evaluateStatus(
        person({ ...employed, lastDayOfWork: lastDay }, zone),
        rules(),
        new Date(`${lastDay}T12:00:00Z`),
      );
      expect(d.changesAt).toBe(instant);
      expect(
        evaluateStatus(
          person({ ...employed, lastDayOfWork: lastDay }, zone),
          rules(),
          new Date(Date.parse(instant) - 1),
        ).state,
      ).toBe('active');
      expect(
        evaluateStatus(person({ ...employed, lastDayOfWork: lastDay }, zone), rules(), new Date(instant)).state,
      ).toBe('inactive');
    });

    it('a start date is reached earlier in Sydney than in London', () => {
      const starter: Lifecycle = { status: 'hired', internalStatus: 'Inactive', startDate: '2026-03-16' };
      expect(evaluateStatus(person(starter, 'Australia/Sydney'), rules(), NOW).changesAt).toBe(
        '2026-03-15T13:00:00.000Z',
      );
      expect(evaluateStatus(person(starter), rules(), NOW).changesAt).toBe('2026-03-16T00:00:00.000Z');
      expect(evaluateStatus(person(starter, 'Australia/Sydney'), rules(), new Date('2026-03-15T13:00:00Z')).state).toBe(
        'active',
      );
    });

    it('falls back to the default zone when the site zone is unknown', () => {
      const d = evaluateStatus(
        person({ ...employed, terminationDate: '2026-03-31' }, 'Nowhere/Land'),
        rules({ defaultTimeZone: 'America/New_York' }),
        NOW,
      );
      expect(d.changesAt).toBe('2026-04-01T04:00:00.000Z');
      expect(d.reason).toContain('America/New_York');
    });
  });

  it('targetState leaves a notYet account as it is', () => {
    expect(targetState({ state: 'notYet', reason: '' })).toBeUndefined();
    expect(targetState({ state: 'inactive', reason: '' })).toBe('inactive');
  });
});
