/**
 * The HR side of the emulator: creates, edits, terminates, rehires and deletes employees,
 * runs the lifecycle clock, and raises the events Bob would send for each of those.
 * No HTTP here; the admin routes and the emulated Bob write endpoints both call into it.
 */
import type { EmulatorClock } from '../common/clock';
import { isIsoDate, localDate } from './dates';
import { coerceFieldValue, type FieldCatalog, type FieldDef, type ReadEnv, type WritableKey } from './fields';
import { BackendIdSequence, MicrosecondStamper, mulberry32 } from './ids';
import {
  applyTransition,
  deriveLifecycleRows,
  isLeaveStatus,
  nextTransition,
  terminationRows,
  transitionEvents,
  type LifecycleState,
} from './lifecycle';
import type { ListIndex } from './lists';
import { machineValue } from './render';
import type { EmployeeStore } from './store';
import {
  HibobAdminError,
  type DirectoryEvent,
  type FieldChange,
  type HibobEmployeeRecord,
  type HibobEmployeeSeed,
  type HibobEventType,
  type SiteConfig,
} from './types';

/** Editable employee properties. List-backed values accept an item id or its label. */
export interface EmployeeFields {
  email?: string | null;
  firstName?: string;
  surname?: string;
  displayName?: string | null;
  avatarUrl?: string | null;
  about?: string | null;
  contract?: string | null;
  weeklyHours?: number | null;
  employeeIdInCompany?: number | null;
  title?: string | null;
  department?: string | null;
  /** Site id, or the site name. */
  siteId?: number | string | null;
  /** Site name (alias of siteId). */
  site?: string | null;
  /** Manager's backend id. */
  reportsTo?: string | null;
  startDate?: string | null;
  terminationDate?: string | null;
  terminationReason?: string | null;
  lastDayOfWork?: string | null;
  employmentType?: string | null;
  country?: string | null;
  city?: string | null;
  shortBirthDate?: string | null;
  /** Custom field values by custom field id. */
  custom?: Record<string, unknown>;
  /** Any editable field by its Bob field id, e.g. `{"work.title": "Accountant"}`. */
  fields?: Record<string, unknown>;
}

export interface NewEmployee extends EmployeeFields {
  /** Defaults to a fresh 19-digit id. */
  id?: string;
  firstName: string;
  surname: string;
}

export interface TerminateInput {
  terminationDate: string;
  /** Later than terminationDate = garden leave until this day. Defaults to terminationDate. */
  lastDayOfWork?: string | null;
  /** terminationreason item id or label. */
  reason?: string | null;
}

export interface LeaveInput {
  /** Lifecycle leave status (id or label), e.g. "parental leave". */
  type: string;
  startDate: string;
  endDate?: string | null;
  inactive?: boolean;
}

export interface AppliedTransition {
  employeeId: string;
  effectiveDate: string;
  from: LifecycleState;
  to: LifecycleState;
  events: HibobEventType[];
}

export interface DirectoryOptions {
  clock: EmulatorClock;
  store: EmployeeStore;
  catalog: FieldCatalog;
  lists: ListIndex;
  sites: SiteConfig[];
  defaultTimeZone: string;
  companyId: number;
  /** Who HR edits are attributed to in `triggeredBy` unless the caller says otherwise. */
  hrAdminId: string;
  emit(event: DirectoryEvent): void;
  idSeed?: number;
}

const EDIT_KEYS: WritableKey[] = [
  'email',
  'firstName',
  'surname',
  'displayName',
  'avatarUrl',
  'about',
  'contract',
  'weeklyHours',
  'employeeIdInCompany',
  'title',
  'department',
  'siteId',
  'reportsTo',
  'startDate',
  'terminationDate',
  'terminationReason',
  'lastDayOfWork',
  'employmentType',
  'country',
  'city',
  'shortBirthDate',
];

/** Historical tables whose edits Bob reports as table.entry.created. */
const HISTORICAL_TABLES = new Set(['work', 'employment', 'payroll', 'address']);

function notFound(idOrEmail: string): HibobAdminError {
  return new HibobAdminError(404, 'not_found', `No employee ${idOrEmail}`);
}

function requireDate(value: unknown, name: string): string {
  if (!isIsoDate(value)) throw new HibobAdminError(400, 'invalid_date', `${name} must be YYYY-MM-DD`);
  return value;
}

export class HibobDirectory {
  private readonly ids: BackendIdSequence;
  private readonly stamper = new MicrosecondStamper();
  private readonly timeZones = new Map<number, string>();
  private nextRowId = 1;

