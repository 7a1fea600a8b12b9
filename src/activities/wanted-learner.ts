/**
 * The learner the mapping wants for a HiBob record, as the LMS lookups need it: to find a
 * learner by email and the employee's manager before there is a plan.
 */
import { desiredLearner, isParked } from '../domain/desired';
import type { MappingConfig } from '../domain/mapping-schema';
import { normaliseEmployee, type NormaliseOptions } from '../domain/normalise';
import type { DesiredLearner } from '../domain/types';
import type { ConnectionRegistry } from './deps';
import type { FieldPaths } from './hibob-field-paths';

/** How the mapping reads HiBob records; `jsonPaths` where HiBob files some fields away from their id. */
export function normaliseOptions(mapping: MappingConfig, jsonPaths: FieldPaths = {}): NormaliseOptions {
  const options: NormaliseOptions = {
    siteTimeZones: mapping.status.siteTimeZones,
    timeZoneField: mapping.status.timeZoneField,
  };
  if (Object.keys(jsonPaths).length > 0) options.jsonPaths = jsonPaths;
  return options;
}

/** How to read these records of a connection: its mapping's options and the field paths they need. */
export async function readingOptions(
  registry: ConnectionRegistry,
  connection: string,
  records: Iterable<Record<string, unknown>>,
): Promise<NormaliseOptions> {
  return normaliseOptions(
    registry.connection(connection).mapping,
    await registry.hibobFieldPaths(connection).for(records),
  );
}

/** The desired learner of a record, or undefined when there is no record or it is parked. */
export function wantedLearner(
  record: Record<string, unknown> | null,
  mapping: MappingConfig,
  jsonPaths: FieldPaths = {},
  now: Date = new Date(),
): DesiredLearner | undefined {
  if (!record) return undefined;
  const desired = desiredLearner(normaliseEmployee(record, normaliseOptions(mapping, jsonPaths)), mapping, now);
  return isParked(desired) ? undefined : desired;
}
