/**
 * The custom search attributes bobsync's workflows set, so operators can find runs in the Temporal
 * UI and with `temporal workflow list --query`. Search attributes are stored and indexed unsealed
 * (the payload codec does not reach them): they carry opaque ids and fixed words only, never a
 * name or an e-mail address.
 *
 * A namespace must know them before a workflow sets them (an unknown one fails the workflow
 * task): `bobsync temporal setup` registers them, the dev and test servers at start.
 */
import { patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { SearchAttributeType, SearchAttributeUpdatePair, TypedSearchAttributes } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';

/**
 * The shape of `defineSearchAttributeKey` from @temporalio/common, defined here because workflow
 * code imports values from @temporalio/workflow only.
 */
function defineKey<T extends SearchAttributeType>(name: string, type: T): SearchAttributeKey<T> {
  return { name, type };
}

/** The connection's name (bobsync.yaml `connections[].name`). */
export const connectionAttribute = defineKey('BobsyncConnection', 'KEYWORD');
/** The HiBob id of an employee workflow's employee: opaque, as in the workflow id. */
export const employeeIdAttribute = defineKey('BobsyncEmployeeId', 'KEYWORD');
/** Employee workflows: the last sync's result. Full syncs: how the run ended. */
export const outcomeAttribute = defineKey('BobsyncOutcome', 'KEYWORD');
/** What started the last sync (employee workflows) or the run (full syncs). */
export const triggerAttribute = defineKey('BobsyncTrigger', 'KEYWORD');
/** The employee's next effective-date wake-up; unset when none is pending. */
export const pendingTimerAttribute = defineKey('BobsyncPendingTimer', 'DATETIME');
/** Where a full sync is: snapshot, plan, awaitingApproval, apply, report, done. */
export const phaseAttribute = defineKey('BobsyncPhase', 'KEYWORD');

/** Every attribute bobsync sets, for registration on a namespace. */
export const BOBSYNC_SEARCH_ATTRIBUTES: readonly SearchAttributeKey<SearchAttributeType>[] = [
  connectionAttribute,
  employeeIdAttribute,
  outcomeAttribute,
  triggerAttribute,
  pendingTimerAttribute,
  phaseAttribute,
];

/**
 * Runs begun before the workflows set search attributes replay without the upserts: every
 * upsert of every bobsync workflow goes behind this one patch.
 */
export const SEARCH_ATTRIBUTES_PATCH = 'bobsync-search-attributes';

/** Employee workflows: how the last sync ended (SyncOutcome.result). */
export type EmployeeOutcomeValue = 'applied' | 'unchanged' | 'parked' | 'failed' | 'deleted';
/** Full syncs: how the run ended; `notApproved` when what it waited for was rejected or lapsed. */
export type FullSyncOutcomeValue = 'completed' | 'notApproved' | 'failed' | 'cancelled' | 'timedOut';

type Value = SearchAttributeUpdatePair['value'];

/** Equal values need no upsert; a Date is compared by its instant. */
function comparable(value: Value | undefined): unknown {
  if (value === undefined || value === null) return null;
  return value instanceof Date ? value.getTime() : Array.isArray(value) ? value.join('\u0000') : value;
}

/**
 * Returns a function that upserts the attributes whose value differs from what the run holds
 * (those it started with, or set since), so an unchanged outcome adds nothing to the history.
 * Deterministic: it reads only the workflow's own state.
 */
export function searchAttributePublisher(): (updates: SearchAttributeUpdatePair[]) => void {
  return (updates) => {
    const current: TypedSearchAttributes = workflowInfo().typedSearchAttributes;
    const changed = updates.filter((u) => comparable(current.get(u.key)) !== comparable(u.value));
    if (changed.length === 0 || !patched(SEARCH_ATTRIBUTES_PATCH)) return;
    upsertSearchAttributes(changed);
  };
}
