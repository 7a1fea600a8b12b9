import type { DestinationTraits } from '../domain/types';
import type { ConnectionRegistry } from './deps';
import { SCIM_TRAITS } from './skillcast';

/** What planning needs to know about the connection's LMS. */
export function destinationTraits(registry: ConnectionRegistry, connection: string): DestinationTraits {
  const { destination } = registry.connection(connection);
  return destination.type === 'skillcast' ? SCIM_TRAITS : { defaultGroupId: destination.defaultGroupId };
}
