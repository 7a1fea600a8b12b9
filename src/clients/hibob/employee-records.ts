/**
 * The employee records of a people search, kept as the bytes HiBob sent and parsed one at a time.
 *
 * A search returns everyone at once: at 100,000 people about 150 MB of JSON, which parsed into
 * objects would hold about as much again, and be stored by serialising it all once more. Kept
 * as received, the answer is stored as it is, and planning parses each record when it comes to
 * it and lets it go.
 */
import { createHash } from 'node:crypto';

/** One record per employee, in HiBob's order. */
export class EmployeeRecords implements Iterable<Record<string, unknown>> {
  private constructor(
    /** The JSON text the records are in, as UTF-8; undefined when they were given as objects. */
    private readonly text: Buffer | undefined,
    /** For each record, its start and end offset in `text`. */
    private readonly bounds: Uint32Array,
    private readonly objects: readonly Record<string, unknown>[] | undefined,
  ) {}

  /** Records already parsed (a HiBob report's rows, tests). */
  static of(records: readonly Record<string, unknown>[]): EmployeeRecords {
    return new EmployeeRecords(undefined, new Uint32Array(0), records);
  }

  /**
   * The records of a JSON answer shaped `{"employees": [...]}` (HiBob's search, and the stored
   * snapshot). Every record is parsed once here, so a malformed answer fails now, not halfway
   * through planning. Throws a SyntaxError when the text is not such an answer.
   */
  static fromAnswer(text: Buffer): EmployeeRecords {
    const bounds = recordBounds(text);
    for (let i = 0; i < bounds.length; i += 2) {
      const record: unknown = JSON.parse(text.toString('utf8', bounds[i], bounds[i + 1]));
      if (record === null || typeof record !== 'object' || Array.isArray(record))
        throw new SyntaxError(`employee ${i / 2} of the answer is not an object`);
    }
    return new EmployeeRecords(text, bounds, undefined);
  }

  /** Whether the records are kept as text (an answer), and so have digests. */
  get keepsText(): boolean {
    return this.text !== undefined;
  }

  get length(): number {
    return this.objects ? this.objects.length : this.bounds.length / 2;
  }

  /** The record at `index`: a fresh object each time for an answer kept as text. */
  at(index: number): Record<string, unknown> {
    if (index < 0 || index >= this.length) throw new RangeError(`no employee record ${index}`);
    if (this.objects) return this.objects[index]!;
    return JSON.parse(this.text!.toString('utf8', this.bounds[2 * index], this.bounds[2 * index + 1])) as Record<
      string,
      unknown
    >;
  }

  /**
   * The SHA-256 of the record's text as received: planning takes a record with a known digest for
   * the same record, so the hash must resist collisions made on purpose (HiBob's text is written
   * by people). Records given as objects have none.
   */
  digestAt(index: number): string | undefined {
    if (index < 0 || index >= this.length) throw new RangeError(`no employee record ${index}`);
    if (!this.text) return undefined;
    return createHash('sha256')
      .update(this.text.subarray(this.bounds[2 * index], this.bounds[2 * index + 1]))
      .digest('base64');
  }

  /** The positions of the records, in order. */
  *keys(): IterableIterator<number> {
    for (let i = 0; i < this.length; i++) yield i;
  }

  *[Symbol.iterator](): Iterator<Record<string, unknown>> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }

  /** The records as `{"employees": [...]}` JSON: the answer as received when there is one. */
  toAnswer(): Buffer {
    return this.text ?? Buffer.from(JSON.stringify({ employees: this.objects }));
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const isSpace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/**
 * Start and end offsets of each element of the top-level `employees` array. Only the structure
 * is followed (strings, nesting); each element is checked by parsing it afterwards, and the top
 * level must be an object whose `employees` member is an array.
 */
function recordBounds(text: Buffer): Uint32Array {
  const syntax = (what: string, at: number) => new SyntaxError(`${what} at byte ${at} of the answer`);
  let bounds = new Uint32Array(1024);
  let count = 0;
  let depth = 0;
  let inString = false;
  /** Where the last top-level key's string began and ended (quotes excluded). */
  let keyStart = -1;
  let keyEnd = -1;
  /** Depth 1 inside the top-level object: whether the next string is a key. */
  let expectKey = false;
  let inEmployees = false;
  let sawEmployees = false;
  let elementStart = -1;
  // An element ends at its last non-space byte before the comma or bracket.
  const endElement = (end: number) => {
    if (elementStart < 0) throw syntax('an empty element', end);
    let last = end;
    while (isSpace(text[last - 1]!)) last--;
    if (2 * count + 2 > bounds.length) {
      const grown = new Uint32Array(bounds.length * 2);
      grown.set(bounds);
      bounds = grown;
    }
    bounds[2 * count] = elementStart;
    bounds[2 * count + 1] = last;
    count++;
    elementStart = -1;
  };
  let i = 0;
  while (i < text.length && isSpace(text[i]!)) i++;
  if (text[i] !== OPEN_OBJECT) throw syntax('expected an object', i);
  for (; i < text.length; i++) {
    const byte = text[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) {
        inString = false;
        if (depth === 1 && expectKey) {
          keyEnd = i;
          expectKey = false;
        }
      }
      continue;
    }
    if (inEmployees && depth === 2 && elementStart < 0 && !isSpace(byte) && byte !== COMMA && byte !== CLOSE_ARRAY)
      elementStart = i;
    switch (byte) {
      case QUOTE:
        inString = true;
        if (depth === 1 && expectKey) keyStart = i + 1;
        break;
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        depth++;
        if (depth === 1) expectKey = true;
        else if (depth === 2 && byte === OPEN_ARRAY && text.toString('utf8', keyStart, keyEnd) === 'employees') {
          if (sawEmployees) throw syntax('a second "employees" member', i);
          inEmployees = sawEmployees = true;
        }
        break;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        if (inEmployees && depth === 2) {
          // `[]` has no element; `[{…},]` has an empty one.
          if (elementStart >= 0 || count > 0) endElement(i);
          inEmployees = false;
        }
        depth--;
        if (depth === 0) {
          if (!sawEmployees) throw syntax('no "employees" array', i);
          for (let rest = i + 1; rest < text.length; rest++)
            if (!isSpace(text[rest]!)) throw syntax('text after the answer', rest);
          return bounds.slice(0, 2 * count);
        }
        break;
      case COMMA:
        if (depth === 1) expectKey = true;
        else if (inEmployees && depth === 2) endElement(i);
        break;
    }
  }
  throw syntax('unexpected end', text.length);
}
