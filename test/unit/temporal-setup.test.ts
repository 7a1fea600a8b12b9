/**
 * `bobsync temporal setup` against a stand-in operator service: what it registers, what it
 * leaves, and the words it uses when Temporal refuses.
 */
import type { ConnectionLike } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { registerSearchAttributes, SearchAttributeSetupError } from '../../src/cli/temporal-setup';
import { BOBSYNC_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';

const T = temporal.api.enums.v1.IndexedValueType;
type Custom = Record<string, temporal.api.enums.v1.IndexedValueType>;

/** A gRPC error as the client raises it. */
const grpcError = (code: number, details: string) =>
  Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });

/** An operator service holding `custom`; `refuse` makes addSearchAttributes fail. */
function operator(custom: Custom, opts: { refuse?: Error; noList?: boolean } = {}) {
  const added: Custom[] = [];
  const service = {
    listSearchAttributes: async () => {
      if (opts.noList) throw grpcError(12, 'Method ListSearchAttributes is unimplemented');
      return { customAttributes: { ...custom } };
    },
    addSearchAttributes: async (request: { searchAttributes?: Custom | null }) => {
      if (opts.refuse) throw opts.refuse;
      added.push({ ...request.searchAttributes });
      Object.assign(custom, request.searchAttributes);
      return {};
    },
  };
  return { connection: { operatorService: service } as unknown as Pick<ConnectionLike, 'operatorService'>, added };
}

const names = BOBSYNC_SEARCH_ATTRIBUTES.map((k) => k.name);

describe('registerSearchAttributes', () => {
  it('adds every missing attribute with its type, in one call', async () => {
    const { connection, added } = operator({});
    const result = await registerSearchAttributes(connection, 'acme');
    expect(result).toEqual({ namespace: 'acme', added: names, present: [] });
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({
      BobsyncConnection: T.INDEXED_VALUE_TYPE_KEYWORD,
      BobsyncOutcome: T.INDEXED_VALUE_TYPE_KEYWORD,
      BobsyncPendingTimer: T.INDEXED_VALUE_TYPE_DATETIME,
    });
  });

  it('leaves attributes already registered with the same type, and adds only the rest', async () => {
    const { connection, added } = operator({
      BobsyncConnection: T.INDEXED_VALUE_TYPE_KEYWORD,
      BobsyncPendingTimer: T.INDEXED_VALUE_TYPE_DATETIME,
      SomeoneElses: T.INDEXED_VALUE_TYPE_TEXT,
    });
    const result = await registerSearchAttributes(connection, 'acme');
    expect(result.present).toEqual(['BobsyncConnection', 'BobsyncPendingTimer']);
    expect(Object.keys(added[0]!).sort()).toEqual(
      names.filter((n) => n !== 'BobsyncConnection' && n !== 'BobsyncPendingTimer').sort(),
    );
    // A second run finds everything and calls nothing.
    const again = await registerSearchAttributes(connection, 'acme');
    expect(again.added).toEqual([]);
    expect(added).toHaveLength(1);
  });

  it('refuses an attribute registered with another type, saying how to fix it', async () => {
    const { connection, added } = operator({ BobsyncOutcome: T.INDEXED_VALUE_TYPE_TEXT });
    const refused = registerSearchAttributes(connection, 'acme');
    await expect(refused).rejects.toThrow(SearchAttributeSetupError);
    await expect(refused).rejects.toThrow(
      /BobsyncOutcome is registered on namespace "acme" as Text, but bobsync sets it as Keyword.*search-attribute remove/,
    );
    expect(added).toHaveLength(0);
  });

  it('explains a refusal for want of permission, naming what to create', async () => {
    const { connection } = operator({}, { refuse: grpcError(7, 'Request unauthorized.') });
    await expect(registerSearchAttributes(connection, 'acme')).rejects.toThrow(
      /may not \(Request unauthorized\.\).*BobsyncConnection \(Keyword\).*BobsyncPendingTimer \(Datetime\)/,
    );
  });

  it("explains a namespace's attribute limit", async () => {
    const limit = grpcError(
      3,
      'Unable to create search attributes: cannot have more than 3 search attribute of type Keyword.',
    );
    const { connection } = operator({}, { refuse: limit });
    await expect(registerSearchAttributes(connection, 'acme')).rejects.toThrow(
      /Namespace "acme" has no room for more custom search attributes \(Unable to create.*\)\. Remove ones no longer used/,
    );
  });

  it('accepts attributes someone else registered meanwhile, when the types agree', async () => {
    const custom: Custom = {};
    const { connection } = operator(custom, {
      refuse: grpcError(6, 'Search attribute BobsyncConnection already exists.'),
    });
    // The other registration lands between the list and the add.
    const list = connection.operatorService.listSearchAttributes.bind(connection.operatorService);
    let calls = 0;
    connection.operatorService.listSearchAttributes = (async (...args: Parameters<typeof list>) => {
      if (calls++ === 1)
        for (const k of BOBSYNC_SEARCH_ATTRIBUTES)
          custom[k.name] = k.type === 'DATETIME' ? T.INDEXED_VALUE_TYPE_DATETIME : T.INDEXED_VALUE_TYPE_KEYWORD;
      return list(...args);
    }) as typeof list;
    await expect(registerSearchAttributes(connection, 'acme')).resolves.toMatchObject({ added: names });
  });

  it('registers on a server that cannot list attributes (the time-skipping test server)', async () => {
    const { connection, added } = operator({}, { noList: true });
    await expect(registerSearchAttributes(connection, 'default')).resolves.toMatchObject({ added: names });
    expect(Object.keys(added[0]!)).toEqual(names);
  });
});
