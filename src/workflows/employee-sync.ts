/**
 * One workflow per connection and employee: the single writer for that person (design
 * decisions 1 and 10). Webhook events (signals), on-demand syncs (the `syncNow` update, which
 * full syncs use too) and due effective dates (pre-start activation, end-of-last-day
 * deactivation) only put work on one queue; one loop takes it off in arrival order and runs one
 * sync at a time. Each sync re-reads HiBob (events are triggers, HiBob is the truth), or takes
 * the record a full sync's people search just returned when nothing newer was applied, plans
 * against the learner's current state and applies the plan one rate-limited write at a time.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
  type RetryPolicy,
} from '@temporalio/workflow';
import type {
  FetchedEmployee,
  LearnerLookup,
  LookupHints,
  PlanOptions,
  SnapshotRead,
} from '../activities/employee-types';
import type { HibobActivities, LmsReadActivities, LmsWriteActivities, WorkflowQueueActivities } from '../activities';
import type { OwnedGroupRole, Plan } from '../domain/types';
import {
  hibobEventSignal,
  scheduleRecheckSignal,
  stateQuery,
  syncNowUpdate,
  type EmployeeSyncInput,
  type HibobEventSignal,
  type SyncOutcome,
} from './employee-sync-api';
import { rereadPauses, snapshotRecordUsable, staleReadReason } from './read-lag';
import {
  connectionAttribute,
  employeeIdAttribute,
  outcomeAttribute,
  pendingTimerAttribute,
  searchAttributePublisher,
  triggerAttribute,
} from './search-attributes';
import { taskQueues } from './task-queues';

/** An idle workflow completes; the LMS external-id link, not the workflow, is the durable identity. */
const IDLE_TIMEOUT_MS = 10 * 60_000;
/** A manager not provisioned yet is tried again after this long. */
const DEFERRED_MANAGER_RETRY_MS = 5 * 60_000;
/** A sync for a due effective date that failed is tried again after this long. */
const RETRY_AFTER_FAILURE_MS = 5 * 60_000;
const MAX_SEEN_KEYS = 200;
const HISTORY_EVENTS_BEFORE_CONTINUE = 2_000;
/** Histories written before the read-lag re-read existed replay without it. */
const READ_LAG_PATCH = 'hibob-read-lag-reread';
/**
 * Histories written while every stale-read re-read also looked the learner up and planned replay
 * that way; since, HiBob alone is read again until the named fields read as changed.
 */
const HIBOB_ONLY_REREAD_PATCH = 'hibob-only-reread';

/** What the loop runs: webhook events (consecutive ones share one sync), an on-demand sync, or a due timer. */
type Work =
  /** `baseline`: the digests applied when the first of these events arrived, to tell a stale read. */
  | { kind: 'events'; events: HibobEventSignal[]; baseline?: Record<string, string | null> }
  | {
      kind: 'onDemand';
      reason?: string;
      adoptLeavers?: boolean;
      groupRolesInBulk?: boolean;
      snapshot?: SnapshotRead;
      lookupHints?: LookupHints;
      outcome?: SyncOutcome;
    }
  | { kind: 'timer' };

/** The BobsyncTrigger of each kind of work: a small fixed vocabulary, unlike SyncOutcome.trigger. */
function triggerKeyword(work: Work): string {
  switch (work.kind) {
    case 'events':
      return 'webhook';
    case 'onDemand':
      // Only full syncs ask a leaver to adopt the learner with its address.
      return work.adoptLeavers ? 'full sync' : 'on demand';
    case 'timer':
      return 'timer';
  }
}

/** What a full sync sent along with its syncNow, to read less. */
interface FullSyncReads {
  snapshot?: SnapshotRead;
  lookupHints?: LookupHints;
}

/** One HiBob read, the learner lookup and the plan made from both. */
interface Read {
  fetched: FetchedEmployee;
  lookup: LearnerLookup;
  plan: Plan;
}

/** What a sync triggered by webhook events knows of them. */
interface EventContext {
  /** Field ids the events named as changed. */
  namedFields: string[];
  types: string[];
  /** Digests applied when the first event arrived. */
  baseline?: Record<string, string | null>;
  /** When the first event arrived (epoch ms). */
  since: number;
}

