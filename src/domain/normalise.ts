/**
 * HiBob employee (people search / read response) → NormalisedEmployee.
 *
 * HiBob sends each value twice: nested objects following the field's jsonPath (root fields at
 * the top level) and slash keys (`"/work/department": {"value": …}`) for non-null values only.
 * Nested values are read first because only they tell "empty" (null) from "not returned"
 * (absent); slash keys fill in when a nested value is missing. Display values come from the
 * `humanReadable` sibling (humanReadable: APPEND) at the same nested path.
 */
import type { MappingConfig } from './mapping-schema';
import { conditionFields, expressionFields, fieldText } from './expressions';
import { isTimeZone } from './time';
import type { NormalisedEmployee, SourceField, SourceValue } from './types';

export interface NormaliseOptions {
  /** Site name or site id → IANA time zone (mapping.status.siteTimeZones). Keys compare case-insensitively. */
  siteTimeZones?: Record<string, string>;
  /** A HiBob field holding the employee's IANA time zone (mapping.status.timeZoneField); default `work.siteTimeZone`. */
  timeZoneField?: string;
  /**
   * Field id → HiBob's `jsonPath` (GET /company/people/fields) for fields filed elsewhere than
   * their id says: a custom field `custom.field_…` sits under its category,
   * `custom.category_….field_…`. Only there does an empty value read as `null` (cleared) rather
   * than missing; the nested value at that path is read first, and its label at the same path.
   */
  jsonPaths?: Readonly<Record<string, string>>;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Objects that are one value rather than a category: an employee reference ({id, …}) or a period. */
function isValueObject(value: JsonObject): boolean {
  return 'id' in value || 'periodISO' in value;
}

function scalarOf(value: unknown): string | number | boolean | null | undefined {
  if (value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (isObject(value)) {
    if (typeof value.id === 'string' || typeof value.id === 'number') return String(value.id);
    if (typeof value.periodISO === 'string') return value.periodISO;
  }
  return undefined;
}

function toSourceValue(value: unknown): SourceValue {
  if (Array.isArray(value)) {
    return value.map(scalarOf).flatMap((v) => (v === null || v === undefined ? [] : [String(v)]));
  }
  return scalarOf(value);
}

function toLabel(value: unknown): string | null | undefined {
  if (value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    const parts = value.map(toLabel).filter((v): v is string => typeof v === 'string' && v !== '');
    return parts.length ? parts.join(', ') : null;
  }
  if (isObject(value)) {
    if (typeof value.displayName === 'string') return value.displayName;
    const name = [value.firstName, value.surname]
      .filter((v): v is string => typeof v === 'string' && v !== '')
      .join(' ');
    if (name) return name;
    if (typeof value.humanize === 'string') return value.humanize;
    if (typeof value.name === 'string') return value.name;
    if ('value' in value) return toLabel(value.value);
  }
  return undefined;
}

/** The value at `path` inside nested objects, or undefined where the path stops. */
export function nested(node: unknown, path: readonly string[]): unknown {
  let at = node;
  for (const key of path) {
    if (!isObject(at) || !(key in at)) return undefined;
    at = at[key];
  }
  return at;
}

/** The display value HiBob appends for a field; root fields sit at the top level of the response. */
function humanReadableLabel(humanReadable: JsonObject | undefined, fieldId: string): string | null | undefined {
  if (!humanReadable) return undefined;
  // Tried in order, each only when the one before gives no label.
  const parts = fieldId.split('.');
  const rooted = parts[0] === 'root' && parts.length > 1;
  let label = toLabel(nested(humanReadable, rooted ? parts.slice(1) : parts));
  if (label !== undefined) return label;
  if (fieldId.startsWith('root.')) {
    label = toLabel(nested(humanReadable, parts));
    if (label !== undefined) return label;
  }
  const slash = humanReadable[`/${parts.join('/')}`];
  return isObject(slash) ? toLabel(slash.value) : undefined;
}

function lowerCased(field: SourceField | undefined): string | null | undefined {
  // Machine values are lower-case display names; if a tenant sends a list item id, use its label.
  const value =
    field && typeof field.value === 'string' && /^\d+$/.test(field.value) && typeof field.label === 'string'
      ? field.label
      : fieldText(field);
  return typeof value === 'string' ? value.trim().toLowerCase() : value;
}

function textOf(field: SourceField | undefined): string | null | undefined {
  const value = fieldText(field);
  return typeof value === 'string' ? value.trim() : value;
}

function dateOf(field: SourceField | undefined): string | null | undefined {
  const value = textOf(field);
  if (typeof value !== 'string') return value;
  // Some date fields carry a time part; the calendar date is what counts.
  const m = /^(\d{4}-\d{2}-\d{2})(?:T|$)/.exec(value);
  return m ? m[1] : value === '' ? null : value;
}

function siteTimeZone(fields: Record<string, SourceField>, options: NormaliseOptions): string | undefined {
  const own = textOf(fields[options.timeZoneField ?? 'work.siteTimeZone']);
  if (isTimeZone(own)) return own;
  const map = new Map(Object.entries(options.siteTimeZones ?? {}).map(([k, v]) => [k.trim().toLowerCase(), v]));
  if (map.size === 0) return undefined;
  const keys = ['work.site', 'work.siteId'].flatMap((id) => [fieldText(fields[id]), fieldText(fields[id], true)]);
  for (const key of keys) {
    if (typeof key !== 'string') continue;
    const zone = map.get(key.trim().toLowerCase());
    if (isTimeZone(zone)) return zone;
  }
  return undefined;
}

/**
 * Reads every field present in the response. Throws when the employee has no `root.id`:
 * without its key a record cannot be synchronised or even reported.
 */
export function normaliseEmployee(raw: Record<string, unknown>, options: NormaliseOptions = {}): NormalisedEmployee {
  const humanReadable = isObject(raw.humanReadable) ? raw.humanReadable : undefined;
  const fields: Record<string, SourceField> = {};

  const record = (fieldId: string, rawValue: unknown, labelAt = fieldId) => {
    const value = toSourceValue(rawValue);
    if (value === undefined) return;
    const field: SourceField = { value };
    const label = humanReadableLabel(humanReadable, labelAt) ?? (isObject(rawValue) ? toLabel(rawValue) : undefined);
    if (label !== undefined) field.label = label;
    fields[fieldId] = field;
  };

  // `dotted` and `slashed` are the path so far as a field id (`work.site`) and as a slash key (`/work/site`).
  const walk = (node: JsonObject, dotted: string, slashed: string) => {
    for (const key in node) {
      if (!Object.hasOwn(node, key)) continue;
      const value = node[key];
      const slashKey = `${slashed}/${key}`;
      if (isObject(value) && !isValueObject(value) && !(slashKey in raw)) walk(value, `${dotted}.${key}`, slashKey);
      else record(`${dotted}.${key}`, value);
    }
  };

  for (const [key, value] of Object.entries(raw)) {
    if (key === 'humanReadable' || key.startsWith('/')) continue;
    if (isObject(value)) walk(value, key, `/${key}`);
    else record(`root.${key}`, value);
  }
  // Fields filed away from their id: the value (or null) at the field's own jsonPath.
  for (const [fieldId, path] of Object.entries(options.jsonPaths ?? {})) {
    const value = nested(raw, path.split('.'));
    if (value !== undefined) record(fieldId, value, path);
  }
  // Slash keys: fallback for values the nested objects lack.
  for (const [key, value] of Object.entries(raw)) {
    if (!key.startsWith('/') || !isObject(value) || !('value' in value)) continue;
    const fieldId = key.slice(1).split('/').join('.');
    if (!(fieldId in fields)) record(fieldId, value.value);
  }

  const idValue = fields['root.id']?.value;
  if (typeof idValue !== 'string' && typeof idValue !== 'number') {
    throw new TypeError(
      'HiBob employee without root.id: cannot be synchronised (check that root.id is requested and permitted)',
    );
  }
  const email = textOf(fields['root.email']);
  const manager = fields['work.reportsTo'] ?? fields['work.manager'];
  const managerValue = manager?.value;

  const employee: NormalisedEmployee = {
    id: String(idValue),
    email: email === '' ? null : email,
    fields,
    lifecycle: {
      status: lowerCased(fields['internal.lifecycleStatus']),
      internalStatus: textOf(fields['internal.status']),
      startDate: dateOf(fields['work.startDate']),
      terminationDate: dateOf(fields['internal.terminationDate']),
      lastDayOfWork: dateOf(fields['employee.lastDayOfWork']),
    },
    managerId:
      managerValue === undefined
        ? undefined
        : typeof managerValue === 'string' && managerValue !== ''
          ? managerValue
          : null,
  };
  const zone = siteTimeZone(fields, options);
  if (zone) employee.siteTimeZone = zone;
  return employee;
}

/** Where HiBob files a field whose metadata says nothing else: root fields at the top level. */
export function defaultJsonPath(fieldId: string): string {
  return fieldId.startsWith('root.') ? fieldId.slice('root.'.length) : fieldId;
}

/**
 * The requested fields a HiBob record lacks at their json path (known, or the default). A field
 * HiBob files under a category shows up here until its metadata is read, even when a slash key
 * has its value: only the nested value tells empty from missing. One the service user may not
 * see stays here.
 */
export function fieldsNotFound(
  raw: Record<string, unknown>,
  fieldIds: readonly string[],
  jsonPaths: Readonly<Record<string, string>> = {},
): string[] {
  return fieldIds.filter((id) => nested(raw, (jsonPaths[id] ?? defaultJsonPath(id)).split('.')) === undefined);
}

/** HiBob field ids the status rules and the normaliser always need. */
export const BASE_FIELDS = [
  'root.id',
  'root.email',
  'internal.status',
  'internal.lifecycleStatus',
  'internal.terminationDate',
  'employee.lastDayOfWork',
  'work.startDate',
  'work.site',
  'work.siteId',
] as const;

/** Every HiBob field id the connector must request for this mapping, deduplicated and sorted. */
export function hibobFieldsFor(mapping: MappingConfig): string[] {
  const ids = new Set<string>(BASE_FIELDS);
  if (mapping.manager.enabled) ids.add('work.reportsTo');
  if (mapping.status.timeZoneField) ids.add(mapping.status.timeZoneField);
  for (const expr of Object.values(mapping.fields)) {
    if (expr) expressionFields(expr).forEach((f) => ids.add(f));
  }
  for (const custom of mapping.customFields) expressionFields(custom.source).forEach((f) => ids.add(f));
  for (const rule of mapping.groups) conditionFields(rule.when).forEach((f) => ids.add(f));
  for (const c of [mapping.scope.include, mapping.scope.exclude]) if (c) conditionFields(c).forEach((f) => ids.add(f));
  return [...ids].sort();
}
