import { cancellationSignal } from '@temporalio/activity';
import type { ConnectionRegistry } from './deps';

export interface SampleEmployee {
  employeeId: string;
  /** Whether the record carries an email; the email itself stays out of the result. */
  hasEmail: boolean;
  fieldsRead: number;
}

/** Health-check activities: prove the worker reaches HiBob with the configured credentials. */
export function healthActivities(registry: ConnectionRegistry) {
  return {
    /** Reads one employee (the first the search returns) from the connection's HiBob. */
    async readSampleEmployee(connection: string): Promise<SampleEmployee | null> {
      // The activity's 30 s, not a full sync's search deadline: this search asks for two fields.
      const people = await registry
        .hibob(connection)
        .searchPeople(
          { fields: ['root.id', 'root.email'], showInactive: true },
          { signal: cancellationSignal(), timeoutMs: 25_000 },
        );
      const first = people[0];
      if (!first) return null;
      const detail = await registry.hibob(connection).getEmployee(first.id);
      return {
        employeeId: first.id,
        hasEmail: typeof detail?.email === 'string',
        fieldsRead: detail ? Object.keys(detail).length : 0,
      };
    },
  };
}
export type HealthActivities = ReturnType<typeof healthActivities>;
