/**
 * Webhook v2 sender. Each subscription has its own queue delivered strictly in order: the next
 * event waits until the previous one got a 2xx or was given up after the retry schedule, at
 * which point the subscription is marked failed (Bob deactivates it). Retry times follow the
 * emulator clock, so moving the clock forward releases pending retries.
 */
import { z } from 'zod';
import type { EmulatorClock } from '../common/clock';
import { MicrosecondStamper } from './ids';
import { HIBOB_EVENT_TYPES, HibobAdminError, type DirectoryEvent } from './types';
import { FIELD_UPDATES_VARIANTS, bobSignature, envelopeBody } from './webhook-payload';

/** Partner webhook schedule: 1, 10, 20, 40, 80, 160 minutes. */
export const DEFAULT_RETRY_SCHEDULE_MS = [1, 10, 20, 40, 80, 160].map((m) => m * 60_000);
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

const faultsSchema = z
  .object({
    /** Every n-th event of the subscription is sent twice. */
    duplicateEvery: z.number().int().positive().optional(),
    /** The next n events are sent twice. */
    duplicateNext: z.number().int().min(0).optional(),
    /** The next n events overtake the event queued just before them. */
    reorderNext: z.number().int().min(0).optional(),
    /** The next n events are lost. */
    dropNext: z.number().int().min(0).optional(),
    fieldUpdatesVariant: z.enum(FIELD_UPDATES_VARIANTS).optional(),
    /** Leave `version` out of the envelope, as one official example does. */
    omitVersion: z.boolean().optional(),
  })
  .strict();
export type WebhookFaults = z.infer<typeof faultsSchema>;

export const subscriptionInputSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    secret: z.string().min(1),
    name: z.string().optional(),
    /** Event types to send; omitted = all. */
    events: z.array(z.enum(HIBOB_EVENT_TYPES)).optional(),
    signPings: z.boolean().optional(),
    /** Run the ping test on creation (default true). */
    ping: z.boolean().optional(),
    faults: faultsSchema.optional(),
  })
  .strict();
export type WebhookSubscriptionInput = z.input<typeof subscriptionInputSchema>;

export const subscriptionPatchSchema = subscriptionInputSchema
  .omit({ ping: true })
  .partial()
  .extend({ status: z.enum(['active', 'disabled']).optional() })
  .strict();
export type WebhookSubscriptionPatch = z.input<typeof subscriptionPatchSchema>;

export type SubscriptionStatus = 'active' | 'failed' | 'disabled';

export interface WebhookSubscription {
  id: string;
  name: string;
  url: string;
  secret: string;
  events: string[] | null;
  signPings: boolean;
  status: SubscriptionStatus;
  createdAt: string;
  failedAt: string | null;
  faults: WebhookFaults;
  ping: { state: 'pending' | 'accepted' | 'rejected' | 'skipped'; acceptedAs?: 'string' | 'json' };
  /** Deliveries queued or being retried. */
  pending: number;
  delivered: number;
}

export interface DeliveryAttempt {
  at: string;
  status: number | null;
  error?: string;
  durationMs: number;
}

export type DeliveryState = 'pending' | 'in-flight' | 'delivered' | 'failed' | 'dropped' | 'accepted' | 'rejected';

export interface WebhookDelivery {
  id: number;
  subscriptionId: string;
  kind: 'event' | 'ping';
  type: string;
  state: DeliveryState;
  /** Exact bytes sent (for pings: the JSON form). */
  body: string;
  payload: unknown;
  signature: string | null;
  attempts: DeliveryAttempt[];
  createdAt: string;
  nextAttemptAt: string | null;
  duplicateOf?: number;
}

interface Delivery extends Omit<WebhookDelivery, 'nextAttemptAt'> {
  nextAttemptMs: number;
}

interface Subscription extends Omit<WebhookSubscription, 'pending'> {
  queue: Delivery[];
  log: Delivery[];
  inFlight: boolean;
  eventCount: number;
}

