/**
 * Renders stored employees in Bob's dual response shape (contract §4.6–4.7): slash keys for
 * non-empty values, nested objects by jsonPath, and an optional humanReadable mirror.
 */
import { formatDisplayDate, formatDisplayShortDate, formatDisplayTime, type Period } from './dates';
import { displayNameOf, slashKey, type FieldDef, type ReadEnv } from './fields';
import type { DateFormat, HibobEmployeeRecord } from './types';

export type HumanReadableMode = 'none' | 'append' | 'replace';

export interface RenderOptions {
  mode: HumanReadableMode;
  dateFormat: DateFormat;
}

/** Machine value with Bob's empty conventions: null, or [] for multi-lists. */
export function machineValue(def: FieldDef, rec: HibobEmployeeRecord, env: ReadEnv): unknown {
  const v = def.read(rec, env);
  if (def.meta.type === 'multi-list') return Array.isArray(v) ? v : [];
  return v === undefined ? null : v;
}

/** Text form of a scalar machine value (ids, dates, numbers). */
export function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

export function isEmptyValue(v: unknown): boolean {
  return v === null || v === undefined || (Array.isArray(v) && v.length === 0);
}

/** The display form of a machine value, as shown in Bob's UI. */
export function displayValue(def: FieldDef, value: unknown, env: ReadEnv, dateFormat: DateFormat): unknown {
  if (value === null || value === undefined) return null;
  if (def.displaySelf) return value;
  const listId = def.meta.typeData.listId;
  switch (def.meta.type) {
    case 'list':
    case 'list_id':
      return (listId && env.lists.label(listId, asText(value))) ?? asText(value);
    case 'multi-list':
      return (value as unknown[]).map((v) => (listId && env.lists.label(listId, asText(v))) ?? asText(v)).join(', ');
    case 'date':
      return formatDisplayDate(asText(value), dateFormat);
    case 'short-date':
      return formatDisplayShortDate(asText(value), dateFormat);
    case 'time':
      return formatDisplayTime(asText(value), dateFormat);
    case 'employee':
      return (value as { displayName: string }).displayName;
    case 'employee-reference': {
      const person = env.lookup(asText(value));
      return person ? displayNameOf(person) : asText(value);
    }
    case 'period':
      return (value as Period).humanize;
    case 'boolean':
      return value ? 'Yes' : 'No';
    case 'number':
      return asText(value);
    default:
      return value;
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

/** One employee object limited to `fields` (already filtered to known, permitted fields). */
export function renderEmployee(
  rec: HibobEmployeeRecord,
  fields: FieldDef[],
  env: ReadEnv,
  options: RenderOptions,
): Record<string, unknown> {
  const slash: Record<string, unknown> = {};
  const nested: Record<string, unknown> = {};
  const human: Record<string, unknown> = {};
  for (const def of fields) {
    const machine = machineValue(def, rec, env);
    const display = options.mode === 'none' ? undefined : displayValue(def, machine, env, options.dateFormat);
    const value = options.mode === 'replace' ? display : machine;
    if (!isEmptyValue(machine)) slash[slashKey(def.meta.id)] = { value };
    setPath(nested, def.meta.jsonPath, value);
    if (options.mode === 'append') setPath(human, def.meta.jsonPath, display);
  }
  return options.mode === 'append' ? { ...slash, ...nested, humanReadable: human } : { ...slash, ...nested };
}
