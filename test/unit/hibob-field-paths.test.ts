import { HibobFieldPaths } from '../../src/activities/hibob-field-paths';

const COST_CENTRE = 'custom.field_42';
const FIELDS = ['root.id', 'work.title', COST_CENTRE];
/** A record as HiBob serves it: the custom field nested under its category. */
const record = { id: '1', work: { title: null }, custom: { category_7: { field_42: 'CC-1' } } };
const filedAtId = { id: '1', work: { title: 'Engineer' } };
const METADATA = [
  { id: 'root.id', jsonPath: 'id' },
  { id: 'work.title', jsonPath: 'work.title' },
  { id: COST_CENTRE, jsonPath: 'custom.category_7.field_42' },
  { id: 'custom.field_99', jsonPath: 'custom.category_7.field_99' },
];

describe('HibobFieldPaths', () => {
  it('reads the metadata when a record lacks a requested field, and keeps only the mapped fields filed elsewhere', async () => {
    let reads = 0;
    const paths = new HibobFieldPaths(async () => (reads++, METADATA), FIELDS);
    expect(await paths.for([record])).toEqual({ [COST_CENTRE]: 'custom.category_7.field_42' });
    // Within ten minutes of that read, no other.
    expect(await paths.for([record])).toEqual({ [COST_CENTRE]: 'custom.category_7.field_42' });
    expect(reads).toBe(1);
  });

  it('never reads the metadata while records hold every requested field at its id', async () => {
    let reads = 0;
    const paths = new HibobFieldPaths(async () => (reads++, METADATA), ['root.id', 'work.title']);
    expect(await paths.for([filedAtId, record])).toEqual({});
    expect(reads).toBe(0);
  });

  it('goes on without paths when the metadata cannot be read, and asks again only ten minutes later', async () => {
    let now = 0;
    let reads = 0;
    const paths = new HibobFieldPaths(
      async () => {
        reads += 1;
        if (reads === 1) throw new Error('403 forbidden');
        return METADATA;
      },
      FIELDS,
      () => now,
    );
    expect(await paths.for([record])).toEqual({});
    now += 9 * 60_000;
    expect(await paths.for([record])).toEqual({});
    expect(reads).toBe(1);
    now += 60_000;
    expect(await paths.for([record])).toEqual({ [COST_CENTRE]: 'custom.category_7.field_42' });
    expect(reads).toBe(2);
  });
});
