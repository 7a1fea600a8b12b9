/** Shapes shared by the HiBob emulator modules (see contracts/hibob.md). */

export type EmployeeStatus = 'Active' | 'Inactive';

/** One row of GET /people/{id}/lifecycle. `status` is the machine (lower-case) lifecycle value. */
export interface LifecycleRow {
  id: number;
  effectiveDate: string;
  status: string;
  reason: string | null;
  reasonType: string | null;
}

/** A temporary leave, entered ahead of time; the lifecycle clock applies it on its dates. */
export interface LeaveRecord {
  /** Lifecycle machine value while on leave, e.g. "parental leave". */
  type: string;
  startDate: string;
  /** Last day of the leave; null = open-ended. */
  endDate: string | null;
  /** Whether the company setting makes this leave type Inactive. */
  inactive: boolean;
}

/**
 * One employee as the emulator stores it and as `seed()` accepts it.
 * List-backed properties hold list item ids (strings); `siteId` is the numeric site id.
 */
export interface HibobEmployeeRecord {
  /** 19-digit backend id, always a string. */
  id: string;
  email: string | null;
  firstName: string;
  surname: string;
  /** null = derived from first name and surname. */
  displayName: string | null;
  employeeIdInCompany: number | null;
  /** `YYYY-MM-DDTHH:mm:ss.SSSSSS`, no zone. */
  creationDateTime: string;
  avatarUrl: string | null;
  about: string | null;
  /** `employment.contract` list item id. */
  contract: string | null;
  weeklyHours: number | null;
  title: string | null;
  department: string | null;
  siteId: number | null;
  /** Manager's backend id. */
  reportsTo: string | null;
  startDate: string | null;
  status: EmployeeStatus;
  /** Machine lifecycle value: hired, employed, garden leave, leave, parental leave, terminated… */
  lifecycleStatus: string;
  terminationDate: string | null;
  terminationReason: string | null;
  lastDayOfWork: string | null;
  /** `payroll.employment.type` list item id. */
  employmentType: string | null;
  /** `address.country` list item id. */
  country: string | null;
  city: string | null;
  /** `MM-DD`. */
  shortBirthDate: string | null;
  leave: LeaveRecord | null;
  lifecycle: LifecycleRow[];
  /** Custom field values keyed by custom field id. */
  custom: Record<string, unknown>;
}

/** What `seed()` needs at least; everything else gets a default. */
export type HibobEmployeeSeed = Pick<HibobEmployeeRecord, 'id' | 'firstName' | 'surname'> &
  Partial<HibobEmployeeRecord>;

export type DateFormat = 'DD/MM/YYYY' | 'MM/DD/YYYY' | 'YYYY-MM-DD' | 'DD.MM.YYYY';

export interface ServiceUserConfig {
  id: string;
  token: string;
  /** Permitted field categories (metadata `categoryId`); omitted or containing "*" = all. */
  categories?: string[];
  /** Population scope by lifecycle status (case-insensitive); omitted = everyone. */
  lifecycleStatuses?: string[];
  /** Reports feature: false = none, a list = only those report ids; omitted = all reports. */
  reports?: boolean | number[];
  /** Display format of dates in humanReadable values. */
  dateFormat?: DateFormat;
}

export interface SiteConfig {
  id: number;
  name: string;
  timeZone: string;
  /** `countries` list item id. */
  country: string | null;
  archived?: boolean;
}

export interface NamedListItem {
  id: string;
  value: string;
  name: string;
  archived: boolean;
  children: NamedListItem[];
}

export interface NamedList {
  name: string;
  items: NamedListItem[];
}

export type FieldType =
  | 'text'
  | 'date'
  | 'short-date'
  | 'time'
  | 'number'
  | 'boolean'
  | 'employee-reference'
  | 'employee'
  | 'list'
  | 'multi-list'
  | 'list_id'
  | 'period';

/** One item of GET /company/people/fields. */
export interface FieldMetadata {
  id: string;
  category: string;
  categoryId: string;
  categoryDisplayName: string;
  name: string;
  description: string;
  jsonPath: string;
  type: FieldType;
  typeData: { listId?: string };
  historical: boolean;
}

export interface CustomFieldConfig {
  /** Opaque id, e.g. "custom.field_1701776318762". */
  id: string;
  name: string;
  categoryId: string;
  categoryDisplayName: string;
  type: Exclude<FieldType, 'employee' | 'period'>;
  listId?: string;
  /** Defaults to the id. */
  jsonPath?: string;
  historical?: boolean;
}

export interface ReportColumn {
  fieldId: string;
  /** Column display name; defaults to the field's metadata name. */
  name?: string;
  /** CSV cell carries the display value (list label, manager name) instead of the machine value. */
  humanReadable?: boolean;
}

export interface ReportDefinition {
  id: number;
  name: string;
  columns: ReportColumn[];
  /** Include Inactive employees (default true). */
  includeInactive?: boolean;
}

export const HIBOB_EVENT_TYPES = [
  'employee.created',
  'employee.updated',
  'employee.deleted',
  'employee.joined',
  'employee.left',
  'employee.inactivated',
  'employee.activated',
  'employee.temporaryLeave',
  'table.entry.created',
  'table.entry.updated',
] as const;
export type HibobEventType = (typeof HIBOB_EVENT_TYPES)[number];

/** One field that changed in an HR edit, with machine values before and after. */
export interface FieldChange {
  fieldId: string;
  oldValue: unknown;
  newValue: unknown;
}

/** An event as the directory raises it; the webhook sender turns it into a v2 envelope. */
export interface DirectoryEvent {
  type: HibobEventType;
  triggeredBy: string;
  data: Record<string, unknown>;
  /** For employee.updated: what changed (rendered as `fieldUpdates`). */
  changes?: FieldChange[];
}

/** Thrown by programmatic admin operations; the admin HTTP API maps it to a status. */
export class HibobAdminError extends Error {
  constructor(
    readonly status: number,
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = 'HibobAdminError';
  }
}
