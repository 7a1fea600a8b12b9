/** Company named lists and sites the emulator starts with, and lookups over nested list items. */
import type { NamedList, NamedListItem, SiteConfig } from './types';

function item(id: string, name: string, children: NamedListItem[] = [], archived = false): NamedListItem {
  return { id, value: name, name, archived, children };
}

export const DEFAULT_SITES: SiteConfig[] = [
  { id: 2154020, name: 'London', timeZone: 'Europe/London', country: '826' },
  { id: 2154021, name: 'Paris', timeZone: 'Europe/Paris', country: '250' },
  { id: 2154022, name: 'New York', timeZone: 'America/New_York', country: '840' },
  { id: 2154023, name: 'Tel Aviv', timeZone: 'Asia/Jerusalem', country: '376' },
  { id: 2154024, name: 'Sydney', timeZone: 'Australia/Sydney', country: '036' },
  { id: 2154019, name: 'Berlin', timeZone: 'Europe/Berlin', country: '276', archived: true },
];

/** Department ids used by the demo data, by label. */
export const DEPARTMENTS = {
  management: '209192101',
  engineering: '209192110',
  platform: '209192111',
  mobile: '209192112',
  data: '209192113',
  sales: '209192120',
  emeaSales: '209192121',
  americasSales: '209192122',
  apacSales: '209192123',
  customerSuccess: '209192130',
  finance: '209192140',
  accountReceivables: '209192141',
  people: '209192150',
  marketing: '209192160',
  legacyOperations: '209192170',
} as const;

export const DEFAULT_NAMED_LISTS: NamedList[] = [
  {
    name: 'department',
    items: [
      item(DEPARTMENTS.management, 'Management'),
      item(DEPARTMENTS.engineering, 'Engineering', [
        item(DEPARTMENTS.platform, 'Platform'),
        item(DEPARTMENTS.mobile, 'Mobile'),
        item(DEPARTMENTS.data, 'Data'),
      ]),
      item(DEPARTMENTS.sales, 'Sales', [
        item(DEPARTMENTS.emeaSales, 'EMEA Sales'),
        item(DEPARTMENTS.americasSales, 'Americas Sales'),
        item(DEPARTMENTS.apacSales, 'APAC Sales'),
      ]),
      item(DEPARTMENTS.customerSuccess, 'Customer Success'),
      item(DEPARTMENTS.finance, 'Finance', [item(DEPARTMENTS.accountReceivables, 'Account Receivables')]),
      item(DEPARTMENTS.people, 'People'),
      item(DEPARTMENTS.marketing, 'Marketing'),
      item(DEPARTMENTS.legacyOperations, 'Legacy Operations', [], true),
    ],
  },
  {
    name: 'title',
    items: [
      ['314420001', 'Chief Executive Officer'],
      ['314420002', 'VP Engineering'],
      ['314420003', 'VP Sales'],
      ['314420004', 'Head of People'],
      ['314420005', 'Finance Director'],
      ['314420006', 'Marketing Director'],
      ['314420007', 'Customer Success Director'],
      ['314420008', 'Engineering Manager'],
      ['314420009', 'Senior Software Engineer'],
      ['314420010', 'Software Engineer'],
      ['314420011', 'Data Analyst'],
      ['314420012', 'Account Executive'],
      ['314420013', 'Sales Development Representative'],
      ['314420014', 'Customer Success Manager'],
      ['314420015', 'Accountant'],
      ['314420016', 'People Partner'],
      ['314420017', 'Marketing Specialist'],
      ['314420018', 'Intern'],
      ['314420019', 'Sales Manager'],
    ]
      .map(([id, name]) => item(id!, name!))
      .concat([item('314420099', 'Office Manager', [], true)]),
  },
  {
    name: 'site',
    items: DEFAULT_SITES.map((s) => item(String(s.id), s.name, [], s.archived ?? false)),
  },
  { name: 'status', items: [item('Active', 'Active'), item('Inactive', 'Inactive')] },
  {
    name: 'lifecycleStatus',
    items: [
      item('hired', 'Hired'),
      item('employed', 'Employed'),
      item('garden leave', 'Garden leave'),
      item('leave', 'Leave'),
      item('parental leave', 'Parental leave'),
      item('sabbatical', 'Sabbatical'),
      item('terminated', 'Terminated'),
    ],
  },
  {
    name: 'terminationreason',
    items: [
      item('589001', 'Resignation'),
      item('589002', 'Dismissal'),
      item('589003', 'End of contract'),
      item('589004', 'Redundancy'),
      item('589005', 'Retirement', [], true),
    ],
  },
  {
    name: 'countries',
    items: [
      item('826', 'United Kingdom'),
      item('250', 'France'),
      item('840', 'United States'),
      item('376', 'Israel'),
      item('036', 'Australia'),
      item('276', 'Germany'),
      item('724', 'Spain'),
      item('352', 'Iceland'),
      item('616', 'Poland'),
    ],
  },
  {
    name: 'employmentType',
    items: [
      item('4507001', 'Permanent'),
      item('4507002', 'Fixed term'),
      item('4507003', 'Contractor'),
      item('4507004', 'Intern'),
    ],
  },
  { name: 'contract', items: [item('3101', 'Full time'), item('3102', 'Part time')] },
  {
    name: 'lmsGroups',
    items: [
      item('77001', 'All staff'),
      item('77002', 'People managers'),
      item('77003', 'New starters'),
      item('77010', 'Compliance', [item('77011', 'Compliance UK'), item('77012', 'Compliance EU')]),
      item('77099', 'Pilot 2023', [], true),
    ],
  },
  {
    name: 'preferredLanguage',
    items: [
      item('88001', 'English'),
      item('88002', 'Français'),
      item('88003', 'Deutsch'),
      item('88004', 'Español'),
      item('88005', 'עברית'),
    ],
  },
];

/** Resolves list item ids and labels across nested children, archived items included. */
export class ListIndex {
  private readonly lists = new Map<string, NamedList>();
  private readonly byId = new Map<string, Map<string, NamedListItem>>();

  constructor(lists: NamedList[]) {
    for (const list of lists) {
      this.lists.set(list.name, list);
      const ids = new Map<string, NamedListItem>();
      const walk = (items: NamedListItem[]) => {
        for (const it of items) {
          ids.set(it.id, it);
          walk(it.children);
        }
      };
      walk(list.items);
      this.byId.set(list.name, ids);
    }
  }

  /** Exact, case-sensitive list name, as Bob does. */
  list(name: string): NamedList | undefined {
    return this.lists.get(name);
  }

  names(): string[] {
    return [...this.lists.keys()];
  }

  item(listName: string, id: string): NamedListItem | undefined {
    return this.byId.get(listName)?.get(id);
  }

  label(listName: string, id: string): string | undefined {
    return this.item(listName, id)?.name;
  }

  /** Accepts an item id or its label (labels matched case-insensitively); undefined when neither. */
  resolve(listName: string, idOrLabel: string): string | undefined {
    const ids = this.byId.get(listName);
    if (!ids) return undefined;
    if (ids.has(idOrLabel)) return idOrLabel;
    const wanted = idOrLabel.toLowerCase();
    for (const it of ids.values()) if (it.name.toLowerCase() === wanted) return it.id;
    return undefined;
  }
}

/** Drops archived items at every depth (for `includeArchived=false`). */
export function withoutArchived(items: NamedListItem[]): NamedListItem[] {
  return items.filter((i) => !i.archived).map((i) => ({ ...i, children: withoutArchived(i.children) }));
}
