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
    const reader = new AnswerReader();
    reader.push(text);
    return reader.end();
  }

  /**
   * The same, read from the answer's body as it arrives: each chunk is scanned and its finished
   * records checked before the next, so an answer of minutes ends with little left to do, and no
   * single step holds the event loop for long.
   */
  static async fromAnswerStream(body: AsyncIterable<Uint8Array>): Promise<EmployeeRecords> {
    const reader = new AnswerReader();
    let sinceTurn = 0;
    for await (const chunk of body) {
      reader.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      // Chunks already buffered resolve without a macrotask: let timers and sockets in now and then.
      sinceTurn += chunk.byteLength;
      if (sinceTurn >= BYTES_PER_TURN) {
        sinceTurn = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    return reader.end();
  }

  /** @internal For AnswerReader. */
  static ofAnswer(text: Buffer, bounds: Uint32Array): EmployeeRecords {
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

/** How much of a streamed answer is read between two turns of the event loop. */
const BYTES_PER_TURN = 4 * 1024 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const isSpace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/**
 * Finds the start and end offset of each element of the top-level `employees` array, one chunk
 * of the answer at a time, and parses each element once it is whole. Only the structure is
 * followed (strings, nesting); the top level must be an object whose `employees` member is an
 * array, and every element an object.
 */
class AnswerReader {
  private readonly chunks: Buffer[] = [];
  /** Offset in the answer of each chunk's first byte. */
  private readonly chunkStarts: number[] = [];
  private length = 0;
  private bounds = new Uint32Array(1024);
  private count = 0;
  /** Elements parsed so far. */
  private checked = 0;
  private started = false;
  private finished = false;
  private depth = 0;
  private inString = false;
  /** The byte before was a backslash inside a string. */
  private escaped = false;
  /** Where the last top-level key's string began and ended (quotes excluded). */
  private keyStart = -1;
  private keyEnd = -1;
  /** Depth 1 inside the top-level object: whether the next string is a key. */
  private expectKey = false;
  private inEmployees = false;
  private sawEmployees = false;
  private elementStart = -1;
  /** The last byte that is not white space, outside strings or in them. */
  private lastNonSpace = -1;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const offset = this.length;
    this.chunks.push(chunk);
    this.chunkStarts.push(offset);
    this.length += chunk.length;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      const at = offset + i;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (byte === BACKSLASH) this.escaped = true;
        else if (byte === QUOTE) {
          this.inString = false;
          if (this.depth === 1 && this.expectKey) {
            this.keyEnd = at;
            this.expectKey = false;
          }
        }
        this.lastNonSpace = at;
        continue;
      }
      if (isSpace(byte)) continue;
      if (this.finished) throw syntax('text after the answer', at);
      if (!this.started) {
        if (byte !== OPEN_OBJECT) throw syntax('expected an object', at);
        this.started = true;
      }
      if (this.inEmployees && this.depth === 2 && this.elementStart < 0 && byte !== COMMA && byte !== CLOSE_ARRAY)
        this.elementStart = at;
      this.structure(byte, at);
      this.lastNonSpace = at;
    }
    this.checkElements();
  }

  /** The records, once the answer is whole. */
  end(): EmployeeRecords {
    if (!this.started) throw syntax('expected an object', this.length);
    if (!this.finished) throw syntax('unexpected end', this.length);
    const text = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
    return EmployeeRecords.ofAnswer(text, this.bounds.slice(0, 2 * this.count));
  }

  private structure(byte: number, at: number): void {
    switch (byte) {
      case QUOTE:
        this.inString = true;
        if (this.depth === 1 && this.expectKey) this.keyStart = at + 1;
        break;
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        this.depth++;
        if (this.depth === 1) this.expectKey = true;
        else if (this.depth === 2 && byte === OPEN_ARRAY && this.keyIs('employees')) {
          if (this.sawEmployees) throw syntax('a second "employees" member', at);
          this.inEmployees = this.sawEmployees = true;
        }
        break;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        if (this.inEmployees && this.depth === 2) {
          // `[]` has no element; `[{…},]` has an empty one.
          if (this.elementStart >= 0 || this.count > 0) this.endElement(at);
          this.inEmployees = false;
        }
        this.depth--;
        if (this.depth === 0) {
          if (!this.sawEmployees) throw syntax('no "employees" array', at);
          this.finished = true;
        }
        break;
      case COMMA:
        if (this.depth === 1) this.expectKey = true;
        else if (this.inEmployees && this.depth === 2) this.endElement(at);
        break;
    }
  }

  /** An element ends at its last non-space byte before the comma or bracket at `at`. */
  private endElement(at: number): void {
    if (this.elementStart < 0) throw syntax('an empty element', at);
    if (2 * this.count + 2 > this.bounds.length) {
      const grown = new Uint32Array(this.bounds.length * 2);
      grown.set(this.bounds);
      this.bounds = grown;
    }
    this.bounds[2 * this.count] = this.elementStart;
    this.bounds[2 * this.count + 1] = this.lastNonSpace + 1;
    this.count++;
    this.elementStart = -1;
  }

  private keyIs(name: string): boolean {
    return (
      this.keyStart >= 0 &&
      this.keyEnd >= this.keyStart &&
      this.bytes(this.keyStart, this.keyEnd).toString('utf8') === name
    );
  }

  /** Parses the elements finished since the last chunk: a malformed one fails the read now. */
  private checkElements(): void {
    for (; this.checked < this.count; this.checked++) {
      const i = this.checked;
      const text = this.bytes(this.bounds[2 * i]!, this.bounds[2 * i + 1]!);
      const record: unknown = JSON.parse(text.toString('utf8'));
      if (record === null || typeof record !== 'object' || Array.isArray(record))
        throw new SyntaxError(`employee ${i} of the answer is not an object`);
    }
  }

  /** The answer's bytes from `start` to `end`, copied only when they span chunks. */
  private bytes(start: number, end: number): Buffer {
    let low = 0;
    let high = this.chunkStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.chunkStarts[middle]! <= start) low = middle;
      else high = middle - 1;
    }
    const first = this.chunks[low]!;
    const from = start - this.chunkStarts[low]!;
    if (end - this.chunkStarts[low]! <= first.length) return first.subarray(from, end - this.chunkStarts[low]!);
    const pieces = [first.subarray(from)];
    let gathered = first.length - from;
    for (let c = low + 1; gathered < end - start; c++) {
      const piece = this.chunks[c]!.subarray(0, Math.min(this.chunks[c]!.length, end - start - gathered));
      pieces.push(piece);
      gathered += piece.length;
    }
    return Buffer.concat(pieces, end - start);
  }
}

const syntax = (what: string, at: number) => new SyntaxError(`${what} at byte ${at} of the answer`);
