/**
 * The SCIM client against an independent SCIM 2.0 implementation: scim2-server (python-scim's
 * scim2 tools, pinned in test/support/scim-server.ts), installed into the per-user cache when
 * missing and started on a free loopback port. It runs the same core checks as the emulator,
 * so the client is held to RFC 7643/7644 and not just to our own reading of them.
 *
 * Without python3 (or without access to PyPI on first run) the checks are skipped with the
 * reason; BOBSYNC_REQUIRE_SCIM2_SERVER=1 turns that into a failure.
 */
import { ScimClient, type ScimClientOptions } from '../../src/clients/scim';
import {
  SCIM2_SERVER_VERSION,
  describeScimClientChecks,
  ensureScim2Server,
  startScim2Server,
  type RunningScim2Server,
} from '../support/scim-server';

const TOKEN = 'independent-server-token';
const EXTENSION_URN = 'urn:example:params:scim:schemas:extension:bobsync:2.0:User';
const CUSTOM: [string, string] = ['site', 'startDate'];
const MAX_RESULTS = 5;

const install = ensureScim2Server();
if ('unavailable' in install) {
  if (process.env.BOBSYNC_REQUIRE_SCIM2_SERVER === '1')
    throw new Error(`scim2-server ${SCIM2_SERVER_VERSION} is required: ${install.unavailable}`);
  process.stderr.write(`Skipping the independent SCIM server checks: ${install.unavailable}\n`);
} else if (install.source === 'installed') {
  process.stderr.write(`Installed scim2-server ${SCIM2_SERVER_VERSION} in ${Math.round(install.installMs / 1000)} s\n`);
}

const describeWithServer = 'unavailable' in install ? describe.skip : describe;
let server: RunningScim2Server | undefined;
let counter = 0;

describeWithServer(`scim2-server ${SCIM2_SERVER_VERSION}`, () => {
  beforeAll(async () => {
    if ('unavailable' in install) return;
    server = await startScim2Server(install.python, {
      token: TOKEN,
      maxResults: MAX_RESULTS,
      extension: { urn: EXTENSION_URN, name: 'BobsyncUser', attributes: CUSTOM },
    });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  const client = (overrides: Partial<ScimClientOptions> = {}) =>
    new ScimClient({
      baseUrl: server!.baseUrl,
      token: TOKEN,
      extensionUrn: EXTENSION_URN,
      customAttributes: CUSTOM,
      requestsPerSecond: 1000,
      ...overrides,
    });

  describeScimClientChecks('scim2-server', () => ({
    client,
    extensionUrn: EXTENSION_URN,
    customAttributes: CUSTOM,
    maxResults: MAX_RESULTS,
    unique: () => `${Date.now().toString(36)}${(counter++).toString(36)}`,
  }));

  it('reads the user back after a 204 No Content PATCH', async () => {
    const c = client();
    const { user } = await c.createUser({ userName: `no-content.${counter++}@example.com` });
    const reads = c.calls.read;
    const updated = await c.updateUser(user.id, { displayName: 'After' });
    expect(updated).toMatchObject({ id: user.id, displayName: 'After' });
    // scim2-server answers PATCH with 204: the client read the result with one GET.
    expect(c.calls.read - reads).toBe(1);
  });
});
