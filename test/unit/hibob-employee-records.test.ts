import { EmployeeRecords } from '../../src/clients/hibob/employee-records';

const answer = (text: string) => EmployeeRecords.fromAnswer(Buffer.from(text));

/** The text as a body arriving in pieces of the given sizes (the last size repeats). */
async function* arriving(text: string, sizes: number[]): AsyncIterable<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let at = 0, n = 0; at < bytes.length; n++) {
    const size = sizes[Math.min(n, sizes.length - 1)]!;
    yield new Uint8Array(bytes.subarray(at, at + size));
    at += size;
  }
}

/** Splits that cut keys, strings, escapes, multi-byte characters and the space between records. */
const SPLITS = [[1], [2], [3], [7], [5, 1, 64], [13, 2, 1, 31]];

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

  it('reads an answer arriving in pieces as it reads the whole', async () => {
    const texts = [
      JSON.stringify({ employees }),
      JSON.stringify({ employees }, null, 2),
      JSON.stringify({ before: { employees: [9] }, employees, after: [{ id: 'x' }] }),
      JSON.stringify({ employees: [{ id: '4', name: 'Zoë Ångström \\ "q" 日本' }, ...employees] }, null, 1),
      // A lone quote before structure, and a string ending in a backslash.
      JSON.stringify({
        employees: [
          { id: '5', note: 'say "}, {"', path: 'C:\\' },
          { id: '6', x: '\\"' },
        ],
      }),
      '{"employees":[]}',
    ];
    for (const text of texts)
      for (const sizes of SPLITS) {
        const whole = answer(text);
        const streamed = await EmployeeRecords.fromAnswerStream(arriving(text, sizes));
        expect(streamed).toHaveLength(whole.length);
        expect([...streamed]).toEqual([...whole]);
        expect([...streamed.keys()].map((i) => streamed.digestAt(i))).toEqual(
          [...whole.keys()].map((i) => whole.digestAt(i)),
        );
        expect(streamed.toAnswer().toString()).toBe(text);
      }
  });

  it('refuses a malformed answer arriving in pieces, as it refuses the whole', async () => {
    for (const text of [
      '{"employees":[{"id":"1"},]}',
      '{"employees":[1]}',
      '{"employees":[{"id":"1"}',
      '{"employees":[{"id":"1"}]} x',
      '',
    ])
      for (const sizes of SPLITS) {
        const message = (() => {
          try {
            answer(text);
          } catch (err) {
            return (err as Error).message;
          }
          return 'accepted';
        })();
        await expect(EmployeeRecords.fromAnswerStream(arriving(text, sizes))).rejects.toThrow(message);
      }
  });

  it('keeps records given as objects, and serialises them as an answer', () => {
    const records = EmployeeRecords.of(employees);
    expect(records).toHaveLength(3);
    expect(records.at(2)).toBe(employees[2]);
    expect([...answer(records.toAnswer().toString())]).toEqual(employees);
    expect(() => records.at(3)).toThrow(RangeError);
  });
});
