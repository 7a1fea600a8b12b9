import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  CodecAuthRequiredError,
  codecFromEnv,
  codecRouterFromEnv,
  createCodecRouter,
  generateCodecKey,
  payloadToJson,
  type JsonPayload,
} from '../../src/codec';
import { loadContext } from '../../src/config/context';
import { DEMO_CREDENTIALS } from '../../packages/local/stack/emulators';
import { embeddedConfigYaml } from '../../packages/local/stack/embedded';
import { freePort } from '../../src/dev/ports';
import { startApi, type RunningApi } from '../../src/processes';

const UI = 'http://localhost:8233';

interface CodecResponse {
  payloads: JsonPayload[];
  error?: string;
}
const codec = codecFromEnv({ BOBSYNC_CODEC_KEYS: `ops-1:${generateCodecKey()}` });

async function listen(app: express.Express): Promise<{ server: Server; base: string }> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, base: `http://127.0.0.1:${port}/codec` });
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: CodecResponse; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as CodecResponse, headers: res.headers };
}

const asJson = (value: unknown): JsonPayload => payloadToJson(defaultPayloadConverter.toPayload(value));
const fromJson = (p: JsonPayload): unknown =>
  defaultPayloadConverter.fromPayload({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  });

describe('codec HTTP endpoint (open, default origin)', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const app = express();
    app.use('/codec', codecRouterFromEnv(codec, {}));
    ({ server, base } = await listen(app));
  });
  afterAll(() => close(server));

  it('encodes and decodes payloads over HTTP, as the Temporal UI does', async () => {
    const values = [{ email: 'margaret.hamilton@example.com', site: 'Boston' }, 'second'];
    const enc = await post(
      `${base}/encode`,
      { payloads: values.map(asJson) },
      { 'X-Namespace': 'default', Origin: UI },
    );
    expect(enc.status).toBe(200);
    expect(enc.headers.get('access-control-allow-origin')).toBe(UI);
    expect(enc.json.payloads).toHaveLength(2);
    const first = enc.json.payloads[0]!;
    expect(Buffer.from(first.metadata!.encoding!, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(first.metadata!['encryption-key-id']!, 'base64').toString()).toBe('ops-1');
    expect(Buffer.from(first.data!, 'base64').includes('margaret')).toBe(false);

    // The UI appends a query string to the endpoint URL.
    const dec = await post(`${base}/decode?preserveStorageRefs=true`, enc.json, { 'X-Namespace': 'default' });
    expect(dec.status).toBe(200);
    expect(dec.json.payloads.map(fromJson)).toEqual(values);
  });

  it('decodes payloads encrypted in-process (what the worker wrote to history)', async () => {
    const sealed = await codec.encode([defaultPayloadConverter.toPayload({ id: 'emp-1' })]);
    const dec = await post(`${base}/decode`, { payloads: sealed.map(payloadToJson) });
    expect(dec.status).toBe(200);
    expect(fromJson(dec.json.payloads[0]!)).toEqual({ id: 'emp-1' });
  });

  it('answers the CORS preflight for the UI origin', async () => {
    const res = await fetch(`${base}/decode`, {
      method: 'OPTIONS',
      headers: {
        Origin: UI,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,x-namespace,authorization',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(UI);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/\s*,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(['content-type', 'x-namespace', 'authorization']));
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('gives no CORS grant to other origins', async () => {
    const res = await fetch(`${base}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('rejects malformed bodies with 400', async () => {
    expect((await post(`${base}/decode`, { payloads: { nope: true } })).status).toBe(400);
    expect((await post(`${base}/decode`, { payloads: [{ data: '***' }] })).json.error).toMatch(
      /payloads\[0\]\.data must be a base64 string/,
    );
    const broken = await post(`${base}/decode`, '{"payloads": [');
    expect(broken.status).toBe(400);
  });

  it('answers 422 naming the key id when a payload needs a key it does not have', async () => {
    const foreign = codecFromEnv({ BOBSYNC_CODEC_KEYS: `elsewhere:${generateCodecKey()}` });
    const sealed = await foreign.encode([defaultPayloadConverter.toPayload('x')]);
    const res = await post(`${base}/decode`, { payloads: sealed.map(payloadToJson) });
    expect(res.status).toBe(422);
    expect(res.json.error).toMatch(/codec key "elsewhere"/);
  });
});

describe('codec HTTP endpoint with a bearer token and configured origins', () => {
  let server: Server;
  let base: string;
  const token = 'codec-token-for-tests';

  beforeAll(async () => {
    const app = express();
    app.use('/codec', createCodecRouter({ codec, corsOrigins: ['http://localhost:8080'], authToken: token }));
    ({ server, base } = await listen(app));
  });
  afterAll(() => close(server));

  const body = { payloads: [asJson('secret')] };

  it('refuses requests without the token, with CORS headers so the browser can show why', async () => {
    const res = await post(`${base}/encode`, body, { Origin: 'http://localhost:8080' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:8080');
    expect((await post(`${base}/encode`, body, { Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(`${base}/encode`, body, { Authorization: token })).status).toBe(401);
  });

  it('accepts the token', async () => {
    const enc = await post(`${base}/encode`, body, { Authorization: `Bearer ${token}` });
    expect(enc.status).toBe(200);
    const dec = await post(`${base}/decode`, enc.json, { Authorization: `bearer ${token}` });
    expect(fromJson(dec.json.payloads[0]!)).toBe('secret');
  });

  it('lets the preflight through without a token (browsers never send one there)', async () => {
    const res = await fetch(`${base}/encode`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:8080', 'Access-Control-Request-Method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:8080');
  });

  it('does not grant the default dev-server origin once origins are configured', async () => {
    const res = await fetch(`${base}/encode`, {
      method: 'OPTIONS',
      headers: { Origin: UI, 'Access-Control-Request-Method': 'POST' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

/**
 * `bobsync api` as deployed: the webhook listener and the codec listener on ports of their own,
 * the codec endpoint behind a token, the webhook port knowing nothing of /codec.
 */
describe('bobsync api: webhook and codec listeners apart', () => {
  const token = 'codec-listener-token';
  const uiOrigin = 'http://localhost:8080';
  let dir: string;
  let configPath: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bobsync-codec-listener-'));
    configPath = join(dir, 'bobsync.yaml');
    writeFileSync(
      configPath,
      embeddedConfigYaml('http://127.0.0.1:9', 'http://127.0.0.1:9', { root: '0'.repeat(24), byName: {} }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function apiEnv(extra: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
    const temporal = process.env.BOBSYNC_TEST_TEMPORAL_ADDRESS;
    if (!temporal) throw new Error('No Temporal test server: run the tests through jest so global setup starts one.');
    return {
      TEMPORAL_ADDRESS: temporal,
      BOBSYNC_API_PORT: String(await freePort()),
      BOBSYNC_CODEC_PORT: String(await freePort()),
      BOBSYNC_CODEC_KEYS: `ops-1:${generateCodecKey()}`,
      BOBSYNC_CODEC_CORS_ORIGINS: uiOrigin,
      BOBSYNC_LOG_LEVEL: 'silent',
      HIBOB_SERVICE_USER_TOKEN: DEMO_CREDENTIALS.hibobToken,
      HIBOB_WEBHOOK_SECRET: DEMO_CREDENTIALS.hibobWebhookSecret,
      LEARNING360_CLIENT_SECRET: DEMO_CREDENTIALS.learning360ClientSecret,
      SKILLCAST_SCIM_TOKEN: DEMO_CREDENTIALS.skillcastToken,
      ...extra,
    };
  }

  const listening = (port: string | undefined) =>
    new Promise<boolean>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });

  describe('with a token', () => {
    let api: RunningApi;
    let env: NodeJS.ProcessEnv;
    let sealed: JsonPayload[];

    beforeAll(async () => {
      env = await apiEnv({ BOBSYNC_CODEC_AUTH_TOKEN: token });
      api = await startApi(loadContext({ config: configPath }, env), env);
      const payloads = await codecFromEnv(env).encode([
        defaultPayloadConverter.toPayload({ email: 'ada@example.com' }),
      ]);
      sealed = payloads.map(payloadToJson);
    });
    afterAll(() => api?.close());

    it('listens on the two configured ports', () => {
      expect(api.url).toBe(`http://127.0.0.1:${env.BOBSYNC_API_PORT}`);
      expect(api.codecUrl).toBe(`http://127.0.0.1:${env.BOBSYNC_CODEC_PORT}`);
    });

    it('refuses /codec/decode without the token, and decodes with it', async () => {
      const refused = await post(`${api.codecUrl}/codec/decode`, { payloads: sealed }, { Origin: uiOrigin });
      expect(refused.status).toBe(401);
      expect(refused.json.payloads).toBeUndefined();
      expect(
        (await post(`${api.codecUrl}/codec/decode`, { payloads: sealed }, { Authorization: 'Bearer nope' })).status,
      ).toBe(401);

      const ok = await post(`${api.codecUrl}/codec/decode`, { payloads: sealed }, { Authorization: `Bearer ${token}` });
      expect(ok.status).toBe(200);
      expect(fromJson(ok.json.payloads[0]!)).toEqual({ email: 'ada@example.com' });
    });

    it('lets the browser preflight from the UI origin through without a token', async () => {
      const res = await fetch(`${api.codecUrl}/codec/decode`, {
        method: 'OPTIONS',
        headers: {
          Origin: uiOrigin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization,content-type,x-namespace',
        },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(uiOrigin);
      expect((res.headers.get('access-control-allow-headers') ?? '').toLowerCase()).toContain('authorization');
    });

    it('answers 404 for /codec on the webhook port, which serves webhooks and health only', async () => {
      for (const path of ['/codec/decode', '/codec/encode']) {
        const res = await fetch(`${api.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', Authorization: `Bearer ${token}` },
          body: JSON.stringify({ payloads: sealed }),
        });
        expect({ path, status: res.status }).toEqual({ path, status: 404 });
      }
      expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
      // The webhook route is there: an unsigned delivery is refused, not unknown.
      const unsigned = await fetch(`${api.url}/webhooks/hibob/demo-360`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(unsigned.status).toBe(401);
    });

    it('serves no webhooks on the codec port', async () => {
      const res = await fetch(`${api.codecUrl}/webhooks/hibob/demo-360`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(404);
      expect((await fetch(`${api.codecUrl}/healthz`)).status).toBe(200);
    });
  });

  it('refuses to start without a token, before listening anywhere', async () => {
    const env = await apiEnv({});
    await expect(startApi(loadContext({ config: configPath }, env), env)).rejects.toThrow(CodecAuthRequiredError);
    await expect(startApi(loadContext({ config: configPath }, env), env)).rejects.toThrow(
      /BOBSYNC_CODEC_AUTH_TOKEN.*BOBSYNC_CODEC_ALLOW_UNAUTHENTICATED=true.*--no-codec/s,
    );
    expect(await listening(env.BOBSYNC_API_PORT)).toBe(false);
    expect(await listening(env.BOBSYNC_CODEC_PORT)).toBe(false);
  });

  it('starts open only when explicitly allowed (local development)', async () => {
    const env = await apiEnv({ BOBSYNC_CODEC_ALLOW_UNAUTHENTICATED: 'true' });
    const api = await startApi(loadContext({ config: configPath }, env), env);
    try {
      const sealed = (await codecFromEnv(env).encode([defaultPayloadConverter.toPayload('dev')])).map(payloadToJson);
      const res = await post(`${api.codecUrl}/codec/decode`, { payloads: sealed });
      expect(res.status).toBe(200);
      expect(fromJson(res.json.payloads[0]!)).toBe('dev');
    } finally {
      await api.close();
    }
  });

  it('runs the webhook API alone with codec: false (bobsync api --no-codec)', async () => {
    const env = await apiEnv({});
    const api = await startApi(loadContext({ config: configPath }, env), env, { codec: false });
    try {
      expect(api.codecUrl).toBeUndefined();
      expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
      expect(await listening(env.BOBSYNC_CODEC_PORT)).toBe(false);
    } finally {
      await api.close();
    }
  });
});
