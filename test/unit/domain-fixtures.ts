/**
 * Builders for the domain tests: HiBob responses in their real dual shape, mappings from
 * YAML-like input, learners, and a pure model of what the LMS looks like after a plan ran.
 */
import { mappingSchema, type MappingConfig, type MappingInput } from '../../src/config/mapping-schema';
import { normaliseEmployee, type NormaliseOptions } from '../../src/domain/normalise';
import type { CurrentLearner, GroupRole, NormalisedEmployee, Operation } from '../../src/domain/types';

/** Fixed clock for every domain test: Sunday 15 March 2026, 12:00 UTC. */
export const NOW = new Date('2026-03-15T12:00:00Z');

export const GROUP_DEFAULT = '507f1f77bcf86cd799439011';
export const GROUP_ENG = '65a0c0ffee0000000000e001';
export const GROUP_SALES = '65a0c0ffee0000000000e002';
export const GROUP_LONDON = '65a0c0ffee0000000000e003';

type ListValue = { id: string; label: string } | null;

export interface RawEmployeeSpec {
  id?: string;
  email?: string | null;
  firstName?: string;
  surname?: string;
  title?: ListValue;
  department?: ListValue;
  site?: string | null;
  startDate?: string | null;
  lifecycleStatus?: string | null;
  internalStatus?: string | null;
  terminationDate?: string | null;
  lastDayOfWork?: string | null;
  reportsTo?: { id: string; firstName: string; surname: string } | null;
  /** Extra nested values by field id (`payroll.employment.type`), with an optional label. */
  extra?: Record<string, { value: unknown; label?: unknown }>;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** A `POST /people/search` employee with nested values, slash keys (non-null only) and humanReadable (APPEND). */
export function rawEmployee(spec: RawEmployeeSpec = {}): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const human: Record<string, unknown> = {};
  const put = (fieldId: string, value: unknown, label?: unknown) => {
    const parts = fieldId.split('.');
    const path = parts[0] === 'root' ? parts.slice(1) : parts;
    setPath(raw, path, value);
    if (value !== null) raw[`/${parts.join('/')}`] = { value };
    if (label !== undefined) setPath(human, path, label);
  };
  const id = spec.id ?? '3332883894235038486';
  put('root.id', id, id);
  if (spec.email !== undefined || !('email' in spec))
    put('root.email', spec.email === undefined ? 'jane.doe@example.com' : spec.email);
  put('root.firstName', spec.firstName ?? 'Jane');
  put('root.surname', spec.surname ?? 'Doe');
  const list = (fieldId: string, v: ListValue | undefined, fallback: ListValue) => {
    const value = v === undefined ? fallback : v;
    put(fieldId, value ? value.id : null, value ? value.label : null);
  };
  list('work.title', spec.title, { id: '101', label: 'Software Engineer' });
  list('work.department', spec.department, { id: '209192163', label: 'Engineering' });
  put('work.site', spec.site === undefined ? 'London' : spec.site);
  put('work.startDate', spec.startDate === undefined ? '2021-05-04' : spec.startDate);
  put('internal.lifecycleStatus', spec.lifecycleStatus === undefined ? 'employed' : spec.lifecycleStatus);
  put('internal.status', spec.internalStatus === undefined ? 'Active' : spec.internalStatus);
  put('internal.terminationDate', spec.terminationDate === undefined ? null : spec.terminationDate);
  put('employee.lastDayOfWork', spec.lastDayOfWork === undefined ? null : spec.lastDayOfWork);
  const manager =
    spec.reportsTo === undefined ? { id: '3332883804594373380', firstName: 'Alan', surname: 'Tullin' } : spec.reportsTo;
  put(
    'work.reportsTo',
    manager ? { ...manager, displayName: `${manager.firstName} ${manager.surname}`, email: 'alan@example.com' } : null,
    manager ? `${manager.firstName} ${manager.surname}` : null,
  );
  for (const [fieldId, { value, label }] of Object.entries(spec.extra ?? {})) put(fieldId, value, label);
  raw.humanReadable = human;
  return raw;
}