  constructor(private readonly o: DirectoryOptions) {
    this.ids = new BackendIdSequence(mulberry32(o.idSeed ?? 7), 3332884500000000000n);
    for (const s of o.sites) this.timeZones.set(s.id, s.timeZone);
  }

  // ---- reads ---------------------------------------------------------------

  list(): HibobEmployeeRecord[] {
    return this.o.store.all().map((r) => structuredClone(r));
  }

  /** By backend id, else by email (case-insensitive, first match). */
  find(idOrEmail: string): HibobEmployeeRecord | undefined {
    const byId = this.o.store.get(idOrEmail);
    if (byId) return structuredClone(byId);
    const wanted = idOrEmail.toLowerCase();
    const byEmail = this.o.store.all().find((r) => r.email?.toLowerCase() === wanted);
    return byEmail ? structuredClone(byEmail) : undefined;
  }

  timeZoneOf(rec: Pick<HibobEmployeeRecord, 'siteId'>): string {
    return (rec.siteId !== null && this.timeZones.get(rec.siteId)) || this.o.defaultTimeZone;
  }

  /** The employee's current local date (midnight in their site's zone starts a new one). */
  localToday(rec: Pick<HibobEmployeeRecord, 'siteId'>): string {
    return localDate(this.o.clock.now(), this.timeZoneOf(rec));
  }

  /** Read context over what API callers see (`visible`) or the latest state. */
  readEnv(visible = true): ReadEnv {
    const records = visible ? this.o.store.visibleAll() : this.o.store.all();
    const reports = new Map<string, number>();
    for (const r of records) if (r.reportsTo) reports.set(r.reportsTo, (reports.get(r.reportsTo) ?? 0) + 1);
    return {
      companyId: this.o.companyId,
      today: localDate(this.o.clock.now(), this.o.defaultTimeZone),
      lists: this.o.lists,
      lookup: (id) => (visible ? this.o.store.visible(id) : this.o.store.get(id)),
      directReports: (id) => reports.get(id) ?? 0,
    };
  }

  // ---- seeding -------------------------------------------------------------

  /** Replaces every employee. Due lifecycle changes are applied silently: seeding is not an HR edit. */
  seed(seeds: HibobEmployeeSeed[]): number {
    this.o.store.clear();
    const records = seeds.map((s) => this.normaliseSeed(s));
    let nextEmployeeId = Math.max(0, ...records.map((r) => r.employeeIdInCompany ?? 0)) + 1;
    for (const rec of records) {
      if (this.o.store.has(rec.id)) throw new HibobAdminError(409, 'duplicate_id', `Duplicate employee id ${rec.id}`);
      if (rec.employeeIdInCompany === null) rec.employeeIdInCompany = nextEmployeeId++;
      const today = this.localToday(rec);
      for (let t = nextTransition(rec, today), i = 0; t && i < 8; t = nextTransition(rec, today), i++)
        applyTransition(rec, t);
      this.o.store.put(rec, { lagged: false });
    }
    return records.length;
  }

  private normaliseSeed(s: HibobEmployeeSeed): HibobEmployeeRecord {
    const rec = this.blankRecord(s);
    if (!s.lifecycle?.length)
      rec.lifecycle = this.numberRows(deriveLifecycleRows(rec, this.reasonLabel(rec.terminationReason)));
    else this.nextRowId = Math.max(this.nextRowId, ...s.lifecycle.map((r) => r.id + 1));
    return rec;
  }

  private blankRecord(s: HibobEmployeeSeed): HibobEmployeeRecord {
    if (typeof s.id !== 'string' || !/^\d{1,19}$/.test(s.id)) {
      throw new HibobAdminError(400, 'invalid_id', `Employee id must be a digit string, got ${JSON.stringify(s.id)}`);
    }
    return {
      email: null,
      displayName: null,
      employeeIdInCompany: null,
      creationDateTime: this.stamper.stamp(this.o.clock.nowMs()),
      avatarUrl: null,
      about: null,
      contract: null,
      weeklyHours: null,
      title: null,
      department: null,
      siteId: null,
      reportsTo: null,
      startDate: null,
      status: 'Active',
      lifecycleStatus: 'employed',
      terminationDate: null,
      terminationReason: null,
      lastDayOfWork: null,
      employmentType: null,
      country: null,
      city: null,
      shortBirthDate: null,
      leave: null,
      lifecycle: [],
      custom: {},
      ...structuredClone(s),
    };
  }

  private numberRows(rows: Omit<HibobEmployeeRecord['lifecycle'][number], 'id'>[]): HibobEmployeeRecord['lifecycle'] {
    return rows.map((r) => ({ id: this.nextRowId++, ...r }));
  }

