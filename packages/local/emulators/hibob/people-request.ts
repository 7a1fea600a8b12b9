/** Validation of POST /people/search and POST /people/{identifier} bodies (contract §4.1–4.4, §5). */
import type { HumanReadableMode } from './render';

export const MAX_FIELDS = 400;

export interface PeopleFilter {
  fieldPath: 'root.id' | 'root.email';
  values: string[];
}

export interface SearchRequest {
  /** undefined = the default field set. */
  fields?: string[];
  filter?: PeopleFilter;
  showInactive: boolean;
  humanReadable: HumanReadableMode;
}

export type ReadRequest = Pick<SearchRequest, 'fields' | 'humanReadable'>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const fail = (error: string): { ok: false; error: string } => ({ ok: false, error });

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Docs use upper case, some clients lower case: any case is accepted. */
export function parseHumanReadable(value: unknown): Parsed<HumanReadableMode> {
  if (value === undefined || value === null) return { ok: true, value: 'none' };
  if (typeof value !== 'string') return fail('humanReadable must be a string');
  const v = value.toLowerCase();
  if (v === '') return { ok: true, value: 'none' };
  if (v === 'append' || v === 'replace') return { ok: true, value: v };
  return fail(`humanReadable must be "", "APPEND" or "REPLACE", got ${JSON.stringify(value)}`);
}

function parseFields(value: unknown): Parsed<string[] | undefined> {
  if (value === undefined) return { ok: true, value: undefined };
  if (!Array.isArray(value) || !value.every((f) => typeof f === 'string'))
    return fail('fields must be an array of strings');
  if (value.length > MAX_FIELDS) return fail(`fields accepts at most ${MAX_FIELDS} field ids, got ${value.length}`);
  // An empty list is read as "no preference", i.e. the default set.
  return { ok: true, value: value.length === 0 ? undefined : value };
}

function parseFilters(value: unknown): Parsed<PeopleFilter | undefined> {
  if (value === undefined) return { ok: true, value: undefined };
  if (!Array.isArray(value)) return fail('filters must be an array');
  if (value.length === 0) return fail('filters must not be empty; omit the property instead');
  if (value.length > 1) return fail('at most one filter is supported');
  const f: unknown = value[0];
  if (!isPlainObject(f)) return fail('a filter must be an object');
  const extra = Object.keys(f).filter((k) => !['fieldPath', 'operator', 'values'].includes(k));
  if (extra.length) return fail(`unsupported filter properties: ${extra.join(', ')}`);
  if (f.fieldPath !== 'root.id' && f.fieldPath !== 'root.email')
    return fail('filter fieldPath must be root.id or root.email');
  if (f.operator !== 'equals') return fail('filter operator must be equals');
  const values = f.values;
  if (!Array.isArray(values) || values.length === 0) return fail('filter values must be a non-empty array');
  if (!values.every((v) => typeof v === 'string' && v.length > 0))
    return fail('filter values must be non-empty strings');
  return { ok: true, value: { fieldPath: f.fieldPath, values: values as string[] } };
}

function checkKeys(body: Record<string, unknown>, allowed: string[]): Parsed<true> {
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  return extra.length ? fail(`unsupported properties: ${extra.join(', ')}`) : { ok: true, value: true };
}

export function parseSearchBody(raw: unknown): Parsed<SearchRequest> {
  const body = raw ?? {};
  if (!isPlainObject(body)) return fail('the body must be a JSON object');
  const keys = checkKeys(body, ['fields', 'filters', 'showInactive', 'humanReadable']);
  if (!keys.ok) return keys;
  const fields = parseFields(body.fields);
  if (!fields.ok) return fields;
  const filter = parseFilters(body.filters);
  if (!filter.ok) return filter;
  if (body.showInactive !== undefined && typeof body.showInactive !== 'boolean')
    return fail('showInactive must be a boolean');
  const humanReadable = parseHumanReadable(body.humanReadable);
  if (!humanReadable.ok) return humanReadable;
  return {
    ok: true,
    value: {
      fields: fields.value,
      filter: filter.value,
      showInactive: body.showInactive === true,
      humanReadable: humanReadable.value,
    },
  };
}

export function parseReadBody(raw: unknown): Parsed<ReadRequest> {
  const body = raw ?? {};
  if (!isPlainObject(body)) return fail('the body must be a JSON object');
  const keys = checkKeys(body, ['fields', 'humanReadable']);
  if (!keys.ok) return keys;
  const fields = parseFields(body.fields);
  if (!fields.ok) return fields;
  const humanReadable = parseHumanReadable(body.humanReadable);
  if (!humanReadable.ok) return humanReadable;
  return { ok: true, value: { fields: fields.value, humanReadable: humanReadable.value } };
}
