/**
 * The preview of a HiBob report feed against one Skillcast user domain, as Skillcast's native
 * HiBob connection and bulk upload present it: who will be added, reactivated, updated and
 * archived. Pure: no I/O, no clock; same input, same output.
 */
import { emailProblem } from './email-rules';

export type FeedIdentifier = 'email' | 'employeeId';
export type FeedValue = string | number | boolean | null | undefined;
/** One row of the HiBob custom report, keyed by column name (humanReadable values). */
export type FeedRow = Readonly<Record<string, FeedValue>>;

/** Report column names feeding each standard field; attributes map portal attribute → column (its "data feed name"). */
export interface FeedColumns {
  email: string;
  employeeId: string;
  firstName: string;
  lastName: string;
  /** Lifecycle status column; rows whose status is in `inactiveStatuses` count as leavers. */
  status: string;
  attributes: Record<string, string>;
}

export const DEFAULT_FEED_COLUMNS: Readonly<FeedColumns> = Object.freeze({
  email: 'Email',
  employeeId: 'Employee ID',
  firstName: 'First name',
  lastName: 'Last name',
  status: 'Lifecycle status',
  attributes: {},
});

export const DEFAULT_INACTIVE_STATUSES: readonly string[] = ['Terminated', 'Inactive'];

/** A Skillcast user as the preview compares it. */
export interface FeedUser {
  id: string;
  domain: string;
  active: boolean;
  email?: string;
  employeeId?: string;
  firstName?: string;
  lastName?: string;
  attributes: Readonly<Record<string, string>>;
}

export interface FeedPreviewInput {
  /** The connection's target domain; users of every other domain are neither compared nor touched. */
  domain: string;
  identifier: FeedIdentifier;
  rows: readonly FeedRow[];
  /** Users of the tenant (any domains). */
  users: readonly FeedUser[];
  /** Portal attributes; each is fed by the column of the same name unless `columns.attributes` says otherwise. */
  attributes?: readonly string[];
  columns?: Partial<FeedColumns>;
  inactiveStatuses?: readonly string[];
}

/** A row as it would land in Skillcast; `row` is the 1-based position in the report. */
export interface FeedRecord {
  row: number;
  identifier: string;
  email?: string;
  employeeId?: string;
  firstName?: string;
  lastName?: string;
  /** Only attributes whose column is in the report. */
  attributes: Record<string, string>;
}

export interface FieldChange {
  /** `email`, `employeeId`, `firstName`, `lastName` or `attributes.<name>`. */
  field: string;
  from: string;
  to: string;
}

export interface FeedChange {
  userId: string;
  identifier: string;
  record: FeedRecord;
  changes: FieldChange[];
}

export interface FeedArchive {
  userId: string;
  identifier: string;
  email?: string;
  employeeId?: string;
  /** missing: absent from the report; leaver: present with an inactive status; identifierChanged: see identifierChanges. */
  reason: 'missing' | 'leaver' | 'identifierChanged';
}

export interface FeedAdd extends FeedRecord {
  /** The archived user this add replaces because its unique identifier changed. */
  replaces?: string;
}

export interface FeedPreview {
  domain: string;
  identifier: FeedIdentifier;
  toAdd: FeedAdd[];
  toReactivate: FeedChange[];
  toUpdate: FeedChange[];
  toArchive: FeedArchive[];
  /** Active users present in the report with nothing to change. */
  unchanged: number;
  /** Users whose unique identifier changed: archived and re-added, so their history splits. */
  identifierChanges: Array<{ userId: string; from: string; to: string; row: number; matchedOn: FeedIdentifier }>;
  /** Identifiers used by more than one row; those rows are skipped and their user left alone. */
  duplicates: Array<{ identifier: string; rows: number[] }>;
  /** Rows that cannot be loaded (missing identifier, refused email). */
  invalid: Array<{ row: number; identifier?: string; reason: string }>;
  /** Rows matching a user of another domain: not compared, not touched. */
  otherDomain: Array<{ row: number; identifier: string; userId: string; domain: string }>;
}

const text = (value: FeedValue): string => (value === null || value === undefined ? '' : String(value).trim());
const keyOf = (mode: FeedIdentifier, value: string) => (mode === 'email' ? value.toLowerCase() : value);
const has = (row: FeedRow, column: string) => Object.prototype.hasOwnProperty.call(row, column);

interface ParsedRow {
  record: FeedRecord;
  /** Which standard fields the report carries, so absent columns are not compared. */
  present: Set<string>;
  leaver: boolean;
}

