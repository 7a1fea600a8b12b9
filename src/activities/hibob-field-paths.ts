/**
 * Where HiBob files a connection's mapped fields when that is not where their id says: a custom
 * field `custom.field_…` sits under its category, and only there does an emptied value read as
 * `null` (clear it) rather than missing (leave it), and only there is its label. The paths come
 * from `GET /company/people/fields`, read when a record lacks a requested field at its path, then
 * at most every ten minutes per connection (a field may move to another category, or be one the
 * service user may not see); a mapping without such fields never asks.
 */
import { log } from '@temporalio/activity';
import { defaultJsonPath, fieldsNotFound } from '../domain/normalise';

export type FieldPaths = Readonly<Record<string, string>>;

/** The activity's logger; a caller outside any activity (a tool, a test) has none to write to. */
function warn(message: string, meta: Record<string, unknown>): void {
  try {
    log.warn(message, meta);
  } catch {
    // Not in an activity.
  }
}

/** How long after reading the metadata a record that still lacks a field is taken as is. */
const REREAD_AFTER_MS = 10 * 60_000;
/** Records of a full sync's snapshot looked at for missing fields; each one that lacks some costs nothing more. */
const RECORDS_CHECKED = 100;

export class HibobFieldPaths {
  private paths: FieldPaths = {};
  private readAt?: number;
  private reading?: Promise<void>;

  constructor(
    private readonly listFields: () => Promise<ReadonlyArray<{ id: string; jsonPath?: string }>>,
    /** The field ids the mapping requests. */
    private readonly fieldIds: readonly string[],
    private readonly now: () => number = Date.now,
  ) {}

  /** The paths known, after reading the metadata again when one of `records` lacks a requested field. */
  async for(records: Iterable<Record<string, unknown>>): Promise<FieldPaths> {
    if (this.readAt !== undefined && this.now() - this.readAt < REREAD_AFTER_MS) return this.paths;
    let checked = 0;
    for (const record of records) {
      if (fieldsNotFound(record, this.fieldIds, this.paths).length > 0) {
        await this.read();
        break;
      }
      if (++checked >= RECORDS_CHECKED) break;
    }
    return this.paths;
  }

  private read(): Promise<void> {
    this.reading ??= this.listFields()
      .then(
        (fields) => {
          const wanted = new Set(this.fieldIds);
          const paths: Record<string, string> = {};
          for (const { id, jsonPath } of fields)
            if (wanted.has(id) && jsonPath && jsonPath !== defaultJsonPath(id)) paths[id] = jsonPath;
          this.paths = paths;
        },
        (err: unknown) => {
          // The fields' values still read where their id says; only emptied ones stay unknown.
          warn('HiBob field metadata could not be read; fields filed under a category read from slash keys', {
            error: err instanceof Error ? err.message : String(err),
          });
        },
      )
      .finally(() => {
        this.readAt = this.now();
        this.reading = undefined;
      });
    return this.reading;
  }
}
