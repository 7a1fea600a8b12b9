/**
 * POST /webhooks/hibob/:connection answers 400 to an event whose employee id cannot be a HiBob id
 * and starts nothing. Temporal is a stand-in that records what it was asked to do.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import type { Client } from '@temporalio/client';
import { signBobBody } from '../../src/api/hibob-webhook';
import { createWebhookRouter } from '../../src/api/webhooks';
import { parseConfig } from '../../src/config/loader';

const SECRET = 'whsec-router';
const config = parseConfig(`
connections:
  - name: acme-360
    source:
      type: hibob
      serviceUserId: SERVICE-1
      serviceUserToken: { env: HIBOB_TOKEN }
      webhookSecret: { env: HIBOB_WEBHOOK_SECRET }
    destination:
      type: 360learning
      clientId: client-1
      clientSecret: { env: L360_SECRET }
      defaultGroupId: 507f1f77bcf86cd799439011
`);

const started: string[] = [];
const temporal = {
  connection: { withDeadline: (_deadline: number, fn: () => Promise<unknown>) => fn() },
  workflow: {
    getHandle: (workflowId: string) => ({ signal: () => Promise.resolve(void started.push(workflowId)) }),
    signalWithStart: (_type: string, options: { workflowId: string }) => Promise.resolve(void started.push(options.workflowId)),
  },
} as unknown as Client;

let server: Server;
let url: string;

beforeAll(async () => {
  const app = express();
  app.use('/webhooks', createWebhookRouter({ config, env: { HIBOB_WEBHOOK_SECRET: SECRET }, temporal, log: pino({ level: 'silent' }), taskQueue: 'bobsync-test' }));
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/hibob/acme-360`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  started.length = 0;
});

async function deliver(employeeId: string): Promise<{ status: number; body: { error?: string; workflowId?: string } }> {
  const body = JSON.stringify({ companyId: 636192, type: 'employee.updated', triggeredAt: '2025-01-08T13:06:26.915906', data: { employeeId } });
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'bob-signature': signBobBody(SECRET, body) }, body });
  return { status: res.status, body: (await res.json()) as { error?: string; workflowId?: string } };
}

describe('webhook router and employee ids', () => {
  it.each([
    ['5,000 characters', '7'.repeat(5_000)],
    ['control characters', '3332883854254932743\u0000\u001b'],
  ])('answers 400 naming data.employeeId for an id with %s and starts nothing', async (_name, employeeId) => {
    const res = await deliver(employeeId);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^data\.employeeId: /);
    expect(started).toEqual([]);
  });

  it('hands a HiBob id to the employee workflow', async () => {
    const res = await deliver('3332883854254932743');
    expect(res).toEqual({ status: 202, body: { accepted: true, workflowId: 'bobsync/acme-360/employee/3332883854254932743' } });
    expect(started).toEqual(['bobsync/acme-360/employee/3332883854254932743']);
  });
});