export function previewFeed(input: FeedPreviewInput): FeedPreview {
  const mode = input.identifier;
  const columns: FeedColumns = {
    ...DEFAULT_FEED_COLUMNS,
    ...input.columns,
    attributes: { ...input.columns?.attributes },
  };
  const attributeColumns = new Map<string, string>();
  for (const name of input.attributes ?? []) attributeColumns.set(name, columns.attributes[name] ?? name);
  for (const [name, column] of Object.entries(columns.attributes)) attributeColumns.set(name, column);
  const inactive = new Set((input.inactiveStatuses ?? DEFAULT_INACTIVE_STATUSES).map((s) => s.toLowerCase()));

  const preview: FeedPreview = {
    domain: input.domain,
    identifier: mode,
    toAdd: [],
    toReactivate: [],
    toUpdate: [],
    toArchive: [],
    unchanged: 0,
    identifierChanges: [],
    duplicates: [],
    invalid: [],
    otherDomain: [],
  };
  // Keys of users that must not be archived although no usable row carries them.
  const protectedKeys = new Set<string>();

  const parsed: ParsedRow[] = [];
  input.rows.forEach((row, i) => {
    const rowNumber = i + 1;
    const present = new Set<string>();
    const record: FeedRecord = { row: rowNumber, identifier: '', attributes: {} };
    for (const field of ['email', 'employeeId', 'firstName', 'lastName'] as const) {
      const column = columns[field];
      if (!has(row, column)) continue;
      present.add(field);
      const value = text(row[column]);
      if (value) record[field] = value;
    }
    for (const [name, column] of attributeColumns) {
      if (!has(row, column)) continue;
      present.add(`attributes.${name}`);
      const value = text(row[column]);
      if (value) record.attributes[name] = value;
    }
    const identifier = mode === 'email' ? record.email : record.employeeId;
    if (!identifier) {
      preview.invalid.push({ row: rowNumber, reason: mode === 'email' ? 'missing email' : 'missing employee ID' });
      return;
    }
    record.identifier = identifier;
    const problem = record.email === undefined ? undefined : emailProblem(record.email);
    if (problem) {
      preview.invalid.push({ row: rowNumber, identifier, reason: `email "${record.email}" ${problem}` });
      protectedKeys.add(keyOf(mode, identifier));
      return;
    }
    const leaver = has(row, columns.status) && inactive.has(text(row[columns.status]).toLowerCase());
    parsed.push({ record, present, leaver });
  });

  const rowsByKey = new Map<string, ParsedRow[]>();
  for (const p of parsed) {
    const key = keyOf(mode, p.record.identifier);
    rowsByKey.set(key, [...(rowsByKey.get(key) ?? []), p]);
  }
  for (const [key, rows] of rowsByKey) {
    if (rows.length < 2) continue;
    preview.duplicates.push({ identifier: rows[0]?.record.identifier ?? key, rows: rows.map((r) => r.record.row) });
    protectedKeys.add(key);
  }

  const identifierOf = (u: FeedUser) => (mode === 'email' ? u.email : u.employeeId);
  const inDomain = new Map<string, FeedUser>();
  const elsewhere = new Map<string, FeedUser>();
  const domainUsers = input.users.filter((u) => u.domain === input.domain);
  for (const user of input.users) {
    const id = identifierOf(user);
    if (!id) continue;
    const target = user.domain === input.domain ? inDomain : elsewhere;
    if (!target.has(keyOf(mode, id))) target.set(keyOf(mode, id), user);
  }

  const seen = new Set<string>();
  for (const p of parsed) {
    const key = keyOf(mode, p.record.identifier);
    if (protectedKeys.has(key)) continue;
    seen.add(key);
    const user = inDomain.get(key);
    if (p.leaver) {
      if (user?.active) preview.toArchive.push(archiveOf(user, p.record.identifier, 'leaver'));
      continue;
    }
    if (user) {
      const changes = diff(user, p, mode);
      const change: FeedChange = { userId: user.id, identifier: p.record.identifier, record: p.record, changes };
      if (!user.active) preview.toReactivate.push(change);
      else if (changes.length) preview.toUpdate.push(change);
      else preview.unchanged += 1;
      continue;
    }
    const other = elsewhere.get(key);
    if (other) {
      preview.otherDomain.push({
        row: p.record.row,
        identifier: p.record.identifier,
        userId: other.id,
        domain: other.domain,
      });
      continue;
    }
    preview.toAdd.push({ ...p.record });
  }

  for (const user of domainUsers) {
    if (!user.active) continue;
    const id = identifierOf(user);
    const key = id === undefined ? undefined : keyOf(mode, id);
    if (key !== undefined && (seen.has(key) || protectedKeys.has(key))) continue;
    preview.toArchive.push(archiveOf(user, id ?? '', 'missing'));
  }

  // An add whose other identifier matches a user being archived is the same person under a new identifier.
  const otherMode: FeedIdentifier = mode === 'email' ? 'employeeId' : 'email';
  for (const add of preview.toAdd) {
    const alternate = mode === 'email' ? add.employeeId : add.email;
    if (!alternate) continue;
    const archive = preview.toArchive.find((a) => {
      if (a.reason !== 'missing') return false;
      const theirs = mode === 'email' ? a.employeeId : a.email;
      return theirs !== undefined && keyOf(otherMode, theirs) === keyOf(otherMode, alternate);
    });
    if (!archive) continue;
    archive.reason = 'identifierChanged';
    add.replaces = archive.userId;
    preview.identifierChanges.push({
      userId: archive.userId,
      from: archive.identifier,
      to: add.identifier,
      row: add.row,
      matchedOn: otherMode,
    });
  }
  return preview;
}

function archiveOf(user: FeedUser, identifier: string, reason: FeedArchive['reason']): FeedArchive {
  const archive: FeedArchive = { userId: user.id, identifier, reason };
  if (user.email !== undefined) archive.email = user.email;
  if (user.employeeId !== undefined) archive.employeeId = user.employeeId;
  return archive;
}

function diff(user: FeedUser, parsed: ParsedRow, mode: FeedIdentifier): FieldChange[] {
  const changes: FieldChange[] = [];
  const compare = (field: string, from: string | undefined, to: string | undefined) => {
    if (!parsed.present.has(field)) return;
    if ((from ?? '') !== (to ?? '')) changes.push({ field, from: from ?? '', to: to ?? '' });
  };
  const { record } = parsed;
  // The identifier itself matched (case-insensitively for email), so it is not a change.
  if (mode !== 'email') compare('email', user.email, record.email);
  if (mode !== 'employeeId') compare('employeeId', user.employeeId, record.employeeId);
  compare('firstName', user.firstName, record.firstName);
  compare('lastName', user.lastName, record.lastName);
  for (const field of parsed.present) {
    if (!field.startsWith('attributes.')) continue;
    const name = field.slice('attributes.'.length);
    compare(field, user.attributes[name], record.attributes[name]);
  }
  return changes;
}
