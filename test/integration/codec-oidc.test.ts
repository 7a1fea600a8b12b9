/**
 * `bobsync codec-server` as its own process, accepting what a signed-in Temporal UI forwards: an
 * OIDC access token (a JWT) from the configured issuer and audience, checked against the issuer's
 * published keys (discovery + JWKS, served here by a stand-in identity provider). Tokens are
 * signed with node:crypto, independently of the library the server verifies with.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { codecFromEnv, generateCodecKey, payloadToJson, type JsonPayload } from '../../src/codec';
import { freePort } from '../../src/dev/ports';

jest.setTimeout(60_000);

const root = join(__dirname, '..', '..');
const AUDIENCE = 'bobsync-codec';
const STATIC_TOKEN = 'cli-token-for-tests';

interface Idp {
  issuer: string;
  requests: string[];
  close(): Promise<void>;
}

/** Discovery document and JWKS of a stand-in identity provider. */
async function startIdp(keys: { kid: string; key: KeyObject }[]): Promise<Idp> {
  const requests: string[] = [];
  let issuer = '';
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    if (req.url === '/realms/ops/.well-known/openid-configuration') {
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/protocol/openid-connect/certs` }));
    } else if (req.url === '/realms/ops/protocol/openid-connect/certs') {
      res.end(
        JSON.stringify({
          keys: keys.map(({ kid, key }) => ({ ...key.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' })),
        }),
      );
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/ops`;
  return {
    issuer,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function jwt(claims: Record<string, unknown>, key: KeyObject, header: Record<string, unknown> = {}): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${part({ alg: 'RS256', typ: 'JWT', kid: 'k1', ...header })}.${part(claims)}`;
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput), key).toString('base64url')}`;
}

interface CodecProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<number | null>;
}

/** Starts `node bin/bobsync.js codec-server` and waits until it listens (or exits). */
async function startCodecProcess(env: NodeJS.ProcessEnv): Promise<CodecProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(root, 'bin', 'bobsync.js'), 'codec-server'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, BOBSYNC_CODEC_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await Promise.race([
    new Promise<void>((resolve) => {
      const check = () =>
        output.includes('codec endpoint listening') || child.exitCode !== null ? resolve() : setTimeout(check, 50);
      check();
    }),
    exited,
  ]);
  return {
    url: `http://127.0.0.1:${port}/codec`,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

async function decode(url: string, payloads: JsonPayload[], authorization?: string) {
  const res = await fetch(`${url}/decode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ payloads }),
  });
  return { status: res.status, body: (await res.json()) as { payloads?: JsonPayload[]; error?: string } };
}

describe('bobsync codec-server with OIDC access tokens', () => {
  const signing = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const codecKeys = `oidc-1:${generateCodecKey()}`;
  let idp: Idp;
  let server: CodecProcess;
  let sealed: JsonPayload[];
  const now = () => Math.floor(Date.now() / 1000);
  let claims: () => Record<string, unknown>;

  beforeAll(async () => {
    idp = await startIdp([{ kid: 'k1', key: signing.publicKey }]);
    claims = () => ({ iss: idp.issuer, aud: [AUDIENCE, 'account'], sub: 'ops-user', iat: now(), exp: now() + 300 });
    server = await startCodecProcess({
      BOBSYNC_CODEC_KEYS: codecKeys,
      BOBSYNC_CODEC_AUTH_TOKEN: STATIC_TOKEN,
      BOBSYNC_CODEC_OIDC_ISSUER: idp.issuer,
      BOBSYNC_CODEC_OIDC_AUDIENCE: AUDIENCE,
    });
    expect(server.output()).toContain('codec endpoint listening');
    const payloads = await codecFromEnv({ BOBSYNC_CODEC_KEYS: codecKeys }).encode([
      defaultPayloadConverter.toPayload({ email: 'grace@example.com' }),
    ]);
    sealed = payloads.map(payloadToJson);
  });
  afterAll(async () => {
    await server?.stop();
    await idp?.close();
  });

  it('decodes for a valid access token, finding the keys through OIDC discovery', async () => {
    const res = await decode(server.url, sealed, `Bearer ${jwt(claims(), signing.privateKey)}`);
    expect(res.status).toBe(200);
    expect(
      defaultPayloadConverter.fromPayload({
        metadata: Object.fromEntries(
          Object.entries(res.body.payloads![0]!.metadata!).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
        ),
        data: Buffer.from(res.body.payloads![0]!.data!, 'base64'),
      }),
    ).toEqual({ email: 'grace@example.com' });
    expect(idp.requests).toEqual(
      expect.arrayContaining([
        '/realms/ops/.well-known/openid-configuration',
        '/realms/ops/protocol/openid-connect/certs',
      ]),
    );
  });

  it('still takes the static token (the Temporal CLI)', async () => {
    expect((await decode(server.url, sealed, `Bearer ${STATIC_TOKEN}`)).status).toBe(200);
  });

  it.each([
    ['no token', () => undefined],
    ['a token signed by another key', () => `Bearer ${jwt(claims(), stranger.privateKey)}`],
    ['an expired token', () => `Bearer ${jwt({ ...claims(), exp: now() - 600 }, signing.privateKey)}`],
    ['a token for another audience', () => `Bearer ${jwt({ ...claims(), aud: 'another-app' }, signing.privateKey)}`],
    [
      'a token from another issuer',
      () => `Bearer ${jwt({ ...claims(), iss: 'https://elsewhere.example' }, signing.privateKey)}`,
    ],
    [
      'an unsigned token',
      () => `Bearer ${jwt(claims(), signing.privateKey, { alg: 'none' }).replace(/\.[^.]+$/, '.')}`,
    ],
    ['a token naming an unknown key id', () => `Bearer ${jwt(claims(), signing.privateKey, { kid: 'k9' })}`],
  ])('refuses %s with 401', async (_what, authorization) => {
    const res = await decode(server.url, sealed, authorization());
    expect(res.status).toBe(401);
    expect(res.body.payloads).toBeUndefined();
  });

  it('answers 503 (retry later), not 401, while the identity provider cannot be reached', async () => {
    const unreachable = `http://127.0.0.1:${await freePort()}/realms/ops`;
    const other = await startCodecProcess({
      BOBSYNC_CODEC_KEYS: codecKeys,
      BOBSYNC_CODEC_OIDC_ISSUER: unreachable,
      BOBSYNC_CODEC_OIDC_AUDIENCE: AUDIENCE,
    });
    try {
      const token = jwt({ ...claims(), iss: unreachable }, signing.privateKey);
      const res = await decode(other.url, sealed, `Bearer ${token}`);
      expect(res.status).toBe(503);
      expect(res.body.error).toMatch(/OIDC discovery .* failed/);
    } finally {
      expect(await other.stop()).toBe(0);
    }
  });

  it('will not start without any credential, saying how to give it one', async () => {
    const bare = await startCodecProcess({ BOBSYNC_CODEC_KEYS: codecKeys });
    expect(await bare.stop()).toBe(1);
    expect(bare.output()).toMatch(/BOBSYNC_CODEC_AUTH_TOKEN/);
    expect(bare.output()).toMatch(/BOBSYNC_CODEC_OIDC_ISSUER/);
    expect(bare.output()).not.toContain('codec endpoint listening');
  });

  it('will not start with an issuer but no audience', async () => {
    const bare = await startCodecProcess({ BOBSYNC_CODEC_KEYS: codecKeys, BOBSYNC_CODEC_OIDC_ISSUER: idp.issuer });
    expect(await bare.stop()).toBe(1);
    expect(bare.output()).toMatch(/BOBSYNC_CODEC_OIDC_AUDIENCE is not/);
  });
});
