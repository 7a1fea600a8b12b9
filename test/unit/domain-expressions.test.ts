import {
  transformSchema,
  valueExpressionSchema,
  conditionSchema,
  type Transform,
} from '../../src/config/mapping-schema';
import {
  applyTransform,
  applyTransforms,
  conditionFields,
  describeCondition,
  describeExpression,
  evaluateCondition,
  evaluateExpression,
  expressionFields,
  fieldText,
  unreadableFields,
} from '../../src/domain/expressions';
import { parseTemplate, templateFields } from '../../src/domain/template';
import type { NormalisedEmployee, SourceField } from '../../src/domain/types';

function person(fields: Record<string, SourceField>): NormalisedEmployee {
  return { id: '1', email: 'a@example.com', fields, lifecycle: {} };
}

const t = (input: unknown): Transform => transformSchema.parse(input);
const expr = (input: unknown) => valueExpressionSchema.parse(input);
const cond = (input: unknown) => conditionSchema.parse(input);

describe('transforms', () => {
  it.each([
    ['trim', '  Jane Doe \t', 'Jane Doe'],
    ['lowercase', 'Jane.DOE@Example.COM', 'jane.doe@example.com'],
    ['uppercase', 'gb', 'GB'],
    ['titlecase', "jean-luc o'NEIL de la FONTAINE", "Jean-Luc O'Neil De La Fontaine"],
    ['titlecase', 'élodie   ÆSIR', 'Élodie   Æsir'],
    ['collapseSpaces', '  Head   of\tSales \n', 'Head of Sales'],
  ])('%s: %j → %j', (name, input, output) => {
    expect(applyTransform(input, t(name))).toBe(output);
  });

  it('map: exact, case-insensitive, default, and pass-through', () => {
    const exact = t({ map: { France: 'fr', Germany: 'de' } });
    expect(applyTransform('France', exact)).toBe('fr');
    expect(applyTransform('france', exact)).toBe('france');
    const relaxed = t({ map: { France: 'fr', Germany: 'de' }, caseInsensitive: true, default: 'en' });
    expect(applyTransform('FRANCE', relaxed)).toBe('fr');
    expect(applyTransform('Spain', relaxed)).toBe('en');
  });

  it('replace: every occurrence by default, groups, and explicit flags', () => {
    expect(applyTransform('+44 (0) 20 7946 0000', t({ replace: { pattern: '[^+\\d]', with: '' } }))).toBe(
      '+4402079460000',
    );
    expect(applyTransform('Doe, Jane', t({ replace: { pattern: '^(\\w+), (\\w+)$', with: '$2 $1' } }))).toBe(
      'Jane Doe',
    );
    expect(applyTransform('a-b-c', t({ replace: { pattern: '-', with: '+', flags: '' } }))).toBe('a+b-c');
    expect(applyTransform('ACME acme', t({ replace: { pattern: 'acme', with: 'Acme', flags: 'gi' } }))).toBe(
      'Acme Acme',
    );
  });

  it('replace: runs the same way twice (no regex state leaks between values)', () => {
    const tr = t({ replace: { pattern: 'o', with: '0' } });
    expect(applyTransform('foo', tr)).toBe('f00');
    expect(applyTransform('boo', tr)).toBe('b00');
  });

  it('date: formats ISO dates and leaves anything else alone', () => {
    expect(applyTransform('2021-05-04', t({ date: { format: 'DD/MM/YYYY' } }))).toBe('04/05/2021');
    expect(applyTransform('2021-05-04', t({ date: { format: 'MM-DD-YYYY' } }))).toBe('05-04-2021');
    expect(applyTransform('2023-05-19T11:13:40.175639', t({ date: { format: 'YYYY.MM.DD' } }))).toBe('2023.05.19');
    expect(applyTransform('04/05/2021', t({ date: { format: 'YYYY-MM-DD' } }))).toBe('04/05/2021');
  });

  it('truncate: counts characters, not UTF-16 units', () => {
    expect(applyTransform('Engineering', t({ truncate: 3 }))).toBe('Eng');
    expect(applyTransform('👩‍💻ab', t({ truncate: 2 }))).toBe('👩\u200d');
    expect(applyTransform('ab', t({ truncate: 5 }))).toBe('ab');
  });

  it('a chain applies in order; unreadable and empty values pass through untouched', () => {
    const chain = [t('trim'), t('lowercase'), t({ replace: { pattern: '\\s+', with: '.' } })];
    expect(applyTransforms('  Jane Doe ', chain)).toBe('jane.doe');
    expect(applyTransforms(undefined, chain)).toBeUndefined();
    expect(applyTransforms(null, chain)).toBeNull();
    expect(applyTransforms('x', undefined)).toBe('x');
  });
});

