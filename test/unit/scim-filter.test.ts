import { eqFilter, filterValue, isAttributeName, isAttributePath } from '../../src/clients/scim';

describe('SCIM filter building', () => {
  it('quotes strings as JSON strings, escaping quotes, backslashes and control characters', () => {
    expect(filterValue('jane.doe@example.com')).toBe('"jane.doe@example.com"');
    expect(filterValue('say "hi"')).toBe('"say \\"hi\\""');
    expect(filterValue('back\\slash')).toBe('"back\\\\slash"');
    expect(filterValue('tab\there\nnew')).toBe('"tab\\there\\nnew"');
    expect(filterValue('\u0001')).toBe('"\\u0001"');
    expect(filterValue('Zoë Åström 山田')).toBe('"Zoë Åström 山田"');
    expect(filterValue('')).toBe('""');
  });

  it('round-trips every escaped string through a JSON reader, as servers parse compValue', () => {
    for (const value of [
      'a"b',
      'a\\"b',
      '\\',
      '"',
      'x) or (userName pr',
      "e.o'connor@example.com",
      '\u2028\u2029',
      '\ud83d\ude00',
    ]) {
      expect(JSON.parse(filterValue(value))).toBe(value);
    }
  });

  it('writes booleans, null and numbers bare, and refuses non-finite numbers', () => {
    expect(filterValue(true)).toBe('true');
    expect(filterValue(false)).toBe('false');
    expect(filterValue(null)).toBe('null');
    expect(filterValue(42)).toBe('42');
    expect(filterValue(-1.5)).toBe('-1.5');
    expect(() => filterValue(Number.NaN)).toThrow(RangeError);
    expect(() => filterValue(Infinity)).toThrow(RangeError);
  });

  it('builds eq filters on valid attribute paths only', () => {
    expect(eqFilter('userName', 'o"brien@example.com')).toBe('userName eq "o\\"brien@example.com"');
    expect(eqFilter('externalId', '3332883894235038486')).toBe('externalId eq "3332883894235038486"');
    expect(eqFilter('emails.value', 'a@b.c')).toBe('emails.value eq "a@b.c"');
    expect(eqFilter('active', true)).toBe('active eq true');
    expect(eqFilter('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber', '10')).toBe(
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "10"',
    );
    expect(() => eqFilter('userName eq "x" or userName', 'y')).toThrow(RangeError);
    expect(() => eqFilter('Start Date', 'y')).toThrow(RangeError);
    expect(() => eqFilter('', 'y')).toThrow(RangeError);
  });

  it('recognises attribute names and paths per the RFC 7644 grammar', () => {
    expect(isAttributeName('userName')).toBe(true);
    expect(isAttributeName('cost-center_2')).toBe(true);
    expect(isAttributeName('$ref')).toBe(true);
    expect(isAttributeName('Start Date')).toBe(false);
    expect(isAttributeName('2fa')).toBe(false);
    expect(isAttributeName('')).toBe(false);
    expect(isAttributePath('name.givenName')).toBe(true);
    expect(isAttributePath('name.givenName.extra')).toBe(false);
    expect(isAttributePath('urn:ietf:params:scim:schemas:core:2.0:User:name.familyName')).toBe(true);
    expect(isAttributePath('urn:')).toBe(false);
    expect(isAttributePath('urn:x:y:Start Date')).toBe(false);
  });
});
