import { connectionsOfSameSource, sameHibobSource } from '../../src/api/fan-out';
import type { BobsyncConfig, ConnectionConfig } from '../../src/config/schema';

type Stub = { name: string; enabled?: boolean; baseUrl?: string; serviceUserId: string };

/** Only the fields the rule reads; the rest of a connection does not matter to it. */
function configOf(...stubs: Stub[]): Pick<BobsyncConfig, 'connections'> {
  return {
    connections: stubs.map(
      (s) =>
        ({
          name: s.name,
          enabled: s.enabled ?? true,
          source: { type: 'hibob', baseUrl: s.baseUrl ?? 'https://api.hibob.com/v1', serviceUserId: s.serviceUserId },
        }) as unknown as ConnectionConfig,
    ),
  };
}

describe('same HiBob source', () => {
  it('is the same API base and the same service user', () => {
    const a = { baseUrl: 'https://api.hibob.com/v1', serviceUserId: 'SERVICE-1' };
    expect(sameHibobSource(a, { ...a })).toBe(true);
    expect(sameHibobSource(a, { ...a, serviceUserId: 'SERVICE-2' })).toBe(false);
    expect(sameHibobSource(a, { ...a, baseUrl: 'https://api.sandbox.hibob.com/v1' })).toBe(false);
  });

  it('does not tell apart an API base written with a trailing slash', () => {
    expect(
      sameHibobSource(
        { baseUrl: 'https://api.hibob.com/v1/', serviceUserId: 'S' },
        { baseUrl: 'https://api.hibob.com/v1', serviceUserId: 'S' },
      ),
    ).toBe(true);
  });
});

describe('connectionsOfSameSource', () => {
  const config = configOf(
    { name: 'acme-360', serviceUserId: 'SERVICE-1' },
    { name: 'globex-360', serviceUserId: 'SERVICE-2' },
    { name: 'acme-sandbox', serviceUserId: 'SERVICE-1', baseUrl: 'https://api.sandbox.hibob.com/v1' },
    { name: 'acme-old', serviceUserId: 'SERVICE-1', enabled: false },
    { name: 'acme-skillcast', serviceUserId: 'SERVICE-1' },
    { name: 'acme-extra', serviceUserId: 'SERVICE-1' },
  );

  it('names the connection itself first, then the other enabled connections of its HiBob company in config order', () => {
    expect(connectionsOfSameSource(config, 'acme-360')).toEqual(['acme-360', 'acme-skillcast', 'acme-extra']);
    expect(connectionsOfSameSource(config, 'acme-skillcast')).toEqual(['acme-skillcast', 'acme-360', 'acme-extra']);
  });

  it('leaves out connections of another service user or another API base', () => {
    expect(connectionsOfSameSource(config, 'globex-360')).toEqual(['globex-360']);
    expect(connectionsOfSameSource(config, 'acme-sandbox')).toEqual(['acme-sandbox']);
  });

  it('leaves out a disabled connection of the same company', () => {
    expect(connectionsOfSameSource(config, 'acme-360')).not.toContain('acme-old');
  });

  it('reaches nobody for an unknown or disabled connection', () => {
    expect(connectionsOfSameSource(config, 'nope')).toEqual([]);
    expect(connectionsOfSameSource(config, 'acme-old')).toEqual([]);
  });
});
