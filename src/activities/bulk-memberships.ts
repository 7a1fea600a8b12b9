/**
 * Group roles a full sync's batch gives in one go through 360Learning's bulk memberships API:
 * one write for the whole batch instead of one per role. The employee workflows have already
 * recorded the roles as bobsync's (group ownership) and left them to this activity; it submits
 * them, polls the operation until it has run, and returns each item's result for the report.
 *
 * A retry after a lost worker resumes the operations it had submitted (their ids are in the
 * heartbeat details) rather than submitting them again. Without the bulk scopes, or while
 * 360Learning has the bulk API off, the roles go one call each, as real-time syncs give them.
 */
import { Context } from '@temporalio/activity';
import { ApiError } from '../clients/http/errors';
import {
  BULK_MAX_ITEMS,
  type BulkItemResult,
  type BulkMembership,
  type Learning360Client,
} from '../clients/learning360/client';
import type { GroupRole } from '../domain/types';
import type { ConnectionRegistry } from './deps';

/** A role one employee's learner is to get. */
export interface PendingGroupRole extends GroupRole {
  employeeId: string;
  learnerId: string;
}

export interface GroupRoleResult extends PendingGroupRole {
  /** Undefined when the role was given. */
  error?: string;
}

export interface BulkRolesResult {
  /** 360Learning's ids of the bulk operations that carried the roles (none when they went one by one). */
  bulkOperationIds: string[];
  /** Writes spent: one per bulk submission, or one per role without the bulk API. */
  writes: number;
  results: GroupRoleResult[];
  /** Why the roles went one call each, when they did. */
  fallback?: string;
}

interface Progress {
  /** Ids of the operations submitted so far, chunk by chunk. */
  submitted: string[];
}

/** How long a submission waits for one of the company's running bulk operations to end. */
const CONCURRENCY_WAIT_MS = 15 * 60_000;
const FIRST_POLL_MS = 500;
const MAX_POLL_MS = 5_000;

const itemKey = (i: { userId: string; groupId: string; role: string }) => `${i.userId} ${i.groupId} ${i.role}`;

/** The bulk API cannot be used with these credentials or at the moment: 403 invalid_scope, 503 bulkAPIDisabled. */
function bulkUnavailable(err: unknown): err is ApiError {
  return err instanceof ApiError && (err.status === 403 || (err.status === 503 && err.code === 'bulkAPIDisabled'));
}

/** Polling intervals and the wait for a free bulk slot (tests shorten them). */
export interface BulkTiming {
  first: number;
  max: number;
  concurrencyWaitMs?: number;
}

export function bulkMembershipActivities(
  registry: ConnectionRegistry,
  pollMs: BulkTiming = { first: FIRST_POLL_MS, max: MAX_POLL_MS },
) {
  /** Waits for one operation to end and reads its results (an errored run before any result fails every item). */
  async function resultsOf(
    client: Learning360Client,
    id: string,
    items: BulkMembership[],
    progress: Progress,
  ): Promise<BulkItemResult[]> {
    const context = Context.current();
    for (let wait = pollMs.first; ; wait = Math.min(pollMs.max, Math.round(wait * 1.5))) {
      const operation = await client.getBulkOperation(id);
      context.heartbeat(progress);
      if (operation.status === 'completed' || operation.status === 'error') {
        try {
          return await client.getBulkResults(id);
        } catch (err) {
          if (operation.status === 'error' && err instanceof ApiError && err.code === 'bulkOperationNotRun') {
            const message = `bulk operation ${id} failed: ${operation.errorMessage}`;
            return items.map((input) => ({ input, status: 'error', errorMessage: message }));
          }
          throw err;
        }
      }
      await context.sleep(wait);
    }
  }

  /**
   * Submits, waiting while the company already has as many bulk operations running as 360Learning
   * allows (other integrations' count too): a 429 bulkOperationsConcurrencyLimitReached clears as
   * they end. Past the wait (15 minutes) the error goes to the activity's retry policy.
   */
  async function submitWhenAllowed(
    client: Learning360Client,
    items: BulkMembership[],
    progress: Progress,
  ): Promise<string> {
    const context = Context.current();
    const giveUpAt = Date.now() + (pollMs.concurrencyWaitMs ?? CONCURRENCY_WAIT_MS);
    for (let wait = pollMs.first; ; wait = Math.min(pollMs.max * 6, Math.round(wait * 1.5))) {
      try {
        return await client.submitBulkMemberships(items);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'bulkOperationsConcurrencyLimitReached') || Date.now() > giveUpAt)
          throw err;
      }
      context.heartbeat(progress);
      await context.sleep(wait);
    }
  }

  async function oneByOne(client: Learning360Client, roles: PendingGroupRole[]): Promise<GroupRoleResult[]> {
    const results: GroupRoleResult[] = [];
    for (const role of roles) {
      try {
        await client.addGroupRole(role.groupId, role.role, role.learnerId);
        results.push(role);
      } catch (err) {
        if (!(err instanceof ApiError) || err.retryable) throw err;
        results.push({ ...role, error: err.message });
      }
      Context.current().heartbeat();
    }
    return results;
  }

  async function addGroupRolesInBulk(connection: string, roles: PendingGroupRole[]): Promise<BulkRolesResult> {
    const client = registry.learning360(connection);
    const context = Context.current();
    const progress: Progress = (context.info.heartbeatDetails as Progress | undefined) ?? { submitted: [] };
    const results = new Map<string, BulkItemResult>();
    try {
      for (let start = 0, chunk = 0; start < roles.length; start += BULK_MAX_ITEMS, chunk += 1) {
        const items = roles
          .slice(start, start + BULK_MAX_ITEMS)
          .map((r) => ({ userId: r.learnerId, groupId: r.groupId, role: r.role }));
        let id = progress.submitted[chunk];
        let chunkResults: BulkItemResult[] | undefined;
        if (id) {
          try {
            chunkResults = await resultsOf(client, id, items, progress);
          } catch (err) {
            // An operation 360Learning no longer knows is submitted again (adding a held role changes nothing).
            if (!(err instanceof ApiError && err.status === 404)) throw err;
            progress.submitted.length = chunk;
          }
        }
        if (!chunkResults) {
          id = await submitWhenAllowed(client, items, progress);
          progress.submitted[chunk] = id;
          context.heartbeat(progress);
          chunkResults = await resultsOf(client, id, items, progress);
        }
        for (const result of chunkResults) results.set(itemKey(result.input), result);
      }
    } catch (err) {
      if (!bulkUnavailable(err)) throw err;
      // Refused on submission (no groups:bulk, bulk API off) or on reading the outcome (no
      // bulkOperations:read): one call each, which also covers what a submission gave already.
      const fallback = `bulk memberships unavailable (${err.message}); roles given one call each`;
      const writes = progress.submitted.length + roles.length;
      return { bulkOperationIds: [], writes, results: await oneByOne(client, roles), fallback };
    }
    return {
      bulkOperationIds: progress.submitted,
      writes: progress.submitted.length,
      results: roles.map((role) => {
        const result = results.get(itemKey({ userId: role.learnerId, groupId: role.groupId, role: role.role }));
        if (!result) return { ...role, error: 'not in the bulk operation’s results' };
        return result.status === 'success' ? role : { ...role, error: result.errorMessage };
      }),
    };
  }

  return { addGroupRolesInBulk };
}
