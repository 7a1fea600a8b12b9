/**
 * Deterministic demo company: the same seed and `today` always give the same people.
 * Covers what a sync must cope with: diacritics, five sites in different zones, a manager
 * tree under one CEO, future hires, leavers, garden leave, parental leave, missing emails,
 * one shared email, and references to archived list items.
 */
import { addDays, isIsoDate } from './dates';
import { CUSTOM_FIELD_IDS } from './fields';
import { BackendIdSequence, formatMicros, mulberry32 } from './ids';
import { deriveLifecycleRows } from './lifecycle';
import { DEFAULT_NAMED_LISTS, DEFAULT_SITES, DEPARTMENTS } from './lists';
import type { HibobEmployeeRecord } from './types';

export type { HibobEmployeeRecord } from './types';

export interface DemoOptions {
  count: number;
  seed: number;
  /** `YYYY-MM-DD` the data is relative to; defaults to the current UTC date. */
  today?: string;
  /** Email domain (default northwind.example). */
  domain?: string;
}

const ANCHORS: Array<[string, string]> = [
  ['Zoë', 'Müller'],
  ['Łukasz', 'Nowak'],
  ['José', 'García'],
  ['Ólafur', 'Jónsson'],
  ['Anaïs', 'Lefèvre'],
  ['Søren', 'Schröder'],
];

const FIRST_NAMES = [
  'Chloé',
  'Björn',
  'Noémie',
  'Małgorzata',
  'Inês',
  'François',
  'Jürgen',
  'Siobhán',
  'Renée',
  'Raphaël',
  'Maëlle',
  'Dvir',
  'Noa',
  'Yael',
  'Amit',
  'Olivia',
  'James',
  'Priya',
  'Mohammed',
  'Aoife',
  'Liam',
  'Mia',
  'Ethan',
  'Sofía',
  'Lucas',
  'Emma',
  'Oliver',
  'Charlotte',
  'Hiroshi',
  'Chen',
  'Fatima',
  'Kwame',
  'Ana',
  'Mateo',
  'Zoë',
  'José',
  'Łukasz',
  'Ólafur',
  'Agnieszka',
  'Håkon',
];

const SURNAMES = [
  'Müller',
  'Kowalczyk',
  'Fernández',
  'Guðmundsdóttir',
  'Dubois',
  'Girard',
  'Smith',
  "O'Brien",
  'Murphy',
  'Cohen',
  'Levi',
  'Mizrahi',
  'Peretz',
  'Williams',
  'Brown',
  'Taylor',
  'Nguyen',
  'Kim',
  'Patel',
  'Singh',
  'Rossi',
  'Bianchi',
  'Andersson',
  'Weiß',
  'Ferreira',
  'da Silva',
  'Martin',
  'Bernard',
  'Thompson',
  'Wilson',
  'Walker',
  'Anderson',
  'Clarke',
  'Núñez',
  'Wiśniewski',
  'Çelik',
  'Lindqvist',
  'Ní Bhriain',
  'Haddad',
  'Roux',
];

const TITLES = Object.fromEntries(
  DEFAULT_NAMED_LISTS.find((l) => l.name === 'title')!.items.map((i) => [i.name, i.id]),
);
const title = (name: string): string => TITLES[name]!;

const SITE = Object.fromEntries(DEFAULT_SITES.map((s) => [s.name, s]));

type Group = 'engineering' | 'sales' | 'people' | 'finance' | 'marketing' | 'customerSuccess';

interface GroupPlan {
  head: string;
  lead?: string;
  members: Array<{ title: string; weight: number }>;
}

