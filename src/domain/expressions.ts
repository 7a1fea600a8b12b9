/**
 * Evaluation of mapping expressions (values, transforms, templates) and conditions against a
 * normalised employee. Values keep HiBob's three states: `undefined` = HiBob did not return the
 * field (unknown, leave the target alone), `null` = empty (clear the target), text = a value.
 * Conditions use three-valued logic for the same reason: a condition over a field HiBob did not
 * return is neither true nor false, so nothing is added, removed or deactivated on a guess.
 */
import type { Condition, FieldCondition, Transform, ValueExpression } from './mapping-schema';
import { parseTemplate, type TemplatePart } from './template';
import type { NormalisedEmployee, SourceField, SourceValue } from './types';

/** `true`, `false`, or `undefined` when a field it needs is unreadable. */
export type Truth = boolean | undefined;

// ---------------------------------------------------------------- reading fields

function valueToText(value: SourceValue): string | null | undefined {
  if (value === undefined || value === null) return value;
  if (Array.isArray(value)) return value.length ? value.join(', ') : null;
  return String(value);
}

/** The field as text: the display label when asked for and present, else the machine value. */
export function fieldText(field: SourceField | undefined, label = false): string | null | undefined {
  if (!field) return undefined;
  if (label && field.label !== undefined) return field.label;
  return valueToText(field.value);
}

/** The field as a list of non-empty texts (a multi-list gives several); undefined = unreadable. */
function fieldTexts(field: SourceField | undefined, label: boolean): string[] | undefined {
  if (!field) return undefined;
  const raw: SourceValue = label && field.label !== undefined ? field.label : field.value;
  if (raw === undefined) return undefined;
  if (raw === null) return [];
  const list = Array.isArray(raw) ? raw : [String(raw)];
  return list.map((v) => v.trim()).filter((v) => v !== '');
}

// ---------------------------------------------------------------- transforms

const regexCache = new Map<string, RegExp>();

export function compiledRegex(pattern: string, flags: string): RegExp {
  const key = `${flags}/${pattern}`;
  let re = regexCache.get(key);
  if (!re) {
    re = new RegExp(pattern, flags);
    regexCache.set(key, re);
  }
  return re;
}

const mapLookups = new WeakMap<object, Map<string, string>>();

function mapLookup(t: Extract<Transform, { map: unknown }>): Map<string, string> {
  let lookup = mapLookups.get(t);
  if (!lookup) {
    lookup = new Map(Object.entries(t.map).map(([k, v]) => [t.caseInsensitive ? k.toLowerCase() : k, v]));
    mapLookups.set(t, lookup);
  }
  return lookup;
}

const ISO_DATE_PREFIX = /^(\d{4})-(\d{2})-(\d{2})(?:$|T)/;

