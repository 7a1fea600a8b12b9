/**
 * The learner the mapping wants for a HiBob record, as the LMS lookups need it: to find a
 * learner by email and the employee's manager before there is a plan.
 */
import { desiredLearner, isParked } from '../domain/desired';
import type { MappingConfig } from '../domain/mapping-schema';
import { normaliseEmployee } from '../domain/normalise';
import type { DesiredLearner } from '../domain/types';

export function normaliseOptions(mapping: MappingConfig): Parameters<typeof normaliseEmployee>[1] {
  return { siteTimeZones: mapping.status.siteTimeZones, timeZoneField: mapping.status.timeZoneField };
}

/** The desired learner of a record, or undefined when there is no record or it is parked. */
export function wantedLearner(
  record: Record<string, unknown> | null,
  mapping: MappingConfig,
  now: Date = new Date(),
): DesiredLearner | undefined {
  if (!record) return undefined;
  const desired = desiredLearner(normaliseEmployee(record, normaliseOptions(mapping)), mapping, now);
  return isParked(desired) ? undefined : desired;
}