  private reasonLabel(id: string | null): string | null {
    return id ? (this.o.lists.label('terminationreason', id) ?? id) : null;
  }

  clear(): void {
    this.o.store.clear();
  }

  // ---- HR edits ------------------------------------------------------------

  create(input: NewEmployee, by = this.o.hrAdminId): HibobEmployeeRecord {
    if (typeof input?.firstName !== 'string' || typeof input.surname !== 'string') {
      throw new HibobAdminError(400, 'invalid_employee', 'firstName and surname are required');
    }
    const id = input.id ?? this.freshId();
    if (!/^\d{1,19}$/.test(id)) throw new HibobAdminError(400, 'invalid_id', 'id must be a digit string');
    if (this.o.store.has(id)) throw new HibobAdminError(409, 'duplicate_id', `Employee ${id} already exists`);
    const { id: _id, ...edits } = input;
    const rec = this.blankRecord({
      id,
      firstName: input.firstName,
      surname: input.surname,
      status: 'Inactive',
      lifecycleStatus: 'hired',
    });
    this.applyEdits(rec, edits);
    const today = this.localToday(rec);
    rec.startDate ??= today;
    rec.employeeIdInCompany ??= Math.max(1000, ...this.o.store.all().map((r) => r.employeeIdInCompany ?? 0)) + 1;
    rec.lifecycle = this.numberRows(
      deriveLifecycleRows({ ...rec, creationDateTime: `${today}T00:00:00` }, this.reasonLabel(rec.terminationReason)),
    );
    const applied: LifecycleState[] = [];
    for (let t = nextTransition(rec, today), i = 0; t && i < 8; t = nextTransition(rec, today), i++) {
      applyTransition(rec, t);
      applied.push(t.to);
    }
    this.o.store.put(rec);
    this.raise('employee.created', by, { employeeId: id });
    // Someone created with a start date today or earlier gets access right away.
    if (applied.some((s) => s.lifecycleStatus === 'employed')) this.raise('employee.joined', by, { employeeId: id });
    const left = applied.find((s) => s.lifecycleStatus === 'garden leave' || s.lifecycleStatus === 'terminated');
    if (left) this.raise('employee.left', by, { employeeId: id });
    return structuredClone(rec);
  }

  update(id: string, edits: EmployeeFields, by = this.o.hrAdminId): HibobEmployeeRecord {
    const before = this.require(id);
    const after = structuredClone(before);
    this.applyEdits(after, edits);
    this.persist(before, after, by, { dataEntry: true });
    this.settleOne(id, by);
    return structuredClone(this.o.store.get(id)!);
  }

  changeEmail(id: string, email: string, by = this.o.hrAdminId): HibobEmployeeRecord {
    if (typeof email !== 'string' || !email.includes('@'))
      throw new HibobAdminError(400, 'invalid_email', 'email must be an address');
    return this.update(id, { email }, by);
  }

  terminate(id: string, input: TerminateInput, by = this.o.hrAdminId): HibobEmployeeRecord {
    const before = this.require(id);
    if (before.lifecycleStatus === 'terminated')
      throw new HibobAdminError(409, 'already_terminated', `Employee ${id} is already terminated`);
    const terminationDate = requireDate(input?.terminationDate, 'terminationDate');
    const lastDayOfWork = input.lastDayOfWork ? requireDate(input.lastDayOfWork, 'lastDayOfWork') : terminationDate;
    const after = structuredClone(before);
    after.terminationDate = terminationDate;
    after.lastDayOfWork = lastDayOfWork;
    if (input.reason !== undefined)
      after.terminationReason = coerceFieldValue(
        this.fieldDef('internal.terminationReason'),
        input.reason,
        this.o.lists,
      ) as string | null;
    const today = this.localToday(after);
    // A new termination replaces a pending one.
    after.lifecycle = after.lifecycle.filter(
      (r) => !(r.effectiveDate > today && (r.status === 'terminated' || r.status === 'garden leave')),
    );
    after.lifecycle.push(
      ...this.numberRows(terminationRows(terminationDate, lastDayOfWork, this.reasonLabel(after.terminationReason))),
    );
    this.persist(before, after, by, { tables: [{ tableId: 'lifecycle', effectiveDate: terminationDate }] });
    this.settleOne(id, by);
    return structuredClone(this.o.store.get(id)!);
  }

