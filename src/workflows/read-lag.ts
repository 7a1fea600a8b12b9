/**
 * HiBob's read-after-write lag (contract §4.10): for up to 20 s after an edit, a changed value
 * may read as old or empty. A webhook names the fields that changed; when the re-read shows those
 * fields as they were last applied, the read is stale and is taken again after a pause.
 * Pure and deterministic, so the employee workflow can use it.
 */

export interface ReadLagCheck {
  /** Field ids the webhook events named. */
  namedFields: readonly string[];
  /** Digests of the fields the mapping reads, as just read (`null` = empty). */
  digests: Readonly<Record<string, string | null>> | undefined;
  /** Digests as applied when the events arrived; undefined when this workflow had applied nothing yet. */
  applied: Readonly<Record<string, string | null>> | undefined;
  /**
   * The plan from this read changes nothing; undefined before the read is planned, when the check
   * goes by the digests alone.
   */
  planChangesNothing?: boolean;
  /** HiBob found the employee. */
  found: boolean;
  /** Types of the events (`employee.created`, …). */
  eventTypes: readonly string[];
}

/** The named fields the mapping reads: only those can make a read look stale. */
export function mappedNamedFields(
  namedFields: readonly string[],
  digests: Readonly<Record<string, unknown>> | undefined,
): string[] {
  if (!digests) return [];
  return [...new Set(namedFields)].filter((id) => id in digests);
}

/**
 * Why the read looks stale, or undefined when it looks current. Events naming no mapped field
 * (or no field at all) never look stale: they cost no wait.
 */
export function staleReadReason(check: ReadLagCheck): string | undefined {
  // A new hire may read as absent at first; a deleted one is gone at once.
  if (!check.found) {
    const created = check.eventTypes.includes('employee.created') && !check.eventTypes.includes('employee.deleted');
    return created ? 'a new employee does not read yet' : undefined;
  }
  const named = mappedNamedFields(check.namedFields, check.digests);
  if (named.length === 0 || !check.digests) return undefined;
  const digests = check.digests;
  const applied = check.applied ?? {};
  const known = named.filter((id) => id in applied);
  if (known.length) {
    const same = known.filter((id) => applied[id] === digests[id]);
    if (same.length) return `${same.join(', ')} still read${same.length === 1 ? 's' : ''} as before the edit`;
    const emptied = known.filter((id) => digests[id] === null && typeof applied[id] === 'string');
    if (emptied.length) return `${emptied.join(', ')} read${emptied.length === 1 ? 's' : ''} empty`;
  }
  // A named field of unknown last value (nothing applied yet in this workflow): a read that changes
  // nothing after an edit of a mapped field is suspect.
  if (known.length < named.length && check.planChangesNothing)
    return `${named.join(', ')} changed in HiBob but the read changes nothing`;
  return undefined;
}

/** Pauses before each re-read: short first (most lags are brief), then doubling, within the budget. */
export function rereadPauses(budgetSeconds: number): number[] {
  const pauses: number[] = [];
  let left = Math.max(0, budgetSeconds) * 1000;
  for (let pause = 2_000; left > 0; pause *= 2) {
    const next = Math.min(pause, left);
    pauses.push(next);
    left -= next;
  }
  return pauses;
}

export interface SnapshotUse {
  /** When the full sync's people search began (epoch ms). */
  snapshotReadAt: number;
  /** source.readAfterWriteLagSeconds of the connection. */
  readLagSeconds: number;
  /** When this workflow last finished a HiBob read (epoch ms); undefined when it has made none. */
  lastReadAt?: number;
  /** Workflow time now (epoch ms). */
  now: number;
  /** How long an idle employee workflow waits before it completes. */
  idleTimeoutMs: number;
}

/**
 * Whether a full sync's snapshot record may stand in for a HiBob read: only when it cannot be
 * older than what this employee's workflows last applied, which would undo a newer change.
 * The search must have begun more than the read-after-write lag after this workflow's last read
 * and after the last read of any earlier workflow for the employee. An earlier one completed
 * after an idle wait, so its reads are older than now minus that wait.
 */
export function snapshotRecordUsable(use: SnapshotUse): boolean {
  const settledAt = use.snapshotReadAt - use.readLagSeconds * 1000;
  if (Number.isNaN(settledAt)) return false;
  if (use.lastReadAt !== undefined && settledAt <= use.lastReadAt) return false;
  return settledAt > use.now - use.idleTimeoutMs;
}
