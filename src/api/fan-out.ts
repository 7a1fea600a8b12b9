/**
 * Which connections one HiBob webhook delivery is for. Several connections may read the same HiBob
 * company (e.g. one feeding 360Learning, one feeding Skillcast), and HiBob sends one delivery per
 * subscription, not per connection: an event received for one of them concerns them all.
 */
import type { BobsyncConfig, HibobSourceConfig } from '../config/schema';

/**
 * Same HiBob company = same API base and same service user. The service user is what the
 * connection reads with, so two connections agreeing on both see the same employees; the company
 * id in the payload cannot decide it, as the config does not hold it.
 */
export function sameHibobSource(
  a: Pick<HibobSourceConfig, 'baseUrl' | 'serviceUserId'>,
  b: Pick<HibobSourceConfig, 'baseUrl' | 'serviceUserId'>,
): boolean {
  return withoutTrailingSlash(a.baseUrl) === withoutTrailingSlash(b.baseUrl) && a.serviceUserId === b.serviceUserId;
}

/**
 * Names of the enabled connections reading the same HiBob company as `name`, that one first, the
 * others in config order. Empty when `name` is unknown or disabled: a delivery to it reaches nobody.
 */
export function connectionsOfSameSource(config: Pick<BobsyncConfig, 'connections'>, name: string): string[] {
  const named = config.connections.find((c) => c.name === name);
  if (!named || !named.enabled) return [];
  const others = config.connections.filter(
    (c) => c.name !== name && c.enabled && sameHibobSource(c.source, named.source),
  );
  return [name, ...others.map((c) => c.name)];
}

// "https://api.hibob.com/v1" and "https://api.hibob.com/v1/" are the same API.
function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