export interface WebhookSenderOptions {
  clock: EmulatorClock;
  companyId: number;
  retryScheduleMs?: number[];
  timeoutMs?: number;
  /** How often queues are checked for due deliveries (real milliseconds). */
  pollMs?: number;
  /** Content type of the plain-string ping. */
  pingStringContentType?: string;
}

const MAX_LOG = 10_000;
const PING_TEXT = 'Ping test';

export class WebhookSender {
  private readonly subs = new Map<string, Subscription>();
  private readonly stamper = new MicrosecondStamper();
  private readonly controllers = new Set<AbortController>();
  private readonly running = new Set<Promise<void>>();
  private nextSubId = 1;
  private nextDeliveryId = 1;
  private ticker: NodeJS.Timeout | undefined;
  private kickHandle: NodeJS.Immediate | undefined;
  private started = false;
  retryScheduleMs: number[];
  timeoutMs: number;

  constructor(private readonly o: WebhookSenderOptions) {
    this.retryScheduleMs = o.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS;
    this.timeoutMs = o.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  }

  // ---- lifecycle -------------------------------------------------------------

  start(): void {
    if (this.started) return;
    this.started = true;
    this.ticker = setInterval(() => this.pump(), this.o.pollMs ?? 25);
    this.ticker.unref();
    this.kick();
  }

  /** Stops timers and aborts requests in flight; queued deliveries stay queued. */
  async stop(): Promise<void> {
    this.started = false;
    if (this.ticker) clearInterval(this.ticker);
    if (this.kickHandle) clearImmediate(this.kickHandle);
    this.ticker = undefined;
    this.kickHandle = undefined;
    for (const c of this.controllers) c.abort();
    await Promise.allSettled([...this.running]);
  }