export function employee(spec: RawEmployeeSpec = {}, options: NormaliseOptions = {}): NormalisedEmployee {
  return normaliseEmployee(rawEmployee(spec), options);
}

export function mapping(input: MappingInput = {}): MappingConfig {
  return mappingSchema.parse(input);
}

export function learner(overrides: Partial<CurrentLearner> = {}): CurrentLearner {
  return {
    learnerId: '64f1c2a9e4b0a1b2c3d4e5f6',
    status: 'active',
    fields: {
      mail: 'jane.doe@example.com',
      firstName: 'Jane',
      lastName: 'Doe',
      job: 'Software Engineer',
      organization: 'Engineering',
    },
    customFields: {},
    managerIds: [],
    groups: [{ groupId: GROUP_DEFAULT, role: 'learner' }],
    externalId: '3332883894235038486',
    ...overrides,
  };
}

function sameRole(a: GroupRole, b: GroupRole): boolean {
  return a.groupId.toLowerCase() === b.groupId.toLowerCase() && a.role === b.role;
}

/**
 * What the LMS holds after the operations ran, modelled on the 360Learning contract: create
 * makes an invited user with one membership, restore brings a deleted user back as invited
 * without its roles, updates with `to: null` remove the value, custom fields are replace-all.
 */
export function applyOperations(
  current: CurrentLearner | undefined,
  operations: Operation[],
  employeeId: string,
): CurrentLearner {
  let l: CurrentLearner | undefined = current && structuredClone(current);
  for (const op of operations) {
    if (op.op === 'create') {
      if (l) throw new Error('create on an existing learner');
      l = {
        learnerId: 'new-learner',
        status: 'invited',
        fields: { ...op.fields },
        customFields: {},
        managerIds: [],
        groups: op.membership ? [op.membership] : [],
      };
      continue;
    }
    if (!l) throw new Error(`${op.op} before the learner exists`);
    switch (op.op) {
      case 'restore':
        if (l.status !== 'deleted') throw new Error('restore of a learner that is not deleted');
        if (l.fields.mail && op.fields.mail !== l.fields.mail)
          throw new Error("restore must use the deleted account's address");
        l = {
          ...l,
          status: 'invited',
          fields: { ...l.fields, ...op.fields },
          groups: op.membership ? [op.membership] : [],
        };
        break;
      case 'linkExternalId':
        l.externalId = employeeId;
        break;
      case 'updateFields':
        if (l.status === 'deleted') throw new Error('update of a deleted learner');
        for (const c of op.changes) {
          const key = c.field as keyof CurrentLearner['fields'];
          if (c.to === null) delete l.fields[key];
          else l.fields[key] = c.to;
        }
        break;
      case 'setCustomFields':
        l.customFields = { ...op.values };
        break;
      case 'addGroupRole':
        if (!l.groups.some((g) => sameRole(g, op.group))) l.groups.push(op.group);
        break;
      case 'removeGroupRole':
        l.groups = l.groups.filter((g) => !sameRole(g, op.group));
        break;
      case 'addManager':
        if (!l.managerIds.includes(op.managerLearnerId)) l.managerIds.push(op.managerLearnerId);
        break;
      case 'removeManager':
        l.managerIds = l.managerIds.filter((m) => m !== op.managerLearnerId);
        break;
      case 'activate':
        if (l.status === 'deleted') throw new Error('activate of a deleted learner (userDeleted)');
        l.status = 'active';
        break;
      case 'deactivate':
        l.status = 'deleted';
        break;
      case 'deferManager':
        break;
    }
  }
  if (!l) throw new Error('no learner after the operations');
  return l;
}

export function opNames(operations: Operation[]): string[] {
  return operations.map((o) => o.op);
}
