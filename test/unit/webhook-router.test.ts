/**
 * POST /webhooks/hibob/:connection: it answers 400 to an event whose employee id cannot be a HiBob
 * id and starts nothing, and one delivery reaches every enabled connection reading the same HiBob
 * company. Temporal is a stand-in that records what it was asked to do.
 */
import http, { type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import type { Client } from '@temporalio/client';
import { signBobBody } from '../../src/api/hibob-webhook';
import { createWebhookRouter, type WebhookRouterOptions } from '../../src/api/webhooks';
import { parseConfig } from '../../src/config/loader';
import type { BobsyncConfig } from '../../src/config/schema';
import type { EmployeeSyncInput, HibobEventSignal } from '../../src/workflows/employee-sync-api';

const SECRET = 'whsec-router';
const SKILLCAST_SECRET = 'whsec-router-skillcast';
const GLOBEX_SECRET = 'whsec-router-globex';
const env = {
  HIBOB_WEBHOOK_SECRET: SECRET,
  HIBOB_WEBHOOK_SECRET_SKILLCAST: SKILLCAST_SECRET,
  HIBOB_WEBHOOK_SECRET_GLOBEX: GLOBEX_SECRET,
};

const destination360 = `
    destination:
      type: 360learning
      clientId: client-1
      clientSecret: { env: L360_SECRET }
      defaultGroupId: 507f1f77bcf86cd799439011`;

const config = parseConfig(`
connections:
  - name: acme-360
    source:
      type: hibob
      serviceUserId: SERVICE-1
      serviceUserToken: { env: HIBOB_TOKEN }
      webhookSecret: { env: HIBOB_WEBHOOK_SECRET }
${destination360}
`);

/** acme-360 and acme-skillcast read one HiBob company; acme-old does too but is off; globex-360 reads another. */
const fanOutConfig = parseConfig(`
connections:
  - name: acme-360
    source:
      type: hibob
      serviceUserId: SERVICE-1
      serviceUserToken: { env: HIBOB_TOKEN }
      webhookSecret: { env: HIBOB_WEBHOOK_SECRET }
${destination360}
  - name: globex-360
    source:
      type: hibob
      serviceUserId: SERVICE-2
      serviceUserToken: { env: HIBOB_TOKEN_GLOBEX }
      webhookSecret: { env: HIBOB_WEBHOOK_SECRET_GLOBEX }
${destination360}
  - name: acme-old
    enabled: false
    source:
      type: hibob
      serviceUserId: SERVICE-1
      serviceUserToken: { env: HIBOB_TOKEN }
      webhookSecret: { env: HIBOB_WEBHOOK_SECRET }
${destination360}
  - name: acme-skillcast
    source:
      type: hibob
      baseUrl: https://api.hibob.com/v1
      serviceUserId: SERVICE-1
      serviceUserToken: { env: HIBOB_TOKEN }
      webhookSecret: { env: HIBOB_WEBHOOK_SECRET_SKILLCAST }
    destination:
      type: skillcast
      baseUrl: https://acme.skillcast.io/skillcastApi/scim
      token: { env: SKILLCAST_TOKEN }
      domain: acme
`);

interface Start {
  workflowId: string;
  taskQueue: string;
  input: EmployeeSyncInput;
  signal: HibobEventSignal;
}

/**
 * Records every signal-with-start (and plain signal); a workflow id under a prefix in `failing` is
 * refused. Each call takes a few milliseconds, and `mostAtOnce` tells how many were in flight together.
 */
function fakeTemporal(): {
  client: Client;
  started: Start[];
  signalled: string[];
  failing: Set<string>;
  mostAtOnce: () => number;
} {
  const started: Start[] = [];
  const signalled: string[] = [];
  const failing = new Set<string>();
  let inFlight = 0;
  let most = 0;
  const refuse = (workflowId: string) => [...failing].some((prefix) => workflowId.startsWith(prefix));
  const call = async (workflowId: string, record: () => void): Promise<void> => {
    inFlight += 1;
    most = Math.max(most, inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (refuse(workflowId)) throw new Error('deadline exceeded');
      record();
    } finally {
      inFlight -= 1;
    }
  };
  const client = {
    connection: { withDeadline: (_deadline: number, fn: () => Promise<unknown>) => fn() },
    workflow: {
      getHandle: (workflowId: string) => ({ signal: () => call(workflowId, () => void signalled.push(workflowId)) }),
      signalWithStart: (
        _type: string,
        options: { workflowId: string; taskQueue: string; args: [EmployeeSyncInput]; signalArgs: [HibobEventSignal] },
      ) =>
        call(options.workflowId, () => {
          started.push({
            workflowId: options.workflowId,
            taskQueue: options.taskQueue,
            input: options.args[0],
            signal: options.signalArgs[0],
          });
        }),
    },
  } as unknown as Client;
  return {
    client,
    started,
    signalled,
    failing,
    mostAtOnce: () => {
      const seen = most;
      most = 0;
      return seen;
    },
  };
}

interface Running {
  base: string;
  close: () => Promise<void>;
}

async function serve(
  routerConfig: BobsyncConfig,
  temporal: Client,
  extra: Partial<WebhookRouterOptions> = {},
): Promise<Running> {
  const app = express();
  app.use(
    '/webhooks',
    createWebhookRouter({
      config: routerConfig,
      env,
      temporal,
      log: pino({ level: 'silent' }),
      taskQueue: 'bobsync-test',
      ...extra,
    }),
  );
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/hibob`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Answer {
  status: number;
  body: { error?: string; accepted?: boolean; workflowId?: string; connections?: string[] };
}

async function post(url: string, employeeId: string, secret = SECRET): Promise<Answer> {
  const body = JSON.stringify({
    companyId: 636192,
    type: 'employee.updated',
    triggeredAt: '2025-01-08T13:06:26.915906',
    data: { employeeId },
  });
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'bob-signature': signBobBody(secret, body) },
    body,
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

describe('webhook router and employee ids', () => {
  const temporal = fakeTemporal();
  let running: Running;

  beforeAll(async () => {
    running = await serve(config, temporal.client);
  });
  afterAll(() => running.close());
  beforeEach(() => {
    temporal.started.length = 0;
    temporal.signalled.length = 0;
  });

  it.each([
    ['5,000 characters', '7'.repeat(5_000)],
    ['control characters', '3332883854254932743\u0000\u001b'],
  ])('answers 400 naming data.employeeId for an id with %s and starts nothing', async (_name, employeeId) => {
    const res = await post(`${running.base}/acme-360`, employeeId);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^data\.employeeId: /);
    expect(temporal.started).toEqual([]);
  });

  it('hands a HiBob id to the employee workflow', async () => {
    const res = await post(`${running.base}/acme-360`, '3332883854254932743');
    expect(res).toEqual({
      status: 202,
      body: { accepted: true, workflowId: 'bobsync/acme-360/employee/3332883854254932743', connections: ['acme-360'] },
    });
    expect(temporal.started.map((s) => s.workflowId)).toEqual(['bobsync/acme-360/employee/3332883854254932743']);
  });
});

describe('one HiBob delivery reaches every connection of that HiBob company', () => {
  const temporal = fakeTemporal();
  const logLines: string[] = [];
  const accepted: string[] = [];
  let running: Running;

  beforeAll(async () => {
    running = await serve(fanOutConfig, temporal.client, {
      log: pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) }),
      onAccepted: (connection) => void accepted.push(connection),
    });
  });
  afterAll(() => running.close());
  beforeEach(() => {
    temporal.started.length = 0;
    temporal.signalled.length = 0;
    temporal.failing.clear();
    logLines.length = 0;
    accepted.length = 0;
    temporal.mostAtOnce();
  });

  it('starts the employee workflow of each enabled connection of the same source, with its own id and input, and none of another source', async () => {
    const res = await post(`${running.base}/acme-360`, '1000000000000000001');
    expect(res).toEqual({
      status: 202,
      body: {
        accepted: true,
        workflowId: 'bobsync/acme-360/employee/1000000000000000001',
        connections: ['acme-360', 'acme-skillcast'],
      },
    });
    expect(
      temporal.started
        .map(({ workflowId, taskQueue, input }) => ({ workflowId, taskQueue, input }))
        .sort((a, b) => a.workflowId.localeCompare(b.workflowId)),
    ).toEqual([
      {
        workflowId: 'bobsync/acme-360/employee/1000000000000000001',
        taskQueue: 'bobsync-test',
        input: { connection: 'acme-360', employeeId: '1000000000000000001', taskQueue: 'bobsync-test' },
      },
      {
        workflowId: 'bobsync/acme-skillcast/employee/1000000000000000001',
        taskQueue: 'bobsync-test',
        input: { connection: 'acme-skillcast', employeeId: '1000000000000000001', taskQueue: 'bobsync-test' },
      },
    ]);
    expect(temporal.started.map((s) => s.signal)).toEqual([
      expect.objectContaining({ type: 'employee.updated', employeeId: '1000000000000000001' }),
      expect.objectContaining({ type: 'employee.updated', employeeId: '1000000000000000001' }),
    ]);
    expect(accepted.sort()).toEqual(['acme-360', 'acme-skillcast']);
  });

  it('asks Temporal for the starts of all connections at once, not one after the other', async () => {
    const res = await post(`${running.base}/acme-360`, '1000000000000000007');
    expect(res.status).toBe(202);
    expect(temporal.mostAtOnce()).toBe(2);
  });

  it('lists the connection named in the URL first, whichever of the company it is', async () => {
    const res = await post(`${running.base}/acme-skillcast`, '1000000000000000002', SKILLCAST_SECRET);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      workflowId: 'bobsync/acme-skillcast/employee/1000000000000000002',
      connections: ['acme-skillcast', 'acme-360'],
    });
    expect(temporal.started).toHaveLength(2);
  });

  it('reaches only its own connection for a delivery to a connection of another HiBob company', async () => {
    const res = await post(`${running.base}/globex-360`, '1000000000000000003', GLOBEX_SECRET);
    expect(res.status).toBe(202);
    expect(res.body.connections).toEqual(['globex-360']);
    expect(temporal.started.map((s) => s.workflowId)).toEqual(['bobsync/globex-360/employee/1000000000000000003']);
  });

  it('answers 401 and starts nothing when the signature is not that of the named connection, even if it is another connection of the company', async () => {
    for (const secret of ['not-the-secret', SKILLCAST_SECRET]) {
      const res = await post(`${running.base}/acme-360`, '1000000000000000004', secret);
      expect(res).toEqual({ status: 401, body: { error: 'invalid Bob-Signature' } });
    }
    expect(temporal.started).toEqual([]);
    expect(temporal.signalled).toEqual([]);
    expect(accepted).toEqual([]);
  });

  it('answers 503 with Retry-After and logs the connection Temporal refused when one of the two fails', async () => {
    temporal.failing.add('bobsync/acme-skillcast/');
    const body = JSON.stringify({
      companyId: 636192,
      type: 'employee.updated',
      triggeredAt: '2025-01-08T13:06:26.915906',
      data: { employeeId: '1000000000000000005' },
    });
    const res = await fetch(`${running.base}/acme-360`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'bob-signature': signBobBody(SECRET, body) },
      body,
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(await res.json()).toEqual({ error: 'temporarily unable to accept the event; retry later' });
    // The other connection was reached; HiBob's retry signals it again, which its workflow takes in its stride.
    expect(temporal.started.map((s) => s.workflowId)).toEqual(['bobsync/acme-360/employee/1000000000000000005']);
    expect(accepted).toEqual([]);

    const errors = logLines
      .map(
        (line) =>
          JSON.parse(line) as {
            level: number;
            msg: string;
            failed?: { connection: string; workflowId: string; err: string }[];
          },
      )
      .filter((l) => l.level >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toContain('acme-skillcast');
    expect(errors[0]!.msg).not.toContain('acme-360');
    expect(errors[0]!.failed).toEqual([
      {
        connection: 'acme-skillcast',
        workflowId: 'bobsync/acme-skillcast/employee/1000000000000000005',
        err: 'deadline exceeded',
      },
    ]);
  });

  it('skips a disabled connection of the same source, and answers 404 for a delivery addressed to it', async () => {
    const res = await post(`${running.base}/acme-360`, '1000000000000000006');
    expect(res.body.connections).not.toContain('acme-old');
    expect(temporal.started.map((s) => s.workflowId)).not.toContain('bobsync/acme-old/employee/1000000000000000006');

    temporal.started.length = 0;
    const toDisabled = await post(`${running.base}/acme-old`, '1000000000000000006');
    expect(toDisabled).toEqual({ status: 404, body: { error: 'unknown connection "acme-old"' } });
    expect(temporal.started).toEqual([]);
  });
});

describe('reading the delivery', () => {
  const temporal = fakeTemporal();
  let running: Running;
  const event = (employeeId: string) =>
    JSON.stringify({
      companyId: 636192,
      type: 'employee.updated',
      triggeredAt: '2025-01-08T13:06:26.915906',
      data: { employeeId },
    });

  beforeAll(async () => {
    running = await serve(config, temporal.client, { maxBodyBytes: 1024 });
  });
  afterAll(() => running.close());
  beforeEach(() => {
    temporal.started.length = 0;
  });

  /** A raw request, so the body can be sent in pieces or compressed. */
  function send(
    body: Buffer[],
    headers: Record<string, string>,
  ): Promise<{ status: number; contentType?: string; body: unknown }> {
    const url = new URL(`${running.base}/acme-360`);
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              contentType: res.headers['content-type'],
              body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown,
            }),
          );
        },
      );
      req.on('error', reject);
      for (const piece of body) req.write(piece);
      req.end();
    });
  }

  it('takes a body sent in pieces, without a length, and answers in JSON', async () => {
    const body = Buffer.from(event('1000000000000000011'));
    const res = await send([body.subarray(0, 20), body.subarray(20)], {
      'content-type': 'application/json',
      'bob-signature': signBobBody(SECRET, body),
    });
    expect(res).toEqual({
      status: 202,
      contentType: 'application/json; charset=utf-8',
      body: { accepted: true, workflowId: 'bobsync/acme-360/employee/1000000000000000011', connections: ['acme-360'] },
    });
    expect(temporal.started).toHaveLength(1);
  });

  it('checks the signature of a gzipped body against the body as sent before compression', async () => {
    const body = Buffer.from(event('1000000000000000012'));
    const res = await send([gzipSync(body)], {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      'bob-signature': signBobBody(SECRET, body),
    });
    expect(res.status).toBe(202);
    const forged = await send([gzipSync(body)], {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      'bob-signature': signBobBody('not-the-secret', body),
    });
    expect(forged).toMatchObject({ status: 401, body: { error: 'invalid Bob-Signature' } });
    expect(temporal.started.map((s) => s.workflowId)).toEqual(['bobsync/acme-360/employee/1000000000000000012']);
  });

  it('answers 413 to a body over the limit, whether its length is declared or not, and starts nothing', async () => {
    const big = Buffer.alloc(4096, 'x');
    expect(await send([big], { 'content-type': 'application/json' })).toMatchObject({
      status: 413,
      body: { error: 'body too large' },
    });
    expect(
      await send([big.subarray(0, 800), big.subarray(800)], {
        'content-type': 'application/json',
        'transfer-encoding': 'chunked',
      }),
    ).toMatchObject({ status: 413, body: { error: 'body too large' } });
    expect(temporal.started).toEqual([]);
  });

  it('answers 401 to an empty unsigned body and 415 to an encoding it cannot read', async () => {
    expect(await send([], { 'content-type': 'application/json' })).toMatchObject({ status: 401 });
    expect(
      await send([Buffer.from('abc')], { 'content-type': 'application/json', 'content-encoding': 'rot13' }),
    ).toMatchObject({ status: 415, body: { error: 'unsupported content encoding "rot13"' } });
    expect(temporal.started).toEqual([]);
  });
});