export async function employeeSync(input: EmployeeSyncInput): Promise<SyncOutcome | undefined> {
  const queues = taskQueues(input.taskQueue, input.connection);
  const retry: RetryPolicy = {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 12,
  };
  const hibob = proxyActivities<HibobActivities>({ taskQueue: queues.hibob, startToCloseTimeout: '30 seconds', retry });
  const lmsReads = proxyActivities<LmsReadActivities>({
    taskQueue: queues.lmsReads,
    startToCloseTimeout: '1 minute',
    retry,
  });
  const lmsWrites = proxyActivities<LmsWriteActivities>({
    taskQueue: queues.lmsWrites,
    startToCloseTimeout: '30 seconds',
    retry,
  });
  // Local activities run on the Worker of the workflows' own queue.
  const local = proxyLocalActivities<WorkflowQueueActivities>({
    startToCloseTimeout: '10 seconds',
    retry: { maximumAttempts: 3 },
  });
  const general = proxyActivities<WorkflowQueueActivities>({
    taskQueue: queues.workflows,
    startToCloseTimeout: '30 seconds',
    retry,
  });

  const carried = input.carried;
  let learnerId = carried?.learnerId;
  let lastFingerprint = carried?.lastFingerprint;
  let lastOutcome = carried?.lastOutcome;
  let recheckAt = carried?.recheckAt;
  let appliedDigests = carried?.appliedDigests;
  let lastReadAt = carried?.lastReadAt ? Date.parse(carried.lastReadAt) : undefined;
  const queue: Work[] = carried?.pending.length
    ? [{ kind: 'events', events: [...carried.pending], baseline: carried.appliedDigests }]
    : [];
  const seen = new Set<string>(carried?.seenKeys ?? []);
  let processed = 0;
  /** Set when a signal moves the timer, so the loop's wait is recomputed. */
  let timerMoved = false;

  setHandler(hibobEventSignal, (event) => {
    // HiBob delivers at least once: the same delivery twice has one effect.
    if (seen.has(event.dedupeKey)) return;
    seen.add(event.dedupeKey);
    if (seen.size > MAX_SEEN_KEYS) seen.delete(seen.values().next().value as string);
    // Events waiting together are covered by one re-read: HiBob holds the latest state.
    const last = queue[queue.length - 1];
    if (last?.kind === 'events') last.events.push(event);
    else queue.push({ kind: 'events', events: [event], baseline: appliedDigests });
  });
  setHandler(scheduleRecheckSignal, (request) => {
    const at = Date.parse(request.at);
    if (Number.isNaN(at)) return;
    // One timer per workflow: the earliest instant wins, and a sync then re-plans the next one.
    if (!recheckAt || at < Date.parse(recheckAt)) {
      recheckAt = new Date(at).toISOString();
      timerMoved = true;
    }
  });
  setHandler(stateQuery, () => ({
    connection: input.connection,
    employeeId: input.employeeId,
    learnerId,
    lastFingerprint,
    lastOutcome,
    pendingEvents: queue.reduce((n, w) => n + (w.kind === 'events' ? w.events.length : 0), 0),
    pendingTimer: recheckAt,
    processed,
  }));
  setHandler(syncNowUpdate, async (request) => {
    const work: Work & { kind: 'onDemand' } = {
      kind: 'onDemand',
      reason: request.reason,
      adoptLeavers: request.adoptLeavers,
      groupRolesInBulk: request.groupRolesInBulk,
      snapshot: request.snapshot,
      lookupHints: request.lookupHints,
    };
    queue.push(work);
    await condition(() => work.outcome !== undefined);
    return work.outcome!;
  });

  // Searchable runs: who this workflow is for, at once; how the last sync went, after each one.
  const publish = searchAttributePublisher();
  let lastTrigger = carried?.lastTrigger;
  const publishState = () =>
    publish([
      { key: connectionAttribute, value: input.connection },
      { key: employeeIdAttribute, value: input.employeeId },
      ...(lastOutcome ? [{ key: outcomeAttribute, value: lastOutcome.result }] : []),
      ...(lastTrigger ? [{ key: triggerAttribute, value: lastTrigger }] : []),
      { key: pendingTimerAttribute, value: recheckAt ? new Date(recheckAt) : null },
    ]);
  publishState();

  /** The only caller of sync(): one piece of work at a time, in arrival order. */
  async function run(work: Work): Promise<void> {
    switch (work.kind) {
      case 'events':
        lastOutcome = await sync(work.events.map((e) => e.type).join(', '), false, {
          namedFields: work.events.flatMap((e) => e.fieldIds),
          types: work.events.map((e) => e.type),
          baseline: work.baseline,
          since: Math.min(...work.events.map((e) => Date.parse(e.receivedAt) || Date.now())),
        });
        processed += work.events.length;
        return;
      case 'onDemand':
        lastOutcome = await sync(
          `on demand${work.reason ? `: ${work.reason}` : ''}`,
          true,
          undefined,
          { adoptLeavers: work.adoptLeavers },
          work.groupRolesInBulk,
          { snapshot: work.snapshot, lookupHints: work.lookupHints },
        );
        work.outcome = lastOutcome;
        return;
      case 'timer':
        // A sync since the timer was queued may already have moved it on.
        if (recheckAt && Date.parse(recheckAt) <= Date.now()) lastOutcome = await sync('effective date reached', true);
        return;
    }
  }

  /** HiBob's record of the employee: the full sync's snapshot when it is new enough, else a read. */
  async function readHibob(snapshot?: SnapshotRead): Promise<FetchedEmployee> {
    if (
      snapshot &&
      snapshotRecordUsable({
        snapshotReadAt: Date.parse(snapshot.readAt),
        readLagSeconds: snapshot.fetched.readLagSeconds ?? 0,
        lastReadAt,
        now: Date.now(),
        idleTimeoutMs: IDLE_TIMEOUT_MS,
      })
    )
      return snapshot.fetched;
    const fetched = await hibob.fetchEmployee(input.connection, input.employeeId);
    lastReadAt = Date.now();
    return fetched;
  }

  async function readAndPlan(force: boolean, options: PlanOptions = {}, reads: FullSyncReads = {}): Promise<Read> {
    return lookupAndPlan(await readHibob(reads.snapshot), force, options, reads.lookupHints);
  }

  async function lookupAndPlan(
    fetched: FetchedEmployee,
    force: boolean,
    options: PlanOptions,
    lookupHints?: LookupHints,
  ): Promise<Read> {
    const record = fetched.found ? fetched.record : null;
    // Hints go only to lookups that have them, so the activity's arguments are unchanged otherwise.
    const lookup = lookupHints
      ? await lmsReads.lookupLearner(input.connection, input.employeeId, record, learnerId, lookupHints)
      : await lmsReads.lookupLearner(input.connection, input.employeeId, record, learnerId);
    const plan = await local.planEmployee(
      input.connection,
      input.employeeId,
      record,
      lookup,
      force ? undefined : lastFingerprint,
      options,
    );
    return { fetched, lookup, plan };
  }

  /** Whether a read taken after the events looks stale (read-lag.ts), planned or not yet. */
  function staleAfter(events: EventContext, fetched: FetchedEmployee, plan?: Plan): string | undefined {
    return staleReadReason({
      namedFields: events.namedFields,
      digests: fetched.digests,
      applied: events.baseline,
      planChangesNothing: plan && plan.outcome.kind === 'noop',
      found: fetched.found,
      eventTypes: events.types,
    });
  }

  /** The pauses before each re-read, within the lag's budget counted from the first event's arrival. */
  function lagPauses(fetched: FetchedEmployee, events: EventContext): number[] {
    return rereadPauses((fetched.readLagSeconds ?? 0) - (Date.now() - events.since) / 1000);
  }

  /** Reads HiBob and the LMS again and plans, after each pause, while the planned read looks stale. */
  async function rereadAllWhileStale(
    read: Read,
    pauses: number[],
    events: EventContext,
    force: boolean,
    options: PlanOptions,
  ): Promise<{ read: Read; rereads: number }> {
    let rereads = 0;
    for (const pause of pauses) {
      if (!staleAfter(events, read.fetched, read.plan)) break;
      await sleep(pause);
      read = await readAndPlan(force, options);
      rereads += 1;
    }
    return { read, rereads };
  }

  /**
   * Reads HiBob again while the fields the events named still read as before they arrived, until
   * the read-after-write lag has passed since the first of them arrived, and only then looks the
   * learner up and plans: a lookup made beside a stale read would be thrown away, and costs one of
   * the LMS's rate-limited reads. A check that needs the plan (a named field this workflow never
   * applied) re-reads everything, within the pauses left.
   */
  async function readPastLag(
    force: boolean,
    options: PlanOptions,
    events: EventContext,
  ): Promise<{ read: Read; rereads: number }> {
    let fetched = await readHibob();
    const pauses = lagPauses(fetched, events);
    let hibobRereads = 0;
    while (hibobRereads < pauses.length && staleAfter(events, fetched)) {
      await sleep(pauses[hibobRereads]!);
      fetched = await readHibob();
      hibobRereads += 1;
    }
    const planned = await lookupAndPlan(fetched, force, options);
    const rest = await rereadAllWhileStale(planned, pauses.slice(hibobRereads), events, force, options);
    return { read: rest.read, rereads: hibobRereads + rest.rereads };
  }

  /** readPastLag before HIBOB_ONLY_REREAD_PATCH: every re-read also looked the learner up and planned. */
  async function readWithFullRereads(
    force: boolean,
    options: PlanOptions,
    events: EventContext,
  ): Promise<{ read: Read; rereads: number }> {
    const read = await readAndPlan(force, options);
    if (!patched(READ_LAG_PATCH)) return { read, rereads: 0 };
    return rereadAllWhileStale(read, lagPauses(read.fetched, events), events, force, options);
  }

  async function sync(
    trigger: string,
    force: boolean,
    events?: EventContext,
    options: PlanOptions = {},
    groupRolesInBulk = false,
    reads: FullSyncReads = {},
  ): Promise<SyncOutcome> {
    const at = new Date().toISOString();
    try {
      // Only events that name fields (or a new hire) can meet HiBob's read-after-write lag.
      const lagMayApply =
        events !== undefined && (events.namedFields.length > 0 || events.types.includes('employee.created'));
      const { read, rereads } = !lagMayApply
        ? { read: await readAndPlan(force, options, reads), rereads: 0 }
        : patched(HIBOB_ONLY_REREAD_PATCH)
          ? await readPastLag(force, options, events)
          : await readWithFullRereads(force, options, events);
      const { fetched, lookup, plan } = read;
      if (lookup.match.kind !== 'none') learnerId = lookup.match.learner.learnerId;
      recheckAt = plan.recheckAt;
      const outcome = await carryOut(plan, trigger, at, fetched.found, groupRolesInBulk);
      lastFingerprint = outcome.result === 'failed' ? undefined : plan.fingerprint;
      if (fetched.digests) appliedDigests = fetched.digests;
      if (rereads > 0) {
        outcome.rereads = rereads;
        outcome.detail = [outcome.detail, `HiBob read ${rereads + 1} times (read-after-write lag)`]
          .filter(Boolean)
          .join('; ');
      }
      return outcome;
    } catch (err) {
      const reason = failureMessage(err);
      await general.reportFailure(input.connection, { employeeId: input.employeeId, code: 'syncFailed', reason, at });
      lastFingerprint = undefined;
      // A due effective date whose sync failed is tried again later, not at once in a loop.
      if (recheckAt && Date.parse(recheckAt) <= Date.now())
        recheckAt = new Date(Date.now() + RETRY_AFTER_FAILURE_MS).toISOString();
      return { at, trigger, result: 'failed', detail: reason, operations: [] };
    }
  }

  async function carryOut(
    plan: Plan,
    trigger: string,
    at: string,
    found: boolean,
    groupRolesInBulk: boolean,
  ): Promise<SyncOutcome> {
    const { outcome } = plan;
    if (outcome.kind === 'noop')
      return {
        at,
        trigger,
        result: found ? 'unchanged' : 'deleted',
        detail: outcome.reason,
        operations: [],
        ...(learnerId ? { learnerId } : {}),
        plan: outcome,
      };
    if (outcome.kind === 'park') {
      // The same problem seen again (a burst of events for one edit) is reported once.
      const reportedBefore = lastOutcome?.result === 'parked' && plan.fingerprint === lastFingerprint;
      if (!reportedBefore)
        await general.reportFailure(input.connection, {
          employeeId: input.employeeId,
          code: outcome.code,
          reason: outcome.reason,
          at,
        });
      return { at, trigger, result: 'parked', detail: outcome.reason, operations: [], plan: outcome };
    }
    const done: SyncOutcome['operations'] = [];
    const notes: string[] = [];
    let deferredManager = false;
    const leftToBulk: OwnedGroupRole[] = [];
    for (const operation of outcome.operations) {
      if (operation.op === 'addGroupRole' && groupRolesInBulk) {
        leftToBulk.push({ ...operation.group, rule: operation.reason });
        continue;
      }
      if (operation.op === 'deferManager') {
        // Retried later rather than dropped: the manager may be provisioned by then.
        const retryAt = new Date(Date.now() + DEFERRED_MANAGER_RETRY_MS).toISOString();
        if (!recheckAt || retryAt < recheckAt) recheckAt = retryAt;
        deferredManager = true;
        notes.push(operation.reason);
        continue;
      }
      const applied = await lmsWrites.applyOperation(input.connection, input.employeeId, learnerId, operation);
      if (applied.learnerId) learnerId = applied.learnerId;
      done.push(operation.op);
      notes.push(applied.note);
    }
    if (leftToBulk.length > 0) {
      // Recorded as bobsync's before the batch gives them, as a role given here would be.
      await general.recordGroupRoles(input.connection, input.employeeId, leftToBulk);
      notes.push(`${leftToBulk.length} group role(s) left to the batch's bulk request`);
    }
    return {
      at,
      trigger,
      result: found ? 'applied' : 'deleted',
      detail: notes.join('; '),
      operations: done,
      learnerId,
      deferredManager,
      plan: outcome,
      ...(leftToBulk.length > 0 ? { bulkGroupRoles: leftToBulk.map(({ groupId, role }) => ({ groupId, role })) } : {}),
    };
  }

  const timerDue = () => recheckAt !== undefined && Date.parse(recheckAt) <= Date.now();
  const onDemandWaiting = () => queue.some((w) => w.kind === 'onDemand');

  for (;;) {
    if (timerDue() && !queue.some((w) => w.kind === 'timer')) queue.push({ kind: 'timer' });
    const work = queue.shift();
    if (work) {
      const before = lastOutcome;
      await run(work);
      if (lastOutcome !== before) lastTrigger = triggerKeyword(work);
      publishState();
    } else {
      // A timer set by a signal (a full sync's scheduleRecheck) is searchable before it fires.
      publishState();
      timerMoved = false;
      const waitMs = recheckAt ? Math.max(0, Date.parse(recheckAt) - Date.now()) : IDLE_TIMEOUT_MS;
      const woken = await condition(() => queue.length > 0 || timerMoved, waitMs);
      if (!woken && !recheckAt) {
        // Idle: finish, unless an update or signal came in meanwhile.
        await condition(() => allHandlersFinished() || queue.length > 0);
        if (queue.length === 0) return lastOutcome;
      }
      continue;
    }
    if (
      workflowInfo().continueAsNewSuggested ||
      workflowInfo().historyLength > (input.historyEventsBeforeContinue ?? HISTORY_EVENTS_BEFORE_CONTINUE)
    ) {
      // Callers of syncNow wait for their answer in this run: answer them first.
      if (onDemandWaiting()) continue;
      await condition(() => allHandlersFinished() || onDemandWaiting());
      if (onDemandWaiting()) continue;
      await continueAsNew<typeof employeeSync>({
        ...input,
        carried: {
          learnerId,
          lastFingerprint,
          lastOutcome,
          pending: queue.flatMap((w) => (w.kind === 'events' ? w.events : [])),
          seenKeys: [...seen],
          recheckAt,
          appliedDigests,
          lastTrigger,
          lastReadAt: lastReadAt === undefined ? undefined : new Date(lastReadAt).toISOString(),
        },
      });
    }
  }
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  if (err instanceof ApplicationFailure) return err.message;
  return err instanceof Error ? err.message : String(err);
}
