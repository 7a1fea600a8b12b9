/**
 * The LMS side of a sync, whichever LMS a connection writes to: every activity names its
 * connection, and the connection's destination type picks 360Learning or Skillcast (SCIM). The
 * plan between them is the same; only reading and writing differ.
 */
import type { Operation } from '../domain/types';
import type { LmsSnapshot } from '../domain/full-plan';
import type { ConnectionRegistry } from './deps';
import type { GroupOwnership } from './group-ownership';
import type { PagedReader } from './page-checkpoints';
import type { AppliedOperation, LearnerLink, LearnerLookup, LookupHints } from './employee-types';
import { learning360Activities } from './learning360';
import { skillcastActivities } from './skillcast';

/** `ownership`: the durable record of the group roles bobsync gave; without it, every role a rule manages counts as bobsync's. */
export function lmsActivities(registry: ConnectionRegistry, ownership?: GroupOwnership) {
  const learning360 = learning360Activities(registry);
  const skillcast = skillcastActivities(registry);
  const of = (connection: string) =>
    registry.connection(connection).destination.type === 'skillcast' ? skillcast : learning360;
  return {
    /**
     * The employee's learner: by the stored link first, then (for first adoption) by email.
     * `hints` (a full sync's LMS snapshot) spare 360Learning reads; SCIM lookups need none.
     */
    lookupLearner: async (
      connection: string,
      employeeId: string,
      record: Record<string, unknown> | null,
      knownLearnerId?: string,
      hints?: LookupHints,
    ): Promise<LearnerLookup> => {
      const lookup =
        of(connection) === learning360
          ? await learning360.lookupLearner(connection, employeeId, record, knownLearnerId, hints)
          : await skillcast.lookupLearner(connection, employeeId, record, knownLearnerId);
      if (ownership) lookup.ownedGroupRoles = await ownership.owned(connection, employeeId);
      return lookup;
    },
    /** A learner's status and HiBob link as they are now, read by id. */
    learnerLink: (connection: string, learnerId: string): Promise<LearnerLink | undefined> =>
      of(connection).learnerLink(connection, learnerId),
    /** One planned operation; every one is idempotent, so a retry never makes a second account. */
    applyOperation: async (
      connection: string,
      employeeId: string,
      learnerId: string | undefined,
      operation: Operation,
    ): Promise<AppliedOperation> => {
      if (ownership && operation.op === 'addGroupRole')
        await ownership.record(connection, employeeId, { ...operation.group, rule: operation.reason });
      const applied = await of(connection).applyOperation(connection, employeeId, learnerId, operation);
      if (ownership && operation.op === 'removeGroupRole')
        await ownership.forget(connection, employeeId, operation.group);
      return applied;
    },
    /** Every learner the connection can see, from the paged lists. */
    snapshot: (connection: string, pages: PagedReader): Promise<LmsSnapshot> =>
      of(connection).snapshot(connection, pages),
    /** GET requests this worker has sent to the connection's LMS so far. */
    reads: (connection: string): number => of(connection).reads(connection),
  };
}