const GROUPS: Record<Group, GroupPlan> = {
  engineering: {
    head: 'VP Engineering',
    lead: 'Engineering Manager',
    members: [
      { title: 'Software Engineer', weight: 5 },
      { title: 'Senior Software Engineer', weight: 3 },
      { title: 'Data Analyst', weight: 1 },
      { title: 'Intern', weight: 1 },
    ],
  },
  sales: {
    head: 'VP Sales',
    lead: 'Sales Manager',
    members: [
      { title: 'Account Executive', weight: 3 },
      { title: 'Sales Development Representative', weight: 2 },
    ],
  },
  people: { head: 'Head of People', members: [{ title: 'People Partner', weight: 1 }] },
  finance: { head: 'Finance Director', members: [{ title: 'Accountant', weight: 1 }] },
  marketing: { head: 'Marketing Director', members: [{ title: 'Marketing Specialist', weight: 1 }] },
  customerSuccess: { head: 'Customer Success Director', members: [{ title: 'Customer Success Manager', weight: 1 }] },
};

const GROUP_ORDER: Group[] = ['engineering', 'sales', 'people', 'finance', 'customerSuccess', 'marketing'];
const GROUP_WEIGHTS: Array<[Group, number]> = [
  ['engineering', 10],
  ['sales', 7],
  ['customerSuccess', 4],
  ['marketing', 2],
  ['finance', 2],
  ['people', 2],
];

const SITE_WEIGHTS: Array<[string, number]> = [
  ['London', 35],
  ['New York', 20],
  ['Paris', 15],
  ['Tel Aviv', 15],
  ['Sydney', 15],
];

/** `Zoë Müller` → `zoe.muller`; letters without a decomposition are mapped by hand. */
export function asciiFold(text: string): string {
  const special: Record<string, string> = {
    ł: 'l',
    Ł: 'L',
    ø: 'o',
    Ø: 'O',
    ß: 'ss',
    ð: 'd',
    Ð: 'D',
    þ: 'th',
    æ: 'ae',
    å: 'a',
  };
  return text
    .replace(/[łŁøØßðÐþæå]/g, (c) => special[c] ?? c)
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '');
}

function departmentFor(group: Group, site: string, rand: () => number): string {
  switch (group) {
    case 'engineering': {
      const r = rand();
      return r < 0.45
        ? DEPARTMENTS.platform
        : r < 0.75
          ? DEPARTMENTS.mobile
          : r < 0.9
            ? DEPARTMENTS.data
            : DEPARTMENTS.engineering;
    }
    case 'sales':
      return site === 'New York'
        ? DEPARTMENTS.americasSales
        : site === 'Sydney'
          ? DEPARTMENTS.apacSales
          : DEPARTMENTS.emeaSales;
    case 'finance':
      return rand() < 0.5 ? DEPARTMENTS.accountReceivables : DEPARTMENTS.finance;
    default:
      return DEPARTMENTS[group];
  }
}

function groupRoot(group: Group): string {
  return DEPARTMENTS[group];
}

