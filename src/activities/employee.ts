/**
 * HiBob read and planning for the employee workflow. Planning is pure (src/domain) and runs as
 * a local activity: it needs no queue of its own, and keeping domain code out of the workflow
 * means mapping rules can change without breaking the replay of running workflows.
 */
import { desiredLearner } from '../domain/desired';
import { fieldDigests } from '../domain/field-digests';
import { fingerprint } from '../domain/fingerprint';
import { hibobFieldsFor, normaliseEmployee } from '../domain/normalise';
import { planContextFor, planEmployee } from '../domain/plan';
import { isProtected } from '../domain/protection';
import type { Plan } from '../domain/types';
import type { ConnectionRegistry } from './deps';
import type { FetchedEmployee, LearnerLookup, PlanOptions } from './employee-types';
import { destinationTraits } from './traits';
import { readingOptions } from './wanted-learner';

export function employeeActivities(registry: ConnectionRegistry, now: () => Date = () => new Date()) {
  return {
    /** POST /people/{id} with every field the mapping needs, labels appended for list fields, and a digest of each. */
    fetchEmployee: async (connection: string, employeeId: string): Promise<FetchedEmployee> => {
      const { mapping, source } = registry.connection(connection);
      // A connection fed by a machine-readable report reads people the same way, so both paths want the same learner.
      const labels = source.report?.humanReadable === false ? undefined : 'APPEND';
      const record = await registry.hibob(connection).getEmployee(employeeId, hibobFieldsFor(mapping), labels);
      if (!record) return { found: false, readLagSeconds: source.readAfterWriteLagSeconds };
      return fetchedFromRecord(registry, connection, record);
    },

    planEmployee: async (
      connection: string,
      employeeId: string,
      record: Record<string, unknown> | null,
      lookup: LearnerLookup,
      previousFingerprint?: string,
      options: PlanOptions = {},
    ): Promise<Plan> => {
      const { mapping, safety } = registry.connection(connection);
      const { match } = lookup;
      if (match.kind !== 'none' && isProtected(match.learner, safety.protectedUsers)) {
        return {
          employeeId,
          fingerprint: fingerprint({ protected: match.learner.learnerId }),
          outcome: { kind: 'noop', reason: 'protected user: never changed by bobsync' },
        };
      }
      if (!record) return planForDeletedEmployee(employeeId, lookup);
      const reading = await readingOptions(registry, connection, [record]);
      const desired = desiredLearner(normaliseEmployee(record, reading), mapping, now());
      const context = planContextFor(
        mapping,
        destinationTraits(registry, connection),
        lookup.managerLearnerIds,
        lookup.linkedManagerLearnerIds,
      );
      if (options.adoptLeavers) context.adoptLeavers = true;
      return planEmployee({
        desired,
        match: lookup.match,
        context,
        previousFingerprint,
        owned: lookup.ownedGroupRoles,
        refused: lookup.refusedValues,
      });
    },
  };
}

/** A HiBob record as the employee workflow takes it: read now, or from a full sync's people search. */
export async function fetchedFromRecord(
  registry: ConnectionRegistry,
  connection: string,
  record: Record<string, unknown>,
): Promise<FetchedEmployee & { found: true }> {
  const { mapping, source } = registry.connection(connection);
  const options = await readingOptions(registry, connection, [record]);
  return {
    found: true,
    record,
    digests: fieldDigests(normaliseEmployee(record, options), hibobFieldsFor(mapping)),
    readLagSeconds: source.readAfterWriteLagSeconds,
  };
}

/** A deleted HiBob employee has no record to read: deactivate the linked learner, if any. */
export function planForDeletedEmployee(employeeId: string, lookup: LearnerLookup): Plan {
  const { match } = lookup;
  const learner = match.kind === 'externalId' ? match.learner : undefined;
  const print = fingerprint({ deleted: employeeId, learner: learner?.learnerId, status: learner?.status });
  if (!learner || learner.status === 'deleted') {
    return {
      employeeId,
      fingerprint: print,
      outcome: { kind: 'noop', reason: 'deleted in HiBob; no active learner is linked' },
    };
  }
  return {
    employeeId,
    fingerprint: print,
    outcome: { kind: 'apply', operations: [{ op: 'deactivate', reason: 'employee deleted in HiBob' }] },
  };
}