function titleCase(value: string): string {
  return value
    .toLowerCase()
    .replace(/(^|[\s\-'’(/"])(\p{L})/gu, (_m, before: string, letter: string) => before + letter.toUpperCase());
}

export function applyTransform(value: string, t: Transform): string {
  if (typeof t === 'string') {
    switch (t) {
      case 'trim':
        return value.trim();
      case 'lowercase':
        return value.toLowerCase();
      case 'uppercase':
        return value.toUpperCase();
      case 'titlecase':
        return titleCase(value);
      case 'collapseSpaces':
        return value.replace(/\s+/g, ' ').trim();
    }
  }
  if ('map' in t) {
    const hit = mapLookup(t).get(t.caseInsensitive ? value.toLowerCase() : value);
    return hit ?? t.default ?? value;
  }
  if ('replace' in t) return value.replace(compiledRegex(t.replace.pattern, t.replace.flags ?? 'g'), t.replace.with);
  if ('date' in t) {
    const m = ISO_DATE_PREFIX.exec(value);
    if (!m) return value;
    const parts: Record<string, string> = { YYYY: m[1]!, MM: m[2]!, DD: m[3]! };
    return t.date.format.replace(/YYYY|MM|DD/g, (token) => parts[token]!);
  }
  return Array.from(value).slice(0, t.truncate).join('');
}

/** Transforms apply to text only: unreadable stays unreadable, empty stays empty. */
export function applyTransforms(
  value: string | null | undefined,
  transforms: readonly Transform[] | undefined,
): string | null | undefined {
  if (value === undefined || value === null || !transforms) return value;
  return transforms.reduce((v, t) => applyTransform(v, t), value);
}

export function describeTransform(t: Transform): string {
  if (typeof t === 'string') return t;
  if ('map' in t)
    return `map(${Object.keys(t.map).length} values${t.default !== undefined ? `, default "${t.default}"` : ''})`;
  if ('replace' in t) return `replace(/${t.replace.pattern}/${t.replace.flags ?? 'g'} → "${t.replace.with}")`;
  if ('date' in t) return `date(${t.date.format})`;
  return `truncate(${t.truncate})`;
}

// ---------------------------------------------------------------- value expressions

const templates = new Map<string, TemplatePart[]>();

function templateParts(template: string): TemplatePart[] {
  let parts = templates.get(template);
  if (!parts) {
    parts = parseTemplate(template);
    templates.set(template, parts);
  }
  return parts;
}

function renderTemplate(template: string, employee: NormalisedEmployee): string | undefined {
  let out = '';
  for (const part of templateParts(template)) {
    if ('text' in part) {
      out += part.text;
      continue;
    }
    const value = fieldText(employee.fields[part.field], part.label);
    // One unreadable placeholder makes the whole text unknown rather than silently wrong.
    if (value === undefined) return undefined;
    out += value ?? '';
  }
  return out;
}

/**
 * The value an expression gives for an employee. Blank text counts as empty (360Learning
 * rejects empty strings), and `default` replaces an empty value, never an unreadable one.
 */
export function evaluateExpression(expr: ValueExpression, employee: NormalisedEmployee): string | null | undefined {
  let value: string | null | undefined;
  if ('value' in expr) {
    value = expr.value;
  } else if ('from' in expr) {
    value = applyTransforms(fieldText(employee.fields[expr.from], expr.label === true), expr.transforms);
  } else {
    value = applyTransforms(renderTemplate(expr.template, employee), expr.transforms);
  }
  if (typeof value === 'string' && value.trim() === '') value = null;
  if (value === null && 'default' in expr && expr.default !== undefined) value = expr.default;
  return value;
}

export function describeExpression(expr: ValueExpression): string {
  let head: string;
  if ('value' in expr) return `constant "${expr.value}"`;
  if ('from' in expr) head = `${expr.from}${expr.label ? ' (label)' : ''}`;
  else head = `template "${expr.template}"`;
  const steps = (expr.transforms ?? []).map(describeTransform);
  if ('default' in expr && expr.default !== undefined) steps.push(`default "${expr.default}"`);
  return [head, ...steps].join(' | ');
}

export function expressionFields(expr: ValueExpression): string[] {
  if ('from' in expr) return [expr.from];
  if ('template' in expr) return templateParts(expr.template).flatMap((p) => ('field' in p ? [p.field] : []));
  return [];
}

// ---------------------------------------------------------------- conditions

function isFieldCondition(c: Condition): c is FieldCondition {
  return 'field' in c;
}

function same(a: string, b: string, caseSensitive: boolean): boolean {
  return caseSensitive ? a === b.trim() : a.toLowerCase() === b.trim().toLowerCase();
}

function evaluateFieldCondition(c: FieldCondition, employee: NormalisedEmployee): Truth {
  const values = fieldTexts(employee.fields[c.field], c.label === true);
  if (values === undefined) return undefined;
  const cs = c.caseSensitive === true;
  const anyOf = (targets: readonly string[]) => values.some((v) => targets.some((t) => same(v, t, cs)));
  if (c.exists !== undefined && values.length > 0 !== c.exists) return false;
  if (c.equals !== undefined && !anyOf(Array.isArray(c.equals) ? c.equals : [c.equals])) return false;
  if (c.in !== undefined && !anyOf(c.in)) return false;
  if (c.notIn !== undefined && anyOf(c.notIn)) return false;
  if (c.matches !== undefined) {
    const re = compiledRegex(c.matches, cs ? '' : 'i');
    if (!values.some((v) => re.test(v))) return false;
  }
  return true;
}

/** Kleene logic: false wins in `all`, true wins in `any`, otherwise unknown spreads. */
export function evaluateCondition(c: Condition, employee: NormalisedEmployee): Truth {
  if (isFieldCondition(c)) return evaluateFieldCondition(c, employee);
  if ('all' in c) {
    const results = c.all.map((x) => evaluateCondition(x, employee));
    if (results.includes(false)) return false;
    return results.includes(undefined) ? undefined : true;
  }
  if ('any' in c) {
    const results = c.any.map((x) => evaluateCondition(x, employee));
    if (results.includes(true)) return true;
    return results.includes(undefined) ? undefined : false;
  }
  const inner = evaluateCondition(c.not, employee);
  return inner === undefined ? undefined : !inner;
}

function quoteList(values: readonly string[]): string {
  return `[${values.map((v) => `"${v}"`).join(', ')}]`;
}

export function describeCondition(c: Condition): string {
  if (isFieldCondition(c)) {
    const subject = `${c.field}${c.label ? ' (label)' : ''}`;
    const tests: string[] = [];
    if (c.exists !== undefined) tests.push(c.exists ? 'is set' : 'is empty');
    if (c.equals !== undefined)
      tests.push(Array.isArray(c.equals) ? `equals one of ${quoteList(c.equals)}` : `equals "${c.equals}"`);
    if (c.in !== undefined) tests.push(`in ${quoteList(c.in)}`);
    if (c.notIn !== undefined) tests.push(`not in ${quoteList(c.notIn)}`);
    if (c.matches !== undefined) tests.push(`matches /${c.matches}/`);
    return `${subject} ${tests.join(' and ')}`;
  }
  if ('all' in c) return `all of (${c.all.map(describeCondition).join('; ')})`;
  if ('any' in c) return `any of (${c.any.map(describeCondition).join('; ')})`;
  return `not (${describeCondition(c.not)})`;
}

export function conditionFields(c: Condition): string[] {
  if (isFieldCondition(c)) return [c.field];
  if ('all' in c) return c.all.flatMap(conditionFields);
  if ('any' in c) return c.any.flatMap(conditionFields);
  return conditionFields(c.not);
}

/** Fields a condition needs that HiBob did not return for this employee. */
export function unreadableFields(c: Condition, employee: NormalisedEmployee): string[] {
  return [
    ...new Set(
      conditionFields(c).filter((f) => employee.fields[f] === undefined || employee.fields[f].value === undefined),
    ),
  ];
}
