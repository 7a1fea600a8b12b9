/**
 * The field catalogue: metadata served by GET /company/people/fields plus, for each field,
 * how its machine value is read from a stored record and which record property an edit writes.
 */
import { isIsoDate, periodBetween } from './dates';
import type { ListIndex } from './lists';
import {
  HibobAdminError,
  type CustomFieldConfig,
  type FieldMetadata,
  type FieldType,
  type HibobEmployeeRecord,
} from './types';

export interface ReadEnv {
  companyId: number;
  /** Company-local date, used for durations such as tenure. */
  today: string;
  lists: ListIndex;
  lookup(id: string): HibobEmployeeRecord | undefined;
  directReports(id: string): number;
}

export type WritableKey =
  | 'email'
  | 'firstName'
  | 'surname'
  | 'displayName'
  | 'avatarUrl'
  | 'about'
  | 'contract'
  | 'weeklyHours'
  | 'employeeIdInCompany'
  | 'title'
  | 'department'
  | 'siteId'
  | 'reportsTo'
  | 'startDate'
  | 'terminationDate'
  | 'terminationReason'
  | 'lastDayOfWork'
  | 'employmentType'
  | 'country'
  | 'city'
  | 'shortBirthDate';

export interface FieldDef {
  meta: FieldMetadata;
  /** Machine value; null when empty. */
  read(rec: HibobEmployeeRecord, env: ReadEnv): unknown;
  /** Record property an edit writes; absent for calculated fields. */
  recordKey?: WritableKey;
  /** Custom field: value lives in `record.custom[customId]`. */
  customId?: string;
  /** humanReadable repeats the machine value (root.id would otherwise render as a name). */
  displaySelf?: boolean;
}

/** Categories Bob fills when `fields` is omitted. */
export const DEFAULT_FIELD_CATEGORIES = ['root', 'about', 'employment', 'work'];

const CATEGORY_NAMES: Record<string, string> = {
  root: 'Basic info',
  about: 'About',
  employment: 'Employment',
  work: 'Work',
  internal: 'Internal',
  employee: 'Employee',
  payroll: 'Payroll',
  address: 'Address',
  personal: 'Personal',
};

/** Custom fields the emulator starts with; ids are opaque on purpose. */
export const DEFAULT_CUSTOM_FIELDS: CustomFieldConfig[] = [
  {
    id: 'custom.field_1701776318762',
    jsonPath: 'custom.category_1701776301234.field_1701776318762',
    name: 'LMS groups',
    categoryId: 'category_1701776301234',
    categoryDisplayName: 'Learning',
    type: 'multi-list',
    listId: 'lmsGroups',
  },
  {
    id: 'custom.field_1701776342011',
    jsonPath: 'custom.category_1701776301234.field_1701776342011',
    name: 'Cost centre',
    categoryId: 'category_1701776301234',
    categoryDisplayName: 'Learning',
    type: 'text',
  },
  {
    id: 'custom.field_1701776371777',
    jsonPath: 'custom.category_1701776301234.field_1701776371777',
    name: 'Preferred language',
    categoryId: 'category_1701776301234',
    categoryDisplayName: 'Learning',
    type: 'list',
    listId: 'preferredLanguage',
  },
];

/** Handy names for the default custom field ids. */
export const CUSTOM_FIELD_IDS = {
  lmsGroups: 'custom.field_1701776318762',
  costCentre: 'custom.field_1701776342011',
  preferredLanguage: 'custom.field_1701776371777',
} as const;

interface BuiltIn {
  id: string;
  name: string;
  type: FieldType;
  read: FieldDef['read'];
  key?: WritableKey;
  listId?: string;
  historical?: boolean;
  displaySelf?: boolean;
}

function builtIn(b: BuiltIn): FieldDef {
  const category = b.id.split('.')[0]!;
  // root fields sit at the top level of the nested shape.
  const jsonPath = category === 'root' ? b.id.slice('root.'.length) : b.id;
  return {
    meta: {
      id: b.id,
      category,
      categoryId: category,
      categoryDisplayName: CATEGORY_NAMES[category] ?? category,
      name: b.name,
      description: '',
      jsonPath,
      type: b.type,
      typeData: b.listId ? { listId: b.listId } : {},
      historical: b.historical ?? false,
    },
    read: b.read,
    recordKey: b.key,
    displaySelf: b.displaySelf,
  };
}

function fullName(r: HibobEmployeeRecord): string {
  return `${r.firstName} ${r.surname}`.trim();
}

export function displayNameOf(r: HibobEmployeeRecord): string {
  return r.displayName ?? fullName(r);
}