describe('value expressions', () => {
  const jane = person({
    'root.firstName': { value: ' Jane ' },
    'root.surname': { value: 'Doe' },
    'work.title': { value: '101', label: 'Software Engineer' },
    'work.department': { value: '209192163', label: 'Engineering' },
    'work.secondLevelManager': { value: null, label: null },
    'work.startDate': { value: '2021-05-04', label: '04/05/2021' },
    'work.employeeIdInCompany': { value: 1042 },
    'about.hobbies': { value: ['1', '2'], label: 'Chess, Running' },
    'about.empty': { value: [] },
    'work.blank': { value: '   ' },
    'work.noLabel': { value: 'raw' },
  });

  it('from: machine value, label, transforms', () => {
    expect(evaluateExpression(expr({ from: 'work.department' }), jane)).toBe('209192163');
    expect(evaluateExpression(expr({ from: 'work.department', label: true }), jane)).toBe('Engineering');
    expect(evaluateExpression(expr({ from: 'root.firstName', transforms: ['trim', 'uppercase'] }), jane)).toBe('JANE');
    expect(evaluateExpression(expr({ from: 'work.employeeIdInCompany' }), jane)).toBe('1042');
    expect(evaluateExpression(expr({ from: 'about.hobbies' }), jane)).toBe('1, 2');
    expect(evaluateExpression(expr({ from: 'about.hobbies', label: true }), jane)).toBe('Chess, Running');
    expect(evaluateExpression(expr({ from: 'work.noLabel', label: true }), jane)).toBe('raw');
  });

  it('from: unreadable stays undefined (even with a default); empty is null or the default', () => {
    expect(evaluateExpression(expr({ from: 'work.missing', transforms: ['trim'] }), jane)).toBeUndefined();
    expect(evaluateExpression(expr({ from: 'work.missing', default: 'n/a' }), jane)).toBeUndefined();
    expect(evaluateExpression(expr({ from: 'work.secondLevelManager', transforms: ['trim'] }), jane)).toBeNull();
    expect(evaluateExpression(expr({ from: 'work.secondLevelManager', default: 'none' }), jane)).toBe('none');
    expect(evaluateExpression(expr({ from: 'about.empty' }), jane)).toBeNull();
    expect(evaluateExpression(expr({ from: 'work.blank' }), jane)).toBeNull();
    expect(evaluateExpression(expr({ from: 'work.blank', default: 'x' }), jane)).toBe('x');
    expect(
      evaluateExpression(expr({ from: 'root.firstName', transforms: [{ replace: { pattern: '.', with: '' } }] }), jane),
    ).toBeNull();
  });

  it('template: combines fields and labels; null parts are empty; one unreadable part makes it unknown', () => {
    expect(
      evaluateExpression(
        expr({ template: '{root.firstName|label} {root.surname}', transforms: ['collapseSpaces'] }),
        jane,
      ),
    ).toBe('Jane Doe');
    expect(evaluateExpression(expr({ template: '{work.title|label} ({work.department|label})' }), jane)).toBe(
      'Software Engineer (Engineering)',
    );
    expect(
      evaluateExpression(
        expr({ template: 'Started {work.startDate}', transforms: [{ date: { format: 'DD/MM/YYYY' } }] }),
        jane,
      ),
    ).toBe('Started 2021-05-04');
    expect(evaluateExpression(expr({ template: '{work.secondLevelManager}|{root.surname}' }), jane)).toBe('|Doe');
    expect(evaluateExpression(expr({ template: '{work.secondLevelManager}' }), jane)).toBeNull();
    expect(evaluateExpression(expr({ template: '{root.surname} {work.missing}' }), jane)).toBeUndefined();
    expect(evaluateExpression(expr({ template: '{{literal}} {root.surname}' }), jane)).toBe('{literal} Doe');
  });

  it('value: a constant', () => {
    expect(evaluateExpression(expr({ value: 'en' }), jane)).toBe('en');
    expect(evaluateExpression(expr({ value: 42 }), jane)).toBe('42');
  });

  it('describes itself and names the fields it reads', () => {
    expect(describeExpression(expr({ from: 'root.email', transforms: ['trim', 'lowercase'] }))).toBe(
      'root.email | trim | lowercase',
    );
    expect(describeExpression(expr({ from: 'work.title', label: true, default: 'Staff' }))).toBe(
      'work.title (label) | default "Staff"',
    );
    expect(
      describeExpression(
        expr({ template: '{a} {b}', transforms: [{ truncate: 5 }, { date: { format: 'DD/MM/YYYY' } }] }),
      ),
    ).toBe('template "{a} {b}" | truncate(5) | date(DD/MM/YYYY)');
    expect(
      describeExpression(
        expr({ from: 'x', transforms: [{ map: { a: 'b' }, default: 'z' }, { replace: { pattern: 'a', with: 'b' } }] }),
      ),
    ).toBe('x | map(1 values, default "z") | replace(/a/g → "b")');
    expect(describeExpression(expr({ value: 'en' }))).toBe('constant "en"');
    expect(expressionFields(expr({ template: '{root.firstName} {work.title|label} {root.firstName}' }))).toEqual([
      'root.firstName',
      'work.title',
      'root.firstName',
    ]);
    expect(expressionFields(expr({ value: 'x' }))).toEqual([]);
  });

  it('fieldText reads label or value', () => {
    expect(fieldText(undefined)).toBeUndefined();
    expect(fieldText({ value: true })).toBe('true');
    expect(fieldText({ value: '1', label: null }, true)).toBeNull();
  });
});

