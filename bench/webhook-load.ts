/**
 * Load generator for bench/webhooks.ts. It runs as a child process so that signing, sending and
 * timing never share an event loop with the API under test: a generator in the same process
 * would both steal the API's loop and notice responses late whenever the API is busy.
 *
 * Open loop: request i is due at i / rate seconds whatever happened to earlier ones, with at most
 * `concurrency` requests in flight. Every request is reported back, with its status and times.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { signBobBody } from '../src/api/hibob-webhook';
import { formatMicros } from '../packages/local/emulators/hibob/ids';

export interface LoadPlan {
  /** Full webhook URL, e.g. http://127.0.0.1:1234/webhooks/hibob/demo-360. */
  url: string;
  secret: string;
  rate: number;
  durationS: number;
  employeeIds: string[];
  companyId: number;
  triggeredBy: string;
  concurrency: number;
  /** Per-request deadline; longer than the API's own Temporal deadline, so its 503 is seen. */
  timeoutMs: number;
  /** Sending stops this long after the planned end even if requests are still due. */
  graceMs: number;
}

export interface LoadRecord {
  employeeId: string;
  triggeredAt: string;
  /** Milliseconds after the start: when the request was due, sent and answered. */
  dueMs: number;
  sentMs: number;
  doneMs: number;
  /** HTTP status; 0 when no answer came (error or timeout). */
  status: number;
  error?: string;
}

export interface LoadResult {
  /** Epoch milliseconds of the start, for lining up with the parent's clock. */
  startedAt: number;
  planned: number;
  unsent: number;
  records: LoadRecord[];
  cpuMs: number;
}

export type LoadMessage = { kind: 'started'; at: number } | { kind: 'done'; result: LoadResult };

const FIELD_IDS = ['root.displayName', 'work.title', 'root.surname', 'work.department', 'work.site'];

interface Prepared {
  employeeId: string;
  triggeredAt: string;
  body: Buffer;
  signature: string;
}

/** Bodies and signatures are made before the clock starts, so sending is all the loop does. */
function prepare(plan: LoadPlan, total: number): Prepared[] {
  const baseMicros = Date.now() * 1000;
  const out: Prepared[] = [];
  for (let i = 0; i < total; i++) {
    const employeeId = plan.employeeIds[i % plan.employeeIds.length]!;
    // Distinct triggeredAt per request: HiBob's duplicate key, and how the check finds each event.
    const triggeredAt = formatMicros(baseMicros + i);
    const body = Buffer.from(
      JSON.stringify({
        companyId: plan.companyId,
        type: 'employee.updated',
        triggeredBy: plan.triggeredBy,
        triggeredAt,
        version: 'v2',
        data: { employeeId, fieldUpdates: [{ fieldId: FIELD_IDS[i % FIELD_IDS.length]! }] },
      }),
    );
    out.push({ employeeId, triggeredAt, body, signature: signBobBody(plan.secret, body) });
  }
  return out;
}

export function runLoad(plan: LoadPlan, onStart: (at: number) => void): Promise<LoadResult> {
  const total = Math.max(0, Math.round(plan.rate * plan.durationS));
  const prepared = prepare(plan, total);
  // Oldest free socket first: every socket is reused often, none idles until the server closes it
  // just as a request goes out on it (a reset that says nothing about the API).
  const agent = new http.Agent({ keepAlive: true, maxSockets: plan.concurrency, scheduling: 'fifo' });
  const target = new URL(plan.url);
  const records: LoadRecord[] = [];
  const cpuBefore = process.cpuUsage();
  const startedAt = Date.now();
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const stopSendingAt = plan.durationS * 1000 + plan.graceMs;
  let next = 0;
  let inFlight = 0;
  onStart(startedAt);

  return new Promise<LoadResult>((resolve) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(ticker);
      agent.destroy();
      const cpu = process.cpuUsage(cpuBefore);
      resolve({ startedAt, planned: total, unsent: total - next, records, cpuMs: (cpu.user + cpu.system) / 1000 });
    };

    const send = (i: number) => {
      const p = prepared[i]!;
      const dueMs = (i * 1000) / plan.rate;
      const sentMs = now();
      inFlight++;
      let settled = false;
      const settle = (status: number, error?: string) => {
        if (settled) return;
        settled = true;
        inFlight--;
        records.push({
          employeeId: p.employeeId,
          triggeredAt: p.triggeredAt,
          dueMs,
          sentMs,
          doneMs: now(),
          status,
          ...(error ? { error } : {}),
        });
        pump();
      };
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': p.body.length,
            'bob-signature': p.signature,
            'user-agent': 'Bob-Webhooks/2',
          },
        },
        (res) => {
          res.resume();
          res.once('end', () => settle(res.statusCode ?? 0));
          res.once('error', (err) => settle(0, err.message));
        },
      );
      req.setTimeout(plan.timeoutMs, () => req.destroy(new Error('timeout')));
      req.once('error', (err) => settle(0, err.message));
      req.end(p.body);
    };

    const pump = () => {
      if (finished) return;
      const elapsed = now();
      if (elapsed < stopSendingAt) {
        const due = Math.min(total, Math.floor((elapsed * plan.rate) / 1000) + 1);
        while (next < due && inFlight < plan.concurrency) send(next++);
      }
      const doneSending = next >= total || elapsed >= stopSendingAt;
      if (doneSending && inFlight === 0) finish();
    };

    const ticker = setInterval(pump, 1);
    pump();
  });
}

// Forked by bench/webhooks.ts: one plan in, one result out, then exit.
if (require.main === module && process.send) {
  process.once('message', (plan: LoadPlan) => {
    void runLoad(plan, (at) => process.send?.({ kind: 'started', at } satisfies LoadMessage)).then((result) => {
      process.send?.({ kind: 'done', result } satisfies LoadMessage, () => process.disconnect());
    });
  });
}