const BUILT_IN_FIELDS: FieldDef[] = [
  builtIn({ id: 'root.id', name: 'ID', type: 'employee-reference', read: (r) => r.id, displaySelf: true }),
  builtIn({ id: 'root.email', name: 'Email', type: 'text', read: (r) => r.email, key: 'email' }),
  builtIn({ id: 'root.firstName', name: 'First name', type: 'text', read: (r) => r.firstName, key: 'firstName' }),
  builtIn({ id: 'root.surname', name: 'Last name', type: 'text', read: (r) => r.surname, key: 'surname' }),
  builtIn({ id: 'root.displayName', name: 'Display name', type: 'text', read: displayNameOf, key: 'displayName' }),
  builtIn({ id: 'root.fullName', name: 'Full name', type: 'text', read: fullName }),
  builtIn({ id: 'root.companyId', name: 'Company ID', type: 'number', read: (_r, env) => env.companyId }),
  builtIn({ id: 'root.creationDateTime', name: 'Creation date', type: 'time', read: (r) => r.creationDateTime }),
  builtIn({ id: 'about.avatar', name: 'Avatar', type: 'text', read: (r) => r.avatarUrl, key: 'avatarUrl' }),
  builtIn({ id: 'about.about', name: 'About', type: 'text', read: (r) => r.about, key: 'about' }),
  builtIn({
    id: 'employment.contract',
    name: 'Contract',
    type: 'list',
    listId: 'contract',
    historical: true,
    read: (r) => r.contract,
    key: 'contract',
  }),
  builtIn({
    id: 'employment.weeklyHours',
    name: 'Weekly hours',
    type: 'number',
    historical: true,
    read: (r) => r.weeklyHours,
    key: 'weeklyHours',
  }),
  builtIn({
    id: 'work.employeeIdInCompany',
    name: 'Employee ID',
    type: 'number',
    read: (r) => r.employeeIdInCompany,
    key: 'employeeIdInCompany',
  }),
  builtIn({
    id: 'work.title',
    name: 'Job title',
    type: 'list',
    listId: 'title',
    historical: true,
    read: (r) => r.title,
    key: 'title',
  }),
  builtIn({
    id: 'work.department',
    name: 'Department',
    type: 'list',
    listId: 'department',
    historical: true,
    read: (r) => r.department,
    key: 'department',
  }),
  builtIn({
    id: 'work.site',
    name: 'Site',
    type: 'text',
    read: (r, env) => (r.siteId === null ? null : (env.lists.label('site', String(r.siteId)) ?? null)),
  }),
  builtIn({
    id: 'work.siteId',
    name: 'Site ID',
    type: 'list_id',
    listId: 'site',
    historical: true,
    read: (r) => r.siteId,
    key: 'siteId',
  }),
  builtIn({
    id: 'work.reportsTo',
    name: 'Reports to',
    type: 'employee',
    historical: true,
    key: 'reportsTo',
    read: (r, env) => {
      const m = r.reportsTo ? env.lookup(r.reportsTo) : undefined;
      return m
        ? { id: m.id, firstName: m.firstName, surname: m.surname, displayName: displayNameOf(m), email: m.email }
        : null;
    },
  }),
  builtIn({
    id: 'work.manager',
    name: 'Manager',
    type: 'employee-reference',
    historical: true,
    key: 'reportsTo',
    read: (r, env) => (r.reportsTo && env.lookup(r.reportsTo) ? r.reportsTo : null),
  }),
  builtIn({ id: 'work.startDate', name: 'Start date', type: 'date', read: (r) => r.startDate, key: 'startDate' }),
  builtIn({ id: 'work.isManager', name: 'Is manager', type: 'boolean', read: (r, env) => env.directReports(r.id) > 0 }),
  builtIn({
    id: 'work.directReports',
    name: 'Direct reports',
    type: 'number',
    read: (r, env) => env.directReports(r.id),
  }),
  builtIn({
    id: 'work.tenureDuration',
    name: 'Tenure',
    type: 'period',
    read: (r, env) => (r.startDate ? periodBetween(r.startDate, env.today) : null),
  }),
  builtIn({
    id: 'internal.status',
    name: 'Status',
    type: 'list',
    listId: 'status',
    historical: true,
    read: (r) => r.status,
  }),
  builtIn({
    id: 'internal.lifecycleStatus',
    name: 'Lifecycle status',
    type: 'list',
    listId: 'lifecycleStatus',
    historical: true,
    read: (r) => r.lifecycleStatus,
  }),
  builtIn({
    id: 'internal.terminationDate',
    name: 'Termination date',
    type: 'date',
    read: (r) => r.terminationDate,
    key: 'terminationDate',
  }),
  builtIn({
    id: 'internal.terminationReason',
    name: 'Termination reason',
    type: 'list',
    listId: 'terminationreason',
    read: (r) => r.terminationReason,
    key: 'terminationReason',
  }),
  builtIn({
    id: 'employee.lastDayOfWork',
    name: 'Last day of work',
    type: 'date',
    read: (r) => r.lastDayOfWork,
    key: 'lastDayOfWork',
  }),
  builtIn({
    id: 'payroll.employment.type',
    name: 'Employment type',
    type: 'list',
    listId: 'employmentType',
    historical: true,
    read: (r) => r.employmentType,
    key: 'employmentType',
  }),
  builtIn({
    id: 'address.country',
    name: 'Country',
    type: 'list',
    listId: 'countries',
    historical: true,
    read: (r) => r.country,
    key: 'country',
  }),
  builtIn({ id: 'address.city', name: 'City', type: 'text', read: (r) => r.city, key: 'city' }),
  builtIn({
    id: 'personal.shortBirthDate',
    name: 'Birthday',
    type: 'short-date',
    read: (r) => r.shortBirthDate,
    key: 'shortBirthDate',
  }),
];