describe('templates', () => {
  it('parses text, placeholders, modifiers and escaped braces', () => {
    expect(parseTemplate('Hi {root.firstName}, {work.title | label}! {{x}}')).toEqual([
      { text: 'Hi ' },
      { field: 'root.firstName', label: false },
      { text: ', ' },
      { field: 'work.title', label: true },
      { text: '! {x}' },
    ]);
    expect(templateFields('{a}{b|label}')).toEqual(['a', 'b']);
    expect(parseTemplate('')).toEqual([]);
  });
});

describe('conditions', () => {
  const p = person({
    'work.department': { value: '209192163', label: 'Engineering ' },
    'work.site': { value: 'London' },
    'work.empty': { value: null },
    'about.hobbies': { value: ['chess', 'running'] },
    'about.none': { value: [] },
    'work.weeklyHours': { value: 40 },
  });
  const yes = cond({ field: 'work.site', equals: 'London' });
  const no = cond({ field: 'work.site', equals: 'Paris' });
  const unknown = cond({ field: 'work.missing', equals: 'x' });

  it.each([
    [{ field: 'work.department', equals: '209192163' }, true],
    [{ field: 'work.department', equals: 209192163 }, true],
    [{ field: 'work.department', label: true, equals: 'engineering' }, true],
    [{ field: 'work.department', label: true, equals: 'engineering', caseSensitive: true }, false],
    [{ field: 'work.department', label: true, equals: ['Sales', 'Engineering'] }, true],
    [{ field: 'work.site', in: ['Paris', 'london'] }, true],
    [{ field: 'work.site', in: ['Paris'] }, false],
    [{ field: 'work.site', notIn: ['Paris'] }, true],
    [{ field: 'work.site', notIn: ['LONDON'] }, false],
    [{ field: 'work.site', matches: '^lon' }, true],
    [{ field: 'work.site', matches: '^lon', caseSensitive: true }, false],
    [{ field: 'work.site', exists: true }, true],
    [{ field: 'work.site', exists: false }, false],
    [{ field: 'work.empty', exists: false }, true],
    [{ field: 'work.empty', exists: true }, false],
    [{ field: 'work.empty', equals: '' }, false],
    [{ field: 'work.empty', notIn: ['x'] }, true],
    [{ field: 'work.empty', matches: '.*' }, false],
    [{ field: 'about.hobbies', equals: 'running' }, true],
    [{ field: 'about.hobbies', notIn: ['chess'] }, false],
    [{ field: 'about.none', exists: false }, true],
    [{ field: 'work.weeklyHours', equals: 40 }, true],
    [{ field: 'work.site', exists: true, equals: 'Paris' }, false],
    [{ field: 'work.missing', exists: false }, undefined],
    [{ field: 'work.missing', notIn: ['x'] }, undefined],
  ])('%j → %s', (c, expected) => {
    expect(evaluateCondition(cond(c), p)).toBe(expected);
  });

  it('all / any / not follow three-valued logic', () => {
    expect(evaluateCondition({ all: [yes, yes] }, p)).toBe(true);
    expect(evaluateCondition({ all: [yes, no] }, p)).toBe(false);
    expect(evaluateCondition({ all: [unknown, no] }, p)).toBe(false);
    expect(evaluateCondition({ all: [unknown, yes] }, p)).toBeUndefined();
    expect(evaluateCondition({ any: [no, yes] }, p)).toBe(true);
    expect(evaluateCondition({ any: [unknown, yes] }, p)).toBe(true);
    expect(evaluateCondition({ any: [unknown, no] }, p)).toBeUndefined();
    expect(evaluateCondition({ any: [no, no] }, p)).toBe(false);
    expect(evaluateCondition({ not: yes }, p)).toBe(false);
    expect(evaluateCondition({ not: no }, p)).toBe(true);
    expect(evaluateCondition({ not: unknown }, p)).toBeUndefined();
    expect(evaluateCondition({ not: { any: [{ all: [yes, { not: no }] }] } }, p)).toBe(false);
  });

  it('describes itself and lists its fields', () => {
    const c = cond({
      all: [
        { field: 'work.department', label: true, equals: ['Sales', 'Engineering'] },
        { not: { field: 'work.site', in: ['Paris'], notIn: ['Rome'], matches: '^L', exists: true } },
        {
          any: [
            { field: 'work.empty', equals: 'x' },
            { field: 'work.missing', exists: false },
          ],
        },
      ],
    });
    expect(describeCondition(c)).toBe(
      'all of (work.department (label) equals one of ["Sales", "Engineering"]; not (work.site is set and in ["Paris"] and not in ["Rome"] and matches /^L/); any of (work.empty equals "x"; work.missing is empty))',
    );
    expect(conditionFields(c)).toEqual(['work.department', 'work.site', 'work.empty', 'work.missing']);
    expect(unreadableFields(c, p)).toEqual(['work.missing']);
  });
});
