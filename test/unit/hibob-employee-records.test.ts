import { EmployeeRecords } from '../../src/clients/hibob/employee-records';

const answer = (text: string) => EmployeeRecords.fromAnswer(Buffer.from(text));

describe('employee records of a people search', () => {
  const employees = [
    { id: '1', email: 'a@example.com', work: { reportsTo: { id: '2' } }, '/work/reportsTo': { id: '2' } },
    { id: '2', displayName: 'Zoë "Z" O\'Neil, [admin] {x}', humanReadable: { work: { title: 'Chef \\ cook' } } },
    { id: '3', tags: [[], {}, ['a', { b: [1, 2] }]], note: null },
  ];

  it('reads every record of an answer as JSON.parse reads the whole', () => {
    for (const text of [
      JSON.stringify({ employees }),
      JSON.stringify({ employees }, null, 2),
      JSON.stringify({ before: { employees: [9] }, employees, after: [{ id: 'x' }] }),
    ]) {
      const records = answer(text);
      expect(records).toHaveLength(3);
      expect([...records]).toEqual(employees);
      expect(records.at(1)).toEqual(employees[1]);
      expect(records.toAnswer().toString()).toBe(text);
    }
  });

  it('reads an empty population', () => {
    expect(answer('{"employees":[]}')).toHaveLength(0);
    expect(answer(' { "employees" : [ ] } ')).toHaveLength(0);
  });

  it('refuses what is not an answer with employees', () => {
    for (const text of [
      '[]',
      '{"people":[]}',
      '{"employees":{}}',
      '{"employees":[{"id":"1"},]}',
      '{"employees":[{"id":"1"},,{"id":"2"}]}',
      '{"employees":[1]}',
      '{"employees":[{"id":"1"}',
      '{"employees":[{"id":"1"}]} x',
      '{"employees":[{"id":"1" "x":2}]}',
    ])
      expect(() => answer(text)).toThrow(SyntaxError);
  });

  it('keeps records given as objects, and serialises them as an answer', () => {
    const records = EmployeeRecords.of(employees);
    expect(records).toHaveLength(3);
    expect(records.at(2)).toBe(employees[2]);
    expect([...answer(records.toAnswer().toString())]).toEqual(employees);
    expect(() => records.at(3)).toThrow(RangeError);
  });
});