function customDef(c: CustomFieldConfig): FieldDef {
  return {
    meta: {
      id: c.id,
      category: c.categoryId,
      categoryId: c.categoryId,
      categoryDisplayName: c.categoryDisplayName,
      name: c.name,
      description: '',
      jsonPath: c.jsonPath ?? c.id,
      type: c.type,
      typeData: c.listId ? { listId: c.listId } : {},
      historical: c.historical ?? false,
    },
    read: (r) => r.custom[c.id] ?? null,
    customId: c.id,
  };
}

export class FieldCatalog {
  readonly all: FieldDef[];
  /** The set returned when a request omits `fields`. */
  readonly defaults: FieldDef[];
  private readonly byId = new Map<string, FieldDef>();
  private readonly byRecordKey = new Map<WritableKey, FieldDef>();

  constructor(customFields: CustomFieldConfig[] = DEFAULT_CUSTOM_FIELDS) {
    this.all = [...BUILT_IN_FIELDS, ...customFields.map(customDef)];
    for (const def of this.all) {
      if (this.byId.has(def.meta.id)) throw new Error(`duplicate field id ${def.meta.id}`);
      this.byId.set(def.meta.id, def);
      if (def.recordKey && !this.byRecordKey.has(def.recordKey)) this.byRecordKey.set(def.recordKey, def);
    }
    this.defaults = BUILT_IN_FIELDS.filter((d) => DEFAULT_FIELD_CATEGORIES.includes(d.meta.categoryId));
  }

  get(id: string): FieldDef | undefined {
    return this.byId.get(id);
  }

  forRecordKey(key: string): FieldDef | undefined {
    return this.byRecordKey.get(key as WritableKey);
  }

  metadata(): FieldMetadata[] {
    return this.all.map((d) => structuredClone(d.meta));
  }
}

/** Slash key of a field: `root.id` → `/root/id`. */
export function slashKey(fieldId: string): string {
  return `/${fieldId.split('.').join('/')}`;
}

const SHORT_DATE = /^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

function bad(def: FieldDef, why: string): never {
  throw new HibobAdminError(400, 'invalid_field_value', `${def.meta.id}: ${why}`);
}

/**
 * Turns an edit value into the machine value stored for `def`: list labels become item ids,
 * site names become site ids, `{id}` objects become ids. Throws a 400 error when it cannot.
 */
export function coerceFieldValue(def: FieldDef, value: unknown, lists: ListIndex): unknown {
  if (value === null || value === undefined || value === '') return def.meta.type === 'multi-list' ? [] : null;
  const listId = def.meta.typeData.listId;
  switch (def.meta.type) {
    case 'text':
      if (typeof value !== 'string') bad(def, 'expected a string');
      return value;
    case 'number':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
      return bad(def, 'expected a number');
    case 'boolean':
      if (typeof value !== 'boolean') bad(def, 'expected a boolean');
      return value;
    case 'date':
      if (!isIsoDate(value)) bad(def, 'expected YYYY-MM-DD');
      return value;
    case 'short-date':
      if (typeof value !== 'string' || !SHORT_DATE.test(value)) bad(def, 'expected MM-DD');
      return value;
    case 'time':
      if (typeof value !== 'string') bad(def, 'expected a time string');
      return value;
    case 'employee':
    case 'employee-reference': {
      const id = typeof value === 'object' && value !== null && 'id' in value ? value.id : value;
      if (typeof id !== 'string' || !/^\d+$/.test(id)) bad(def, 'expected a backend id string');
      return id;
    }
    case 'list': {
      const resolved = typeof value === 'string' && listId ? lists.resolve(listId, value) : undefined;
      if (!resolved) bad(def, `unknown item ${JSON.stringify(value)} of list ${listId}`);
      return resolved;
    }
    case 'multi-list': {
      const values = Array.isArray(value) ? value : [value];
      return values.map((v) => {
        const resolved = typeof v === 'string' && listId ? lists.resolve(listId, v) : undefined;
        if (!resolved) bad(def, `unknown item ${JSON.stringify(v)} of list ${listId}`);
        return resolved;
      });
    }
    case 'list_id': {
      const text = typeof value === 'number' ? String(value) : value;
      const resolved = typeof text === 'string' && listId ? lists.resolve(listId, text) : undefined;
      if (!resolved) bad(def, `unknown item ${JSON.stringify(value)} of list ${listId}`);
      return Number(resolved);
    }
    default:
      return bad(def, 'field is calculated and cannot be edited');
  }
}
