/**
 * Short digests of the HiBob fields a connection reads, one per field id. The employee workflow
 * keeps the digests of what it last applied (not the values: workflow state should carry as
 * little personal data as it can) and compares them after a webhook to see whether the fields
 * the webhook named still read as before, which is HiBob's read-after-write lag.
 */
import { fingerprint } from './fingerprint';
import type { NormalisedEmployee } from './types';

/** `null` marks a field that reads as empty (or is missing), which HiBob may also serve during the lag. */
export function fieldDigests(employee: NormalisedEmployee, fieldIds: readonly string[]): Record<string, string | null> {
  const digests: Record<string, string | null> = {};
  for (const id of fieldIds) {
    const value = employee.fields[id]?.value;
    const empty = value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);
    digests[id] = empty ? null : fingerprint(value);
  }
  return digests;
}
