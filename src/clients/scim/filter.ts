/**
 * Building SCIM filters (RFC 7644 §3.4.2.2). Values are written as the grammar's `compValue`:
 * JSON literals, so strings are double-quoted with `"`, `\` and control characters escaped.
 * An email such as `o"brien@example.com` or a name with a backslash therefore reaches the
 * server as the exact value, never as filter syntax.
 */

export type FilterValue = string | number | boolean | null;

const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/u;

/** `ATTRNAME = ALPHA *(nameChar)`, plus `$ref`, which RFC 7643 uses for references. */
export function isAttributeName(name: string): boolean {
  return name === '$ref' || ATTRIBUTE_NAME.test(name);
}

/**
 * `attrPath = [URI ":"] ATTRNAME *1subAttr`, e.g. `userName`, `name.givenName` or
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`.
 */
export function isAttributePath(path: string): boolean {
  let rest = path;
  if (/^urn:/iu.test(path)) {
    const colon = path.lastIndexOf(':');
    rest = path.slice(colon + 1);
    if (colon <= 'urn:'.length || rest === '') return false;
  }
  const parts = rest.split('.');
  return parts.length <= 2 && parts.every(isAttributeName);
}

/** A value as it appears on the right of a comparison: `"jane"`, `42`, `true`, `null`. */
export function filterValue(value: FilterValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`A filter cannot compare with ${value}`);
    return String(value);
  }
  // JSON.stringify writes exactly the JSON string grammar the filter grammar refers to.
  return JSON.stringify(value);
}

/** `<attrPath> eq <value>`; throws on a path that is not a valid attribute path. */
export function eqFilter(attributePath: string, value: FilterValue): string {
  if (!isAttributePath(attributePath)) throw new RangeError(`"${attributePath}" is not a SCIM attribute path`);
  return `${attributePath} eq ${filterValue(value)}`;
}