export function generateDemoEmployees(options: DemoOptions): HibobEmployeeRecord[] {
  const { count, seed } = options;
  if (!Number.isInteger(count) || count < 0) throw new Error('count must be a non-negative integer');
  const today = options.today ?? new Date().toISOString().slice(0, 10);
  if (!isIsoDate(today)) throw new Error('today must be YYYY-MM-DD');
  const domain = options.domain ?? 'northwind.example';
  const rand = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const weighted = <T>(items: Array<[T, number]>): T => {
    let r = rand() * items.reduce((s, [, w]) => s + w, 0);
    for (const [v, w] of items) if ((r -= w) < 0) return v;
    return items[items.length - 1]![0];
  };
  const ids = new BackendIdSequence(
    mulberry32(seed ^ 0x5eed),
    3332883800000000000n + BigInt((seed >>> 0) % 100_000) * 1_000_000_000n,
  );
  const usedEmails = new Map<string, number>();
  const emailFor = (first: string, last: string) => {
    const local = `${asciiFold(first)}.${asciiFold(last)}`.toLowerCase().replace(/[^a-z0-9.]+/g, '');
    const n = (usedEmails.get(local) ?? 0) + 1;
    usedEmails.set(local, n);
    return `${n === 1 ? local : `${local}${n}`}@${domain}`;
  };
  const stamp = (date: string) =>
    formatMicros(Date.parse(`${date}T00:00:00Z`) * 1000 + int(8 * 3600, 18 * 3600) * 1_000_000 + int(0, 999_999));

  const people: HibobEmployeeRecord[] = [];
  const headOf = new Map<Group, HibobEmployeeRecord>();
  const leadsOf = new Map<Group, HibobEmployeeRecord[]>();

  const make = (
    i: number,
    role: {
      group: Group | null;
      titleName: string;
      manager: HibobEmployeeRecord | null;
      site: string;
      startDaysAgo: number;
    },
  ) => {
    const [first, last] = i < ANCHORS.length ? ANCHORS[i]! : [pick(FIRST_NAMES), pick(SURNAMES)];
    const site = SITE[role.site]!;
    const startDate = addDays(today, -role.startDaysAgo);
    const department = role.group
      ? role.titleName === GROUPS[role.group].head
        ? groupRoot(role.group)
        : departmentFor(role.group, role.site, rand)
      : DEPARTMENTS.management;
    const partTime = rand() < 0.1;
    const groups = ['77001'];
    if (site.name === 'London') groups.push('77011');
    if (site.name === 'Paris') groups.push('77012');
    const rec: HibobEmployeeRecord = {
      id: ids.next(),
      email: emailFor(first, last),
      firstName: first,
      surname: last,
      displayName: null,
      employeeIdInCompany: 1001 + i,
      creationDateTime: stamp(addDays(startDate, -int(7, 45))),
      avatarUrl: null,
      about: null,
      contract: partTime ? '3102' : '3101',
      weeklyHours: partTime ? 24 : 40,
      title: title(role.titleName),
      department,
      siteId: site.id,
      reportsTo: role.manager?.id ?? null,
      startDate,
      status: 'Active',
      lifecycleStatus: 'employed',
      terminationDate: null,
      terminationReason: null,
      lastDayOfWork: null,
      employmentType:
        role.titleName === 'Intern' ? '4507004' : rand() < 0.06 ? '4507003' : rand() < 0.06 ? '4507002' : '4507001',
      country: site.country,
      city: site.name,
      shortBirthDate: `${String(int(1, 12)).padStart(2, '0')}-${String(int(1, 28)).padStart(2, '0')}`,
      leave: null,
      lifecycle: [],
      custom: {
        [CUSTOM_FIELD_IDS.lmsGroups]: groups,
        [CUSTOM_FIELD_IDS.costCentre]: `CC-${department.slice(-3)}`,
        [CUSTOM_FIELD_IDS.preferredLanguage]:
          site.name === 'Paris' ? '88002' : site.name === 'Tel Aviv' ? '88005' : '88001',
      },
    };
    people.push(rec);
    return rec;
  };

  // The CEO, then one head per group, then team leads, then everyone else.
  let i = 0;
  if (count > 0)
    make(i++, {
      group: null,
      titleName: 'Chief Executive Officer',
      manager: null,
      site: 'London',
      startDaysAgo: int(8 * 365, 12 * 365),
    });
  const ceo = people[0];
  for (const group of GROUP_ORDER) {
    if (i >= count) break;
    const head = make(i++, {
      group,
      titleName: GROUPS[group].head,
      manager: ceo!,
      site: weighted(SITE_WEIGHTS),
      startDaysAgo: int(3 * 365, 9 * 365),
    });
    headOf.set(group, head);
  }
  if (count >= 20) {
    for (const group of ['engineering', 'engineering', 'sales', 'sales'] as Group[]) {
      if (i >= count) break;
      const lead = make(i++, {
        group,
        titleName: GROUPS[group].lead!,
        manager: headOf.get(group)!,
        site: weighted(SITE_WEIGHTS),
        startDaysAgo: int(2 * 365, 7 * 365),
      });
      leadsOf.set(group, [...(leadsOf.get(group) ?? []), lead]);
      lead.custom[CUSTOM_FIELD_IDS.lmsGroups] = [...(lead.custom[CUSTOM_FIELD_IDS.lmsGroups] as string[]), '77002'];
    }
  }
  const firstRegular = i;
  while (i < count) {
    const group = weighted(GROUP_WEIGHTS.filter(([g]) => headOf.has(g)));
    const manager = pick(leadsOf.get(group) ?? [headOf.get(group) ?? ceo!]);
    const titleName = weighted(GROUPS[group].members.map((m) => [m.title, m.weight] as [string, number]));
    make(i++, { group, titleName, manager, site: weighted(SITE_WEIGHTS), startDaysAgo: int(30, 8 * 365) });
  }
  for (const head of headOf.values())
    head.custom[CUSTOM_FIELD_IDS.lmsGroups] = [...(head.custom[CUSTOM_FIELD_IDS.lmsGroups] as string[]), '77002'];

  // Special cases come from regular staff only, so no manager ever leaves.
  const eligible = people.slice(firstRegular);
  for (let k = eligible.length - 1; k > 0; k--) {
    const j = Math.floor(rand() * (k + 1));
    [eligible[k], eligible[j]] = [eligible[j]!, eligible[k]!];
  }
  const take = (n: number) => eligible.splice(0, Math.min(n, eligible.length));
  const share = (fraction: number) => Math.max(1, Math.round(count * fraction));

  for (const p of take(share(0.08))) {
    p.startDate = addDays(today, int(7, 60));
    p.creationDateTime = stamp(addDays(today, -int(5, 30)));
    p.status = 'Inactive';
    p.lifecycleStatus = 'hired';
    p.custom[CUSTOM_FIELD_IDS.lmsGroups] = ['77001', '77003'];
  }
  const reasons = ['589001', '589002', '589003', '589004'];
  take(share(0.1)).forEach((p, n) => {
    const earliest = Math.min(
      400,
      Math.max(6, Math.round((Date.parse(today) - Date.parse(p.startDate!)) / 86_400_000) - 1),
    );
    p.terminationDate = addDays(today, -int(5, earliest));
    p.lastDayOfWork = p.terminationDate;
    p.terminationReason = pick(reasons);
    p.status = 'Inactive';
    p.lifecycleStatus = 'terminated';
    if (n === 0) {
      // A leaver still pointing at archived list items.
      p.siteId = SITE.Berlin!.id;
      p.city = 'Berlin';
      p.country = '276';
      p.title = title('Office Manager');
      p.department = DEPARTMENTS.legacyOperations;
      p.terminationReason = '589005';
    }
  });
  for (const p of take(share(0.04))) {
    p.terminationDate = addDays(today, -int(3, 20));
    p.lastDayOfWork = addDays(today, int(10, 60));
    p.terminationReason = '589001';
    p.lifecycleStatus = 'garden leave';
  }
  if (count >= 20) {
    for (const p of take(share(0.03))) {
      p.leave = {
        type: 'parental leave',
        startDate: addDays(today, -int(10, 60)),
        endDate: addDays(today, int(30, 120)),
        inactive: false,
      };
      p.lifecycleStatus = 'parental leave';
    }
  }
  for (const p of take(share(0.04))) p.email = null;
  // Two people sharing one address: a data-entry mistake the sync must survive.
  const pair = take(2);
  if (pair.length === 2) pair[1]!.email = pair[0]!.email;
  // A few empty list values, to exercise null handling.
  for (const p of take(share(0.03))) {
    p.title = null;
    p.custom[CUSTOM_FIELD_IDS.costCentre] = null;
  }

  let rowId = 1;
  for (const p of people) {
    const reason = p.terminationReason
      ? (DEFAULT_NAMED_LISTS.find((l) => l.name === 'terminationreason')!.items.find(
          (it) => it.id === p.terminationReason,
        )?.name ?? null)
      : null;
    p.lifecycle = deriveLifecycleRows(p, reason).map((r) => ({ id: rowId++, ...r }));
  }
  return people;
}
