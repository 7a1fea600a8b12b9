/**
 * How the Temporal connection is resolved: TEMPORAL_* variables over the temporal.toml profile over
 * bobsync.yaml, certificates by path or by value, TLS implied by an API key, and errors that name
 * the setting to fix.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  TemporalSettingsError,
  connectionOptions,
  defaultConfigFile,
  describeConnection,
  explainConnectError,
  resolveConnectionSettings,
  tlsMode,
} from '../../src/temporal/connection-settings';
import { makeTestPki, type TestPki } from '../support/tls-proxies';

const YAML = { address: 'yaml-host:7233', namespace: 'yaml-ns' };

let pki: TestPki;
let home: string;

beforeAll(() => {
  pki = makeTestPki();
});
beforeEach(() => {
  // A home of its own: the developer's ~/.config/temporalio/temporal.toml never leaks into a test.
  home = mkdtempSync(join(tmpdir(), 'bobsync-home-'));
});

function resolve(env: NodeJS.ProcessEnv) {
  return resolveConnectionSettings({ env: { HOME: home, ...env }, defaults: YAML, defaultsFrom: '/etc/bobsync.yaml' });
}

function tomlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'bobsync-toml-')), 'temporal.toml');
  writeFileSync(file, text);
  return file;
}

const PROFILES = `
[profile.default]
address = "default-host:7233"
namespace = "default-ns"

[profile.prod]
address = "prod.a1b2c.tmprl.cloud:7233"
namespace = "prod.a1b2c"
api_key = "profile-key"
`;

describe('where each value comes from', () => {
  it('uses bobsync.yaml when neither the environment nor a profile says anything, over plain gRPC', () => {
    const s = resolve({});
    expect(s).toMatchObject({ address: 'yaml-host:7233', namespace: 'yaml-ns', tls: false, metadata: {} });
    expect(s.apiKey).toBeUndefined();
    expect(s.from.address).toBe('temporal.address in /etc/bobsync.yaml');
    expect(describeConnection(s)).toEqual({
      address: 'yaml-host:7233',
      namespace: 'yaml-ns',
      tls: 'none',
      apiKey: false,
    });
    expect(connectionOptions(s)).toEqual({ address: 'yaml-host:7233', tls: false });
  });

  it('takes the "default" profile of the file TEMPORAL_CONFIG_FILE names over bobsync.yaml', () => {
    const file = tomlFile(PROFILES);
    const s = resolve({ TEMPORAL_CONFIG_FILE: file });
    expect(s).toMatchObject({
      address: 'default-host:7233',
      namespace: 'default-ns',
      profile: { name: 'default', file },
    });
    expect(s.from.namespace).toBe(`namespace of profile "default" in ${file}`);
  });

  it('lets each TEMPORAL_* variable beat the profile, value by value', () => {
    const file = tomlFile(PROFILES);
    const s = resolve({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod', TEMPORAL_NAMESPACE: 'env-ns' });
    expect(s.address).toBe('prod.a1b2c.tmprl.cloud:7233');
    expect(s.namespace).toBe('env-ns');
    expect(s.apiKey).toBe('profile-key');
    expect(s.from).toMatchObject({ namespace: 'TEMPORAL_NAMESPACE', apiKey: `api_key of profile "prod" in ${file}` });

    const all = resolve({
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'prod',
      TEMPORAL_ADDRESS: 'env-host:7233',
      TEMPORAL_API_KEY: 'env-key',
    });
    expect(all).toMatchObject({ address: 'env-host:7233', namespace: 'prod.a1b2c', apiKey: 'env-key' });
    expect(all.from.apiKey).toBe('TEMPORAL_API_KEY');
  });

  it('finds the CLI’s default file under HOME (or XDG_CONFIG_HOME) without TEMPORAL_CONFIG_FILE', () => {
    mkdirSync(join(home, '.config', 'temporalio'), { recursive: true });
    writeFileSync(join(home, '.config', 'temporalio', 'temporal.toml'), PROFILES);
    expect(defaultConfigFile({ HOME: home }, 'linux')).toBe(join(home, '.config', 'temporalio', 'temporal.toml'));
    if (process.platform === 'linux') expect(resolve({}).address).toBe('default-host:7233');

    expect(defaultConfigFile({ HOME: home, XDG_CONFIG_HOME: '/xdg' }, 'linux')).toBe('/xdg/temporalio/temporal.toml');
    // A relative XDG_CONFIG_HOME is ignored, as the CLI ignores it.
    expect(defaultConfigFile({ HOME: '/h', XDG_CONFIG_HOME: 'rel' }, 'linux')).toBe(
      '/h/.config/temporalio/temporal.toml',
    );
    expect(defaultConfigFile({ HOME: '/Users/a' }, 'darwin')).toBe(
      '/Users/a/Library/Application Support/temporalio/temporal.toml',
    );
    expect(defaultConfigFile({}, 'linux')).toBe('');
  });

  it('treats empty variables as unset, as compose files pass them', () => {
    const s = resolve({ TEMPORAL_ADDRESS: '', TEMPORAL_API_KEY: '', TEMPORAL_TLS: '' });
    expect(s.address).toBe('yaml-host:7233');
    expect(tlsMode(s)).toBe('none');
  });

  it('reads gRPC headers from TEMPORAL_GRPC_META_* over the profile’s grpc_meta; an empty variable removes one', () => {
    const file = tomlFile(`
[profile.default.grpc_meta]
x-team = "hr"
x-region = "eu"
`);
    const s = resolve({
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_GRPC_META_X_TENANT_ID: 'acme',
      TEMPORAL_GRPC_META_X_REGION: '',
    });
    expect(s.metadata).toEqual({ 'x-team': 'hr', 'x-tenant-id': 'acme' });
    expect(connectionOptions(s).metadata).toEqual({ 'x-team': 'hr', 'x-tenant-id': 'acme' });
  });
});

describe('TLS', () => {
  it('turns TLS on for an API key alone (Temporal Cloud), unless TEMPORAL_TLS says false', () => {
    const cloud = resolve({ TEMPORAL_API_KEY: 'k' });
    expect(cloud.tls).toEqual({});
    expect(describeConnection(cloud)).toMatchObject({ tls: 'tls', apiKey: true });
    expect(cloud.from.tls).toBe('implied by the API key from TEMPORAL_API_KEY');
    expect(connectionOptions(cloud)).toEqual({ address: 'yaml-host:7233', tls: {}, apiKey: 'k' });

    const plain = resolve({ TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' });
    expect(plain.tls).toBe(false);
    // An explicit false, or the SDK would switch TLS back on because of the key.
    expect(connectionOptions(plain).tls).toBe(false);
  });

  it('turns TLS off from the profile’s tls.disabled, and TEMPORAL_TLS=true back on', () => {
    const file = tomlFile(`
[profile.default]
api_key = "k"
[profile.default.tls]
disabled = true
`);
    expect(tlsMode(resolve({ TEMPORAL_CONFIG_FILE: file }))).toBe('none');
    const on = resolve({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_TLS: 'true' });
    expect(tlsMode(on)).toBe('tls');
    expect(on.from.tls).toBe('set by TEMPORAL_TLS');
  });

  it('reads the CA and client pair by path or by value, to the same bytes', () => {
    const byPath = resolve({
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert,
      TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
    });
    const byData = resolve({
      TEMPORAL_TLS_SERVER_CA_CERT_DATA: readFileSync(pki.caCert, 'utf8'),
      TEMPORAL_TLS_CLIENT_CERT_DATA: readFileSync(pki.clientCert, 'utf8'),
      TEMPORAL_TLS_CLIENT_KEY_DATA: readFileSync(pki.clientKey, 'utf8'),
    });
    for (const s of [byPath, byData]) {
      expect(tlsMode(s)).toBe('mtls');
      const tls = s.tls as Exclude<typeof s.tls, false>;
      expect(Buffer.from(tls.serverRootCACertificate!).equals(readFileSync(pki.caCert))).toBe(true);
      expect(Buffer.from(tls.clientCertPair!.crt).equals(readFileSync(pki.clientCert))).toBe(true);
      expect(Buffer.from(tls.clientCertPair!.key).equals(readFileSync(pki.clientKey))).toBe(true);
    }
    expect(byPath.tls && byPath.tls.serverNameOverride).toBe('temporal.test');
    expect(byPath.from).toMatchObject({
      clientCert: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
      serverName: 'TEMPORAL_TLS_SERVER_NAME',
      tls: 'implied by TEMPORAL_TLS_SERVER_CA_CERT_PATH',
    });
    expect(byData.from.clientKey).toBe('TEMPORAL_TLS_CLIENT_KEY_DATA');
  });

  it('takes the client pair from the profile, by path and by inline data', () => {
    const file = tomlFile(`
[profile.mtls]
address = "cluster:7233"
[profile.mtls.tls]
client_cert_path = "${pki.clientCert}"
client_key_data = """
${readFileSync(pki.clientKey, 'utf8')}"""
server_ca_cert_path = "${pki.caCert}"
`);
    const s = resolve({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'mtls' });
    expect(describeConnection(s)).toEqual({
      address: 'cluster:7233',
      namespace: 'yaml-ns',
      tls: 'mtls',
      apiKey: false,
      profile: `mtls (${file})`,
    });
    expect(s.from.clientKey).toBe(`tls.client_key_data of profile "mtls" in ${file}`);
  });

  it('lets a variable replace the profile’s certificate even when the profile gave it the other way', () => {
    const file = tomlFile(`
[profile.default.tls]
server_ca_cert_path = "/nowhere/ca.pem"
`);
    const s = resolve({
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_TLS_SERVER_CA_CERT_DATA: readFileSync(pki.caCert, 'utf8'),
    });
    expect(s.from.serverCaCert).toBe('TEMPORAL_TLS_SERVER_CA_CERT_DATA');
  });

  it('never shows the API key in the summary', () => {
    const s = resolve({ TEMPORAL_API_KEY: 'secret-key-123', TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233' });
    expect(describeConnection(s)).toEqual({
      address: 'ns.acct.tmprl.cloud:7233',
      namespace: 'yaml-ns',
      tls: 'tls',
      apiKey: true,
    });
    expect(JSON.stringify(describeConnection(s))).not.toContain('secret-key-123');
  });
});

describe('errors that name the setting and the fix', () => {
  const fails = (env: NodeJS.ProcessEnv) => {
    try {
      resolve(env);
    } catch (err) {
      expect(err).toBeInstanceOf(TemporalSettingsError);
      return (err as Error).message;
    }
    throw new Error('expected the settings to be refused');
  };

  it('a missing certificate file: the variable and the path', () => {
    expect(
      fails({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/nowhere/client.pem', TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey }),
    ).toBe(
      'TEMPORAL_TLS_CLIENT_CERT_PATH points to /nowhere/client.pem, which does not exist: set it to the client certificate file.',
    );
    expect(fails({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nowhere/ca.pem' })).toMatch(
      /^TEMPORAL_TLS_SERVER_CA_CERT_PATH points to \/nowhere\/ca\.pem, which does not exist/,
    );
  });

  it('a missing file named in a profile: the key, the profile and the file', () => {
    const file = tomlFile(`
[profile.default.tls]
client_cert_path = "/nowhere/c.pem"
client_key_path = "/nowhere/k.pem"
`);
    expect(fails({ TEMPORAL_CONFIG_FILE: file })).toContain(
      `tls.client_cert_path of profile "default" in ${file} points to /nowhere/c.pem, which does not exist`,
    );
  });

  it('an unreadable key, a key of another certificate, a file that is no certificate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bobsync-bad-'));
    const garbage = join(dir, 'garbage.key');
    writeFileSync(garbage, 'not a key');
    expect(fails({ TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert, TEMPORAL_TLS_CLIENT_KEY_PATH: garbage })).toMatch(
      /^The client private key from TEMPORAL_TLS_CLIENT_KEY_PATH cannot be read .*unencrypted PEM key\.$/,
    );
    expect(
      fails({ TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert, TEMPORAL_TLS_CLIENT_KEY_PATH: pki.strangerKey }),
    ).toBe(
      'The client key from TEMPORAL_TLS_CLIENT_KEY_PATH does not belong to the certificate from TEMPORAL_TLS_CLIENT_CERT_PATH: set the key issued with that certificate.',
    );
    expect(fails({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.clientKey })).toMatch(
      /^TEMPORAL_TLS_SERVER_CA_CERT_PATH holds no PEM certificate/,
    );
  });

  it('half a client pair', () => {
    expect(fails({ TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert })).toMatch(
      /^A client certificate is set \(TEMPORAL_TLS_CLIENT_CERT_PATH\) but no key: set TEMPORAL_TLS_CLIENT_KEY_PATH/,
    );
    expect(fails({ TEMPORAL_TLS_CLIENT_KEY_DATA: readFileSync(pki.clientKey, 'utf8') })).toMatch(
      /^A client key is set \(TEMPORAL_TLS_CLIENT_KEY_DATA\) but no certificate/,
    );
  });

  it('a path and a value for the same thing', () => {
    expect(fails({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert, TEMPORAL_TLS_SERVER_CA_CERT_DATA: 'x' })).toBe(
      'Both TEMPORAL_TLS_SERVER_CA_CERT_PATH and TEMPORAL_TLS_SERVER_CA_CERT_DATA are set: keep one (the path or the PEM text).',
    );
  });

  it('a config file or profile that is not there, or not TOML', () => {
    expect(fails({ TEMPORAL_CONFIG_FILE: '/nowhere/temporal.toml' })).toBe(
      'TEMPORAL_CONFIG_FILE points to /nowhere/temporal.toml, which does not exist. Fix the path or unset TEMPORAL_CONFIG_FILE.',
    );
    const file = tomlFile(PROFILES);
    expect(fails({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' })).toBe(
      `TEMPORAL_PROFILE is "staging", but ${file} (TEMPORAL_CONFIG_FILE) has no [profile.staging] (its profiles: default, prod).`,
    );
    expect(fails({ TEMPORAL_PROFILE: 'prod' })).toMatch(
      /^TEMPORAL_PROFILE is "prod", but there is no Temporal config file at /,
    );
    const broken = tomlFile('[profile.default\naddress = ');
    expect(fails({ TEMPORAL_CONFIG_FILE: broken })).toMatch(
      new RegExp(`^The Temporal config file ${broken} \\(TEMPORAL_CONFIG_FILE\\) is not valid: `),
    );
  });

  it('a TLS switch that is neither true nor false, and host verification the SDK cannot turn off', () => {
    expect(fails({ TEMPORAL_TLS: 'yes please' })).toBe('TEMPORAL_TLS is "yes please": use true or false.');
    expect(fails({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' })).toMatch(/set TEMPORAL_TLS_SERVER_NAME/);
    expect(tlsMode(resolve({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'false' }))).toBe('none');
  });

  it('an API key and an authorization header at once', () => {
    expect(fails({ TEMPORAL_API_KEY: 'k', TEMPORAL_GRPC_META_AUTHORIZATION: 'Bearer other' })).toMatch(
      /^An API key \(TEMPORAL_API_KEY\) and an authorization gRPC header/,
    );
  });
});

describe('a refused connection, explained', () => {
  // What the client reports (a gRPC status code) and what the worker's core reports (its description).
  const clientRefusal = () =>
    new Error('Failed to connect to Temporal server', {
      cause: Object.assign(new Error('16 UNAUTHENTICATED: Request unauthorized.'), { code: 16 }),
    });
  const workerRefusal = () =>
    new Error(
      `Failed to call GetSystemInfo: code: 'The request does not have valid authentication credentials', message: "Request unauthorized."`,
    );

  it('names the API key’s setting, from the client and from the worker alike', async () => {
    const s = resolve({ TEMPORAL_API_KEY: 'k', TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233' });
    for (const err of [clientRefusal(), workerRefusal()]) {
      const explained = await explainConnectError(err, s, {});
      expect(explained.message).toBe(
        'Temporal refused the API key from TEMPORAL_API_KEY: Request unauthorized. Check the key, and that it may use namespace yaml-ns.',
      );
      expect(explained.cause).toBe(err);
    }
  });

  it('names the profile when the key came from there', async () => {
    const file = tomlFile(PROFILES);
    const s = resolve({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
    expect((await explainConnectError(workerRefusal(), s, {})).message).toMatch(
      new RegExp(`^Temporal refused the API key from api_key of profile "prod" in ${file}: `),
    );
  });

  it('asks for credentials when none were given, and points at a variable the CLI would not read either', async () => {
    const s = resolve({});
    const explained = await explainConnectError(clientRefusal(), s, { TEMPORAL_TLS_CA_CERT_PATH: '/etc/ca.pem' });
    expect(explained.message).toMatch(
      /^Temporal at yaml-host:7233 asks for credentials \(Request unauthorized\): set TEMPORAL_API_KEY/,
    );
    expect(explained.message).toContain(
      'TEMPORAL_TLS_CA_CERT_PATH is set, but bobsync (like the temporal CLI) reads TEMPORAL_TLS_SERVER_CA_CERT_PATH.',
    );
  });
});
