/**
 * bobsync against a Temporal that wants TLS: the shared dev server behind a TLS terminator that
 * demands a client certificate (mTLS), and behind a gRPC proxy that wants an API key (as Temporal
 * Cloud does). Settings come the way an operator gives them: TEMPORAL_* variables or a
 * temporal.toml profile, through loadContext, the worker and `bobsync health`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { codecDataConverter, codecFromEnv } from '../../src/codec/aes-gcm-codec';
import { loadContext } from '../../src/config/context';
import { runHealthCheck } from '../../src/processes';
import { connectClient } from '../../src/temporal/client';
import { TemporalConnectError, type TemporalConnectionSettings } from '../../src/temporal/connection-settings';
import { createWorkers, type WorkerSet } from '../../src/worker';
import { workflowBundle } from '../support/temporal';
import { startTestStack, type TestStack } from '../support/stack';
import {
  makeTestPki,
  startApiKeyProxy,
  startTlsTerminator,
  type ApiKeyProxy,
  type TestPki,
  type TlsTerminator,
} from '../support/tls-proxies';

jest.setTimeout(120_000);

describe('connecting to a Temporal that wants TLS, a client certificate or an API key', () => {
  let stack: TestStack;
  let pki: TestPki;
  let mtls: TlsTerminator;
  let apiKeyProxy: ApiKeyProxy;
  let configPath: string;
  let home: string;

  beforeAll(async () => {
    pki = makeTestPki();
    stack = await startTestStack({ name: 'tls', only: ['hibob'], worker: false });
    const upstream = process.env.BOBSYNC_TEST_TEMPORAL_ADDRESS!;
    mtls = await startTlsTerminator({ upstream, pki, requireClientCert: true });
    apiKeyProxy = await startApiKeyProxy({ upstream, pki, apiKey: 'the-right-key' });
    const dir = mkdtempSync(join(tmpdir(), 'bobsync-tls-'));
    configPath = join(dir, 'bobsync.yaml');
    // bobsync.yaml still names the plain server: the settings below must win over it.
    writeFileSync(configPath, stringify(stack.config));
    // A home without a temporal.toml, so the developer's own profile stays out of the test.
    home = mkdtempSync(join(tmpdir(), 'bobsync-home-'));
  });
  afterAll(async () => {
    await mtls?.close();
    await apiKeyProxy?.close();
    await stack?.close();
  });

  const envWith = (temporal: Record<string, string>): NodeJS.ProcessEnv => ({ ...stack.env, HOME: home, ...temporal });

  async function startWorkers(env: NodeJS.ProcessEnv, temporal: TemporalConnectionSettings): Promise<WorkerSet> {
    return createWorkers({
      config: stack.config,
      env,
      temporal,
      dataConverter: codecDataConverter(codecFromEnv(env)),
      workflowBundle: workflowBundle(),
    });
  }

  async function withRunningWorkers<T>(workers: WorkerSet, fn: () => Promise<T>): Promise<T> {
    const running = workers.run();
    try {
      return await fn();
    } finally {
      await workers.shutdown();
      await running;
    }
  }

  it('runs the worker and `bobsync health` over mTLS, with the client certificate from TEMPORAL_TLS_* variables', async () => {
    const env = envWith({
      TEMPORAL_ADDRESS: mtls.address,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert,
      TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey,
    });
    const ctx = loadContext({ config: configPath }, env);
    expect(ctx.address).toBe(mtls.address);
    const before = mtls.clients.length;
    const workers = await startWorkers(env, ctx.temporal!);

    const result = await withRunningWorkers(workers, () => runHealthCheck({ config: configPath }, env));

    expect(result).toMatchObject({ connection: 'demo-360', hibob: 'ok' });
    expect(result.temporal).toEqual({
      address: mtls.address,
      namespace: stack.config.temporal.namespace,
      tls: 'mtls',
      apiKey: false,
    });
    // The worker's and the health check's connections both came through the terminator, with our certificate.
    expect(mtls.clients.slice(before).filter((cn) => cn === 'bobsync-client').length).toBeGreaterThanOrEqual(2);
  });

  it('takes the same mTLS settings from a temporal.toml profile, the certificate inline', async () => {
    const toml = join(mkdtempSync(join(tmpdir(), 'bobsync-toml-')), 'temporal.toml');
    writeFileSync(
      toml,
      [
        '[profile.secure]',
        `address = "${mtls.address}"`,
        '[profile.secure.tls]',
        `server_ca_cert_path = "${pki.caCert}"`,
        `client_cert_data = """\n${readFileSync(pki.clientCert, 'utf8')}"""`,
        `client_key_path = "${pki.clientKey}"`,
      ].join('\n'),
    );
    const ctx = loadContext(
      { config: configPath },
      envWith({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'secure' }),
    );
    const client = await connectClient({ settings: ctx.temporal! });
    try {
      const info = await client.workflowService.describeNamespace({ namespace: 'default' });
      expect(info.namespaceInfo?.name).toBe('default');
    } finally {
      await client.connection.close();
    }
  });

  it('says the server wants a client certificate when none is set', async () => {
    const env = envWith({ TEMPORAL_ADDRESS: mtls.address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert });
    const ctx = loadContext({ config: configPath }, env);
    const connecting = connectClient({ settings: ctx.temporal!, connectTimeoutMs: 1_500 });
    await expect(connecting).rejects.toBeInstanceOf(TemporalConnectError);
    await expect(connecting).rejects.toThrow(
      /^TLS with Temporal at 127\.0\.0\.1:\d+ failed .*The server asks for a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH\./,
    );
    // The worker's connection says the same.
    await expect(startWorkers(env, ctx.temporal!)).rejects.toThrow(/set TEMPORAL_TLS_CLIENT_CERT_PATH/);
  });

  it('says which setting holds a CA the server’s certificate does not come from', async () => {
    const env = envWith({
      TEMPORAL_ADDRESS: mtls.address,
      // The stranger CA did not issue the server's certificate.
      TEMPORAL_TLS_SERVER_CA_CERT_DATA: readFileSync(join(pki.dir, 'stranger-ca.pem'), 'utf8'),
      TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey,
    });
    const ctx = loadContext({ config: configPath }, env);
    await expect(startWorkers(env, ctx.temporal!)).rejects.toThrow(
      "The server's certificate is not signed by the CA from TEMPORAL_TLS_SERVER_CA_CERT_DATA: set the CA that issued it.",
    );
  });

  it('runs the worker and `bobsync health` with an API key (TLS implied), and never prints the key', async () => {
    const env = envWith({
      TEMPORAL_ADDRESS: apiKeyProxy.address,
      TEMPORAL_API_KEY: 'the-right-key',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert,
    });
    const ctx = loadContext({ config: configPath }, env);
    const forwardedBefore = apiKeyProxy.forwarded;
    const workers = await startWorkers(env, ctx.temporal!);

    const result = await withRunningWorkers(workers, () => runHealthCheck({ config: configPath }, env));

    expect(result).toMatchObject({ hibob: 'ok' });
    expect(result.temporal).toEqual({
      address: apiKeyProxy.address,
      namespace: stack.config.temporal.namespace,
      tls: 'tls',
      apiKey: true,
    });
    expect(JSON.stringify(result)).not.toContain('the-right-key');
    // Polls, the start and the result all went through the proxy, with the key.
    expect(apiKeyProxy.forwarded - forwardedBefore).toBeGreaterThan(5);
  });

  it('names TEMPORAL_API_KEY when Temporal refuses the key, for the client and the worker', async () => {
    const env = envWith({
      TEMPORAL_ADDRESS: apiKeyProxy.address,
      TEMPORAL_API_KEY: 'a-wrong-key',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert,
    });
    const rejectedBefore = apiKeyProxy.rejected;
    const refused = /^Temporal refused the API key from TEMPORAL_API_KEY: invalid API key\. Check the key/;

    await expect(runHealthCheck({ config: configPath }, env)).rejects.toThrow(refused);
    const ctx = loadContext({ config: configPath }, env);
    await expect(startWorkers(env, ctx.temporal!)).rejects.toThrow(refused);
    expect(apiKeyProxy.rejected).toBeGreaterThan(rejectedBefore);
  });
});
