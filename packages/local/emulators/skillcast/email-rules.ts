/**
 * Skillcast's email rules (bulk upload and, by our assumption, SCIM): no whitespace anywhere
 * and no apostrophes, so e.g. `e.o'connor@example.com` is refused. Returns why an address is
 * refused, or undefined when it is acceptable.
 */
export function emailProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (/\s/u.test(value)) return 'contains a space';
  if (/['\u2018\u2019\u02bc`]/u.test(value)) return 'contains an apostrophe';
  const at = value.indexOf('@');
  if (at <= 0 || at !== value.lastIndexOf('@') || at === value.length - 1) return 'is not an email address';
  return undefined;
}
