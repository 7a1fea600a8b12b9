import {
  generateDemoEmployees,
  HibobEmulator,
  DEFAULT_SITES,
  CUSTOM_FIELD_IDS,
} from '../../packages/local/emulators/hibob';
import { asciiFold } from '../../packages/local/emulators/hibob/demo-data';
import { nextTransition } from '../../packages/local/emulators/hibob/lifecycle';

const TODAY = '2025-06-16';

describe('generateDemoEmployees', () => {
  const people = generateDemoEmployees({ count: 80, seed: 1, today: TODAY });

  it('is deterministic for a seed and date, and differs across seeds', () => {
    expect(generateDemoEmployees({ count: 80, seed: 1, today: TODAY })).toEqual(people);
    const other = generateDemoEmployees({ count: 80, seed: 2, today: TODAY });
    expect(other.map((p) => p.id)).not.toEqual(people.map((p) => p.id));
  });

  it('uses unique 19-digit string ids and unique employeeIdInCompany numbers', () => {
    expect(new Set(people.map((p) => p.id)).size).toBe(80);
    expect(people.every((p) => typeof p.id === 'string' && /^\d{19}$/.test(p.id))).toBe(true);
    expect(people.every((p) => Number.isInteger(p.employeeIdInCompany))).toBe(true);
    expect(new Set(people.map((p) => p.employeeIdInCompany)).size).toBe(80);
  });

  it('has names with diacritics', () => {
    const names = people.map((p) => `${p.firstName} ${p.surname}`).join(' ');
    for (const n of ['Zoë', 'Müller', 'Łukasz', 'José', 'Ólafur']) expect(names).toContain(n);
    expect(people.every((p) => p.email === null || /^[a-z0-9.]+@northwind\.example$/.test(p.email))).toBe(true);
    expect(asciiFold('Łukasz Søren Weiß Guðmundsdóttir')).toBe('Lukasz Soren Weiss Gudmundsdottir');
  });

  it('spreads people over the five sites and several departments', () => {
    const zones = new Set(people.map((p) => DEFAULT_SITES.find((s) => s.id === p.siteId)?.timeZone));
    for (const tz of ['Europe/London', 'Europe/Paris', 'America/New_York', 'Asia/Jerusalem', 'Australia/Sydney'])
      expect(zones).toContain(tz);
    expect(new Set(people.map((p) => p.department)).size).toBeGreaterThanOrEqual(6);
    expect(new Set(people.map((p) => p.title)).size).toBeGreaterThanOrEqual(8);
  });

  it('forms one manager tree under a CEO without a manager', () => {
    const byId = new Map(people.map((p) => [p.id, p]));
    const roots = people.filter((p) => p.reportsTo === null);
    expect(roots).toHaveLength(1);
    expect(roots[0]!.title).toBe('314420001');
    for (const p of people) {
      const seen = new Set<string>();
      let cur = p;
      while (cur.reportsTo) {
        expect(seen.has(cur.id)).toBe(false);
        seen.add(cur.id);
        cur = byId.get(cur.reportsTo)!;
        expect(cur).toBeDefined();
        expect(cur.lifecycleStatus).toBe('employed');
      }
      expect(cur.id).toBe(roots[0]!.id);
    }
  });

  it('includes future hires, leavers, garden leave, parental leave, missing and shared emails', () => {
    const hires = people.filter((p) => p.lifecycleStatus === 'hired');
    expect(hires.length).toBeGreaterThan(0);
    expect(hires.every((p) => p.status === 'Inactive' && p.startDate! > TODAY)).toBe(true);

    const leavers = people.filter((p) => p.lifecycleStatus === 'terminated');
    expect(leavers.length).toBeGreaterThan(0);
    expect(
      leavers.every((p) => p.status === 'Inactive' && p.terminationDate! < TODAY && p.terminationDate! > p.startDate!),
    ).toBe(true);

    const garden = people.filter((p) => p.lifecycleStatus === 'garden leave');
    expect(garden.length).toBeGreaterThan(0);
    expect(garden.every((p) => p.status === 'Active' && p.lastDayOfWork! > TODAY)).toBe(true);

    expect(
      people.some((p) => p.lifecycleStatus === 'parental leave' && p.leave?.endDate && p.leave.endDate > TODAY),
    ).toBe(true);
    expect(people.some((p) => p.email === null)).toBe(true);
    const emails = people.map((p) => p.email).filter((e) => e !== null);
    expect(emails.length - new Set(emails).size).toBe(1);
    expect(people.some((p) => p.title === null)).toBe(true);
    expect(people.some((p) => p.siteId === 2154019)).toBe(true); // archived Berlin
    expect(people.every((p) => Array.isArray(p.custom[CUSTOM_FIELD_IDS.lmsGroups]))).toBe(true);
  });

  it('is already settled on its own date: no lifecycle change is due', () => {
    expect(people.filter((p) => nextTransition(p, TODAY) !== null)).toEqual([]);
  });

  it('carries lifecycle history rows', () => {
    const leaver = people.find((p) => p.lifecycleStatus === 'terminated')!;
    expect(leaver.lifecycle.map((r) => r.status)).toContain('terminated');
    expect(people.every((p) => p.lifecycle.length > 0)).toBe(true);
  });

  it('seeds straight into the emulator', () => {
    const emu = new HibobEmulator();
    expect(emu.seed(generateDemoEmployees({ count: 50, seed: 1 }))).toBe(50);
    expect(emu.listEmployees()).toHaveLength(50);
  });

  it('copes with tiny companies', () => {
    expect(generateDemoEmployees({ count: 0, seed: 1, today: TODAY })).toEqual([]);
    const one = generateDemoEmployees({ count: 1, seed: 1, today: TODAY });
    expect(one).toHaveLength(1);
    expect(one[0]!.reportsTo).toBeNull();
    expect(generateDemoEmployees({ count: 5, seed: 1, today: TODAY })).toHaveLength(5);
  });
});