  /** Resolves true once every active subscription has an empty queue, false after `timeoutMs`. */
  async idle(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const busy = [...this.subs.values()].some((s) => s.inFlight || (s.status === 'active' && s.queue.length > 0));
      if (!busy) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  reset(): void {
    for (const c of this.controllers) c.abort();
    this.subs.clear();
  }

  // ---- subscriptions ---------------------------------------------------------

  subscribe(input: WebhookSubscriptionInput): WebhookSubscription {
    const parsed = subscriptionInputSchema.safeParse(input);
    if (!parsed.success) throw new HibobAdminError(400, 'invalid_subscription', z.prettifyError(parsed.error));
    const v = parsed.data;
    const id = String(this.nextSubId++);
    const sub: Subscription = {
      id,
      name: v.name ?? `webhook-${id}`,
      url: v.url,
      secret: v.secret,
      events: v.events ?? null,
      signPings: v.signPings ?? false,
      status: 'active',
      createdAt: this.o.clock.now().toISOString(),
      failedAt: null,
      faults: v.faults ?? {},
      ping: { state: v.ping === false ? 'skipped' : 'pending' },
      delivered: 0,
      queue: [],
      log: [],
      inFlight: false,
      eventCount: 0,
    };
    this.subs.set(id, sub);
    if (v.ping !== false) {
      const ping = this.newDelivery(sub, 'ping', 'ping', JSON.stringify({ text: PING_TEXT }), null);
      sub.queue.push(ping);
      this.log(sub, ping);
      this.kick();
    }
    return this.view(sub);
  }

  update(id: string, patch: WebhookSubscriptionPatch): WebhookSubscription {
    const sub = this.require(id);
    const parsed = subscriptionPatchSchema.safeParse(patch);
    if (!parsed.success) throw new HibobAdminError(400, 'invalid_subscription', z.prettifyError(parsed.error));
    const p = parsed.data;
    if (p.url !== undefined) sub.url = p.url;
    if (p.secret !== undefined) sub.secret = p.secret;
    if (p.name !== undefined) sub.name = p.name;
    if (p.events !== undefined) sub.events = p.events;
    if (p.signPings !== undefined) sub.signPings = p.signPings;
    if (p.faults !== undefined) sub.faults = p.faults;
    if (p.status !== undefined) {
      sub.status = p.status;
      if (p.status === 'active') {
        sub.failedAt = null;
        for (const d of sub.queue) d.nextAttemptMs = Math.min(d.nextAttemptMs, this.o.clock.nowMs());
      }
    }
    this.kick();
    return this.view(sub);
  }

  remove(id: string): void {
    this.require(id);
    this.subs.delete(id);
  }

  list(): WebhookSubscription[] {
    return [...this.subs.values()].map((s) => this.view(s));
  }

  get(id: string): WebhookSubscription {
    return this.view(this.require(id));
  }

  deliveries(subscriptionId?: string): WebhookDelivery[] {
    const subs = subscriptionId ? [this.require(subscriptionId)] : [...this.subs.values()];
    return subs
      .flatMap((s) => s.log)
      .sort((a, b) => a.id - b.id)
      .map((d) => this.deliveryView(d));
  }

  // ---- sending ---------------------------------------------------------------

  emit(event: DirectoryEvent): void {
    if (this.subs.size === 0) return;
    const triggeredAt = this.stamper.stamp(this.o.clock.nowMs());
    for (const sub of this.subs.values()) {
      if (sub.status !== 'active') continue;
      if (sub.events && !sub.events.includes(event.type)) continue;
      const f = sub.faults;
      sub.eventCount += 1;
      const body = envelopeBody(event, {
        companyId: this.o.companyId,
        triggeredAt,
        variant: f.fieldUpdatesVariant ?? 'fieldId',
        omitVersion: f.omitVersion,
      });
      const delivery = this.newDelivery(sub, 'event', event.type, body, bobSignature(sub.secret, body));
      if (f.dropNext) {
        f.dropNext -= 1;
        delivery.state = 'dropped';
        this.log(sub, delivery);
        continue;
      }
      let at = sub.queue.length;
      const last = sub.queue[sub.queue.length - 1];
      if (f.reorderNext && last && last.kind === 'event' && last.state === 'pending' && last.attempts.length === 0) {
        f.reorderNext -= 1;
        at = sub.queue.length - 1;
      }
      sub.queue.splice(at, 0, delivery);
      this.log(sub, delivery);
      const duplicate =
        (f.duplicateEvery !== undefined && sub.eventCount % f.duplicateEvery === 0) || (f.duplicateNext ?? 0) > 0;
      if (duplicate) {
        if (f.duplicateNext) f.duplicateNext -= 1;
        const copy = this.newDelivery(sub, 'event', event.type, body, delivery.signature);
        copy.duplicateOf = delivery.id;
        sub.queue.splice(at + 1, 0, copy);
        this.log(sub, copy);
      }
    }
    this.kick();
  }

  private kick(): void {
    if (!this.started || this.kickHandle) return;
    this.kickHandle = setImmediate(() => {
      this.kickHandle = undefined;
      this.pump();
    });
  }

  private pump(): void {
    if (!this.started) return;
    const now = this.o.clock.nowMs();
    for (const sub of this.subs.values()) {
      if (sub.inFlight || sub.status !== 'active') continue;
      const head = sub.queue[0];
      if (!head || head.nextAttemptMs > now) continue;
      sub.inFlight = true;
      const run: Promise<void> = this.attempt(sub, head).finally(() => {
        sub.inFlight = false;
        this.running.delete(run);
        this.kick();
      });
      this.running.add(run);
    }
  }

  private async attempt(sub: Subscription, d: Delivery): Promise<void> {
    if (d.kind === 'ping') return this.ping(sub, d);
    d.state = 'in-flight';
    const attempt = await this.post(sub, d.body, 'application/json', d.signature);
    d.attempts.push(attempt);
    if (isSuccess(attempt)) {
      d.state = 'delivered';
      sub.delivered += 1;
      this.dequeue(sub, d);
      return;
    }
    d.state = 'pending';
    if (!this.started) return;
    const failures = d.attempts.length;
    const wait = this.retryScheduleMs[failures - 1];
    if (wait === undefined) {
      // Retries exhausted: Bob gives up on this event and deactivates the webhook.
      d.state = 'failed';
      this.dequeue(sub, d);
      sub.status = 'failed';
      sub.failedAt = this.o.clock.now().toISOString();
      return;
    }
    d.nextAttemptMs = this.o.clock.nowMs() + wait;
  }

  /** The plain string first; the JSON form only if the string was not accepted. */
  private async ping(sub: Subscription, d: Delivery): Promise<void> {
    d.state = 'in-flight';
    const sign = (body: string) => (sub.signPings ? bobSignature(sub.secret, body) : null);
    const first = await this.post(sub, PING_TEXT, this.o.pingStringContentType ?? 'text/plain', sign(PING_TEXT));
    d.attempts.push(first);
    if (isSuccess(first)) {
      sub.ping = { state: 'accepted', acceptedAs: 'string' };
    } else {
      const second = await this.post(sub, d.body, 'application/json', sign(d.body));
      d.attempts.push(second);
      sub.ping = isSuccess(second) ? { state: 'accepted', acceptedAs: 'json' } : { state: 'rejected' };
    }
    d.state = sub.ping.state === 'accepted' ? 'accepted' : 'rejected';
    this.dequeue(sub, d);
  }

  private async post(
    sub: Subscription,
    body: string,
    contentType: string,
    signature: string | null,
  ): Promise<DeliveryAttempt> {
    const controller = new AbortController();
    this.controllers.add(controller);
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    const at = this.o.clock.now().toISOString();
    const started = Date.now();
    const headers: Record<string, string> = { 'content-type': contentType, 'user-agent': 'Bob-Webhooks/2' };
    if (signature) headers['Bob-Signature'] = signature;
    try {
      const res = await fetch(sub.url, { method: 'POST', headers, body, signal: controller.signal });
      await res.arrayBuffer().catch(() => undefined);
      return { at, status: res.status, durationMs: Date.now() - started };
    } catch (err) {
      const error = controller.signal.aborted
        ? this.started
          ? 'timeout'
          : 'stopped'
        : err instanceof Error
          ? err.cause instanceof Error
            ? err.cause.message
            : err.message
          : String(err);
      return { at, status: null, error, durationMs: Date.now() - started };
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
    }
  }

  // ---- helpers -----------------------------------------------------------------

  private newDelivery(
    sub: Subscription,
    kind: Delivery['kind'],
    type: string,
    body: string,
    signature: string | null,
  ): Delivery {
    return {
      id: this.nextDeliveryId++,
      subscriptionId: sub.id,
      kind,
      type,
      state: 'pending',
      body,
      payload: JSON.parse(body) as unknown,
      signature,
      attempts: [],
      createdAt: this.o.clock.now().toISOString(),
      nextAttemptMs: 0,
    };
  }

  private dequeue(sub: Subscription, d: Delivery): void {
    const i = sub.queue.indexOf(d);
    if (i >= 0) sub.queue.splice(i, 1);
  }

  private log(sub: Subscription, d: Delivery): void {
    sub.log.push(d);
    if (sub.log.length > MAX_LOG) sub.log.splice(0, sub.log.length - MAX_LOG);
  }

  private require(id: string): Subscription {
    const sub = this.subs.get(id);
    if (!sub) throw new HibobAdminError(404, 'not_found', `No webhook subscription ${id}`);
    return sub;
  }

  private view(s: Subscription): WebhookSubscription {
    const { queue, log: _log, inFlight: _inFlight, eventCount: _count, ...rest } = s;
    return structuredClone({ ...rest, pending: queue.length });
  }

  private deliveryView(d: Delivery): WebhookDelivery {
    const { nextAttemptMs, ...rest } = d;
    const waiting = d.state === 'pending' || d.state === 'in-flight';
    return structuredClone({
      ...rest,
      nextAttemptAt: waiting ? new Date(nextAttemptMs || Date.parse(d.createdAt)).toISOString() : null,
    });
  }
}

function isSuccess(a: DeliveryAttempt): boolean {
  return a.status !== null && a.status >= 200 && a.status < 300;
}