  /** Same backend id; Inactive until the start date, then joined + activated. */
  rehire(id: string, input: { startDate: string }, by = this.o.hrAdminId): HibobEmployeeRecord {
    const before = this.require(id);
    if (before.lifecycleStatus !== 'terminated')
      throw new HibobAdminError(409, 'not_terminated', `Employee ${id} is not terminated`);
    const startDate = requireDate(input?.startDate, 'startDate');
    const after = structuredClone(before);
    const today = this.localToday(after);
    Object.assign(after, {
      lifecycleStatus: 'hired',
      status: 'Inactive',
      startDate,
      terminationDate: null,
      terminationReason: null,
      lastDayOfWork: null,
      leave: null,
    });
    after.lifecycle.push(
      ...this.numberRows([
        { effectiveDate: today, status: 'hired', reason: 'Rehire', reasonType: null },
        { effectiveDate: startDate, status: 'employed', reason: null, reasonType: null },
      ]),
    );
    this.persist(before, after, by, { tables: [{ tableId: 'lifecycle', effectiveDate: today }] });
    this.settleOne(id, by);
    return structuredClone(this.o.store.get(id)!);
  }

  startLeave(id: string, input: LeaveInput, by = this.o.hrAdminId): HibobEmployeeRecord {
    const before = this.require(id);
    const type = typeof input?.type === 'string' ? this.o.lists.resolve('lifecycleStatus', input.type) : undefined;
    if (!type || !isLeaveStatus(type))
      throw new HibobAdminError(400, 'invalid_leave', 'type must be a leave lifecycle status');
    const startDate = requireDate(input.startDate, 'startDate');
    const endDate = input.endDate ? requireDate(input.endDate, 'endDate') : null;
    if (endDate && endDate < startDate) throw new HibobAdminError(400, 'invalid_leave', 'endDate precedes startDate');
    const after = structuredClone(before);
    after.leave = { type, startDate, endDate, inactive: input.inactive === true };
    after.lifecycle.push(
      ...this.numberRows([{ effectiveDate: startDate, status: type, reason: null, reasonType: null }]),
    );
    this.persist(before, after, by, { tables: [{ tableId: 'lifecycle', effectiveDate: startDate }] });
    this.settleOne(id, by);
    return structuredClone(this.o.store.get(id)!);
  }

  remove(id: string, by = this.o.hrAdminId): void {
    const rec = this.require(id);
    this.o.store.delete(rec.id);
    this.raise('employee.deleted', by, { employeeId: rec.id, email: rec.email });
    // Direct reports lose their manager.
    for (const report of this.o.store.all().filter((r) => r.reportsTo === rec.id)) {
      this.persist(report, { ...structuredClone(report), reportsTo: null }, by, { dataEntry: true });
    }
  }

  /** Applies every lifecycle change whose effective date has begun in the employee's zone. */
  tick(): AppliedTransition[] {
    const applied: AppliedTransition[] = [];
    const now = this.o.clock.now();
    // One date per zone per tick: formatting dates is the costly part for big companies.
    const todayByZone = new Map<string, string>();
    for (const rec of this.o.store.all()) {
      const zone = this.timeZoneOf(rec);
      let today = todayByZone.get(zone);
      if (!today) todayByZone.set(zone, (today = localDate(now, zone)));
      if (nextTransition(rec, today)) applied.push(...this.settleOne(rec.id, 'system'));
    }
    return applied;
  }

  /** Raises an arbitrary event, e.g. a table change the emulator does not model. */
  raise(type: HibobEventType, triggeredBy: string, data: Record<string, unknown>, changes?: FieldChange[]): void {
    this.o.emit({ type, triggeredBy, data, changes });
  }

  // ---- internals -----------------------------------------------------------

  private require(idOrEmail: string): HibobEmployeeRecord {
    const rec =
      this.o.store.get(idOrEmail) ?? this.o.store.all().find((r) => r.email?.toLowerCase() === idOrEmail.toLowerCase());
    if (!rec) throw notFound(idOrEmail);
    return rec;
  }

  private freshId(): string {
    for (;;) {
      const id = this.ids.next();
      if (!this.o.store.has(id)) return id;
    }
  }

  private fieldDef(id: string): FieldDef {
    const def = this.o.catalog.get(id);
    if (!def) throw new Error(`unknown field ${id}`);
    return def;
  }

  private applyEdits(rec: HibobEmployeeRecord, edits: EmployeeFields): void {
    if (typeof edits !== 'object' || edits === null)
      throw new HibobAdminError(400, 'invalid_edit', 'edits must be an object');
    const byField: Array<[FieldDef, unknown]> = [];
    for (const [key, value] of Object.entries(edits)) {
      if (value === undefined) continue;
      if (key === 'custom' || key === 'fields') {
        if (typeof value !== 'object' || value === null)
          throw new HibobAdminError(400, 'invalid_edit', `${key} must be an object`);
        for (const [fieldId, v] of Object.entries(value as Record<string, unknown>)) {
          const def = this.o.catalog.get(fieldId);
          if (!def || (key === 'custom' && !def.customId))
            throw new HibobAdminError(400, 'unknown_field', `Unknown field ${fieldId}`);
          byField.push([def, v]);
        }
        continue;
      }
      const def = this.o.catalog.forRecordKey(key === 'site' ? 'siteId' : key);
      if (!def || !(EDIT_KEYS as string[]).includes(key === 'site' ? 'siteId' : key)) {
        throw new HibobAdminError(400, 'unknown_field', `Unknown or read-only property ${key}`);
      }
      byField.push([def, value]);
    }
    for (const [def, value] of byField) {
      if (!def.recordKey && !def.customId)
        throw new HibobAdminError(400, 'read_only_field', `${def.meta.id} is calculated or managed by the lifecycle`);
      const v = coerceFieldValue(def, value, this.o.lists);
      if (def.customId) rec.custom[def.customId] = v;
      else (rec as unknown as Record<string, unknown>)[def.recordKey!] = v;
    }
    if (typeof rec.firstName !== 'string' || typeof rec.surname !== 'string') {
      throw new HibobAdminError(400, 'invalid_employee', 'firstName and surname cannot be empty');
    }
    if (rec.reportsTo !== null) {
      if (rec.reportsTo === rec.id)
        throw new HibobAdminError(400, 'invalid_manager', 'An employee cannot report to themselves');
      if (!this.o.store.has(rec.reportsTo))
        throw new HibobAdminError(400, 'invalid_manager', `No employee ${rec.reportsTo}`);
    }
  }

  private diff(before: HibobEmployeeRecord, after: HibobEmployeeRecord): FieldChange[] {
    const env = this.readEnv(false);
    const changes: FieldChange[] = [];
    for (const def of this.o.catalog.all) {
      const oldValue = machineValue(def, before, env);
      const newValue = machineValue(def, after, env);
      if (JSON.stringify(oldValue) !== JSON.stringify(newValue))
        changes.push({ fieldId: def.meta.id, oldValue, newValue });
    }
    return changes;
  }

  /**
   * Stores `after` and raises, in Bob's order: lifecycle events, table entries, then
   * employee.updated listing the fields that changed (nothing when nothing changed).
   */
  private persist(
    before: HibobEmployeeRecord,
    after: HibobEmployeeRecord,
    by: string,
    opts: {
      dataEntry?: boolean;
      tables?: Array<{ tableId: string; effectiveDate: string }>;
      lifecycleEvents?: HibobEventType[];
    },
  ): FieldChange[] {
    const changes = this.diff(before, after);
    this.o.store.put(after);
    const employeeId = after.id;
    for (const type of opts.lifecycleEvents ?? []) this.raise(type, by, { employeeId });
    const tables = [...(opts.tables ?? [])];
    if (opts.dataEntry) {
      const today = this.localToday(after);
      const touched = new Set(
        changes
          .map((c) => this.fieldDef(c.fieldId).meta)
          .filter((m) => m.historical && HISTORICAL_TABLES.has(m.categoryId))
          .map((m) => m.categoryId),
      );
      for (const tableId of touched) tables.push({ tableId, effectiveDate: today });
    }
    for (const t of tables)
      this.raise('table.entry.created', by, { employeeId, tableId: t.tableId, effectiveDate: t.effectiveDate });
    if (changes.length) this.raise('employee.updated', by, { employeeId }, changes);
    return changes;
  }

  private settleOne(id: string, by: string): AppliedTransition[] {
    const before = this.o.store.get(id);
    if (!before) return [];
    const after = structuredClone(before);
    const today = this.localToday(after);
    const applied: AppliedTransition[] = [];
    const events: HibobEventType[] = [];
    for (let t = nextTransition(after, today), i = 0; t && i < 8; t = nextTransition(after, today), i++) {
      const from: LifecycleState = { lifecycleStatus: after.lifecycleStatus, status: after.status };
      applyTransition(after, t);
      const raised = transitionEvents(from, t.to).filter((e) => !events.includes(e));
      events.push(...raised);
      applied.push({ employeeId: id, effectiveDate: t.effectiveDate, from, to: t.to, events: raised });
    }
    if (!applied.length) return [];
    this.persist(before, after, by, { lifecycleEvents: events });
    return applied;
  }
}
