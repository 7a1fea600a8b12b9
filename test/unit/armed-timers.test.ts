/**
 * Which effective-date timers a full sync still hands to the employees' workflows: the rows of
 * Temporal's visibility it trusts to mean "already held", the rule against the instant wanted,
 * and armEmployeeTimers with a stand-in client that lists and signal-with-starts, on a first
 * attempt and on retries (heartbeat progress).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Info } from '@temporalio/activity';
import type { Client, ListOptions } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import {
  armingHeartbeat,
  armingProgressOf,
  heldTimersQuery,
  listHeldTimers,
  needsArming,
  type HeldTimers,
} from '../../src/activities/armed-timers';
import { ConnectionRegistry } from '../../src/activities/deps';
import { fullSyncActivities } from '../../src/activities/full-sync';
import { FileBlobStore, type BlobRef } from '../../src/blobstore/blob-store';
import { codecFromEnv } from '../../src/codec/aes-gcm-codec';
import { parseConfig } from '../../src/config/loader';
import { embeddedConfigYaml } from '../../packages/local/stack/embedded';
import type { PendingTimer } from '../../src/domain/full-plan';
import { employeeWorkflowId } from '../../src/workflows/ids';
import { connectionAttribute, pendingTimerAttribute } from '../../src/workflows/search-attributes';
import { testCodecEnv } from '../support/codec';

const CONNECTION = 'demo-360';
const NOW = new Date('2026-03-02T06:00:00.000Z');
const DAY = 86_400_000;
const inDays = (days: number) => new Date(NOW.getTime() + days * DAY).toISOString();
const wf = (employeeId: string) => employeeWorkflowId(CONNECTION, employeeId);

/** A visibility row as the client's list yields it. */
interface Row {
  workflowId: string;
  at?: string;
  connection?: string;
}

function info(row: Row) {
  const attributes = new TypedSearchAttributes([{ key: connectionAttribute, value: row.connection ?? CONNECTION }]);
  return {
    workflowId: row.workflowId,
    typedSearchAttributes:
      row.at === undefined
        ? attributes
        : attributes.updateCopy([{ key: pendingTimerAttribute, value: new Date(row.at) }]),
  };
}

/**
 * A client whose list yields `rows` (throwing after `failAfter` of them when set) and whose
 * signal-with-start records the call.
 */
function standInClient(rows: Row[] | 'unavailable', failAfter?: number) {
  const queries: (ListOptions | undefined)[] = [];
  const signalled: { workflowId: string; at: string }[] = [];
  const client = {
    withAbortSignal: <R>(_signal: AbortSignal, fn: () => R): R => fn(),
    workflow: {
      list: (options?: ListOptions) => {
        queries.push(options);
        if (rows === 'unavailable') throw new Error('unknown search attribute BobsyncPendingTimer');
        return (async function* () {
          for (const [i, row] of rows.entries()) {
            if (i === failAfter) throw new Error('visibility store timed out');
            yield info(row);
          }
        })();
      },
      signalWithStart: async (_type: unknown, options: { workflowId: string; signalArgs: { at: string }[] }) => {
        signalled.push({ workflowId: options.workflowId, at: options.signalArgs[0]!.at });
        return { workflowId: options.workflowId };
      },
    },
  };
  return { client: client as unknown as Client, queries, signalled };
}

describe('the visibility query', () => {
  it('asks for the connection’s running employee workflows holding a timer still ahead', () => {
    expect(heldTimersQuery(CONNECTION, NOW)).toBe(
      "WorkflowType = 'employeeSync' AND ExecutionStatus = 'Running' AND BobsyncConnection = 'demo-360' AND BobsyncPendingTimer > '2026-03-02T06:00:00.000Z'",
    );
  });
});

describe('listHeldTimers', () => {
  it('keeps one instant per workflow, leaving out rows that do not bear out the query and workflows listed twice', async () => {
    const { client, queries } = standInClient([
      { workflowId: wf('1'), at: inDays(10) },
      { workflowId: wf('2'), at: inDays(-1) }, // due already: firing, or fired and re-planned
      { workflowId: wf('3') }, // no instant
      { workflowId: wf('4'), at: inDays(12), connection: 'other' },
      { workflowId: wf('5'), at: inDays(5) },
      { workflowId: wf('5'), at: inDays(6) }, // a stale row beside the current one: which is which is unknown
      { workflowId: wf('5'), at: inDays(5) },
      { workflowId: wf('6'), at: NOW.toISOString() },
    ]);
    const rowsSeen: number[] = [];
    const listed = await listHeldTimers(client, CONNECTION, NOW, (n) => rowsSeen.push(n));
    expect([...listed.held]).toEqual([[wf('1'), Date.parse(inDays(10))]]);
    expect(listed).toMatchObject({ rows: 8, untrusted: 7 });
    expect(rowsSeen).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(queries).toEqual([{ query: heldTimersQuery(CONNECTION, NOW), pageSize: 1000 }]);
  });

  it('throws when visibility cannot answer', async () => {
    await expect(listHeldTimers(standInClient('unavailable').client, CONNECTION, NOW)).rejects.toThrow(
      'unknown search attribute',
    );
    await expect(
      listHeldTimers(standInClient([{ workflowId: wf('1'), at: inDays(3) }], 1).client, CONNECTION, NOW),
    ).resolves.toMatchObject({ rows: 1 });
    await expect(
      listHeldTimers(standInClient([{ workflowId: wf('1'), at: inDays(3) }], 0).client, CONNECTION, NOW),
    ).rejects.toThrow('visibility store timed out');
  });
});

describe('needsArming', () => {
  const held: HeldTimers = new Map([[wf('1'), Date.parse(inDays(10))]]);
  const timer = (employeeId: string, at: string): PendingTimer => ({ employeeId, at, reason: 'test' });

  it.each([
    ['held at that instant', '1', inDays(10), false],
    ['held at an earlier instant (the workflow keeps the earlier one)', '1', inDays(11), false],
    ['held at a later instant', '1', inDays(9), true],
    ['held one millisecond later', '1', new Date(Date.parse(inDays(10)) - 1).toISOString(), true],
    ['not held', '2', inDays(10), true],
    ['an instant that does not parse', '1', 'next Tuesday', true],
  ])('%s: arm %s → %s', (_what, employeeId, at, arm) => {
    expect(needsArming(held, CONNECTION, timer(employeeId, at))).toBe(arm);
  });

  it('arms every timer when visibility could not say', () => {
    expect(needsArming(undefined, CONNECTION, timer('1', inDays(11)))).toBe(true);
  });

  it('looks the workflow up under the connection it arms for', () => {
    expect(needsArming(held, 'other-connection', timer('1', inDays(10)))).toBe(true);
  });
});

describe('heartbeat progress', () => {
  it.each([
    [3, { done: 3, armed: 3 }],
    [0, { done: 0, armed: 0 }],
    [
      { done: 4, armed: 1 },
      { done: 4, armed: 1 },
    ],
    [
      { done: 4, armed: 5 },
      { done: 0, armed: 0 },
    ],
    [{ done: 4 }, { done: 0, armed: 0 }],
    [-1, { done: 0, armed: 0 }],
    [2.5, { done: 0, armed: 0 }],
    ['2', { done: 0, armed: 0 }],
    [undefined, { done: 0, armed: 0 }],
  ])('reads %j as %j', (details, progress) => {
    expect(armingProgressOf(details)).toEqual(progress);
  });

  it('is a plain count while every timer gone through was signalled', () => {
    expect(armingHeartbeat({ done: 3, armed: 3 })).toBe(3);
    expect(armingHeartbeat({ done: 3, armed: 1 })).toEqual({ done: 3, armed: 1 });
  });
});

describe('armEmployeeTimers', () => {
  const TIMERS: PendingTimer[] = [
    { employeeId: '1', at: inDays(10), reason: 'held already' },
    { employeeId: '2', at: inDays(11), reason: 'not held' },
    { employeeId: '3', at: inDays(12), reason: 'held later' },
    { employeeId: '4', at: inDays(13), reason: 'held earlier' },
    { employeeId: '5', at: inDays(14), reason: 'held, row stale (due)' },
  ];
  /** Future instants relative to the real clock, which the activity lists against. */
  const later = (iso: string) => new Date(Date.parse(iso) + (Date.now() - NOW.getTime())).toISOString();
  const timers = TIMERS.map((t) => ({ ...t, at: later(t.at) }));
  const ROWS: Row[] = [
    { workflowId: wf('1'), at: timers[0]!.at },
    { workflowId: wf('3'), at: later(inDays(15)) },
    { workflowId: wf('4'), at: later(inDays(1)) },
    { workflowId: wf('5'), at: inDays(-400) },
  ];

  let dir: string;
  let blobs: FileBlobStore;
  let ref: BlobRef;
  let armEmployeeTimers: ReturnType<typeof fullSyncActivities>['armEmployeeTimers'];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bobsync-armed-timers-'));
    blobs = new FileBlobStore(dir, codecFromEnv(testCodecEnv));
    ref = await blobs.putJson(`runs/${CONNECTION}/run-1/timers.json`, timers);
    const config = parseConfig(
      embeddedConfigYaml('http://127.0.0.1:9', 'http://127.0.0.1:9', { root: '0'.repeat(24), byName: {} }),
    );
    ({ armEmployeeTimers } = fullSyncActivities(new ConnectionRegistry({ config, env: {} }), blobs, {}));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function run(client: Client, info: Partial<Info> = {}) {
    const env = new MockActivityEnvironment(
      { activityType: 'armEmployeeTimers', ...info },
      { client, logger: new DefaultLogger('ERROR') },
    );
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => heartbeats.push(details));
    return { result: env.run(armEmployeeTimers, CONNECTION, ref, 'bobsync'), heartbeats };
  }

  it('signals only the workflows that hold no timer, or a later one, or whose row cannot be trusted', async () => {
    const { client, signalled } = standInClient(ROWS);
    const { result, heartbeats } = run(client);
    await expect(result).resolves.toBe(3);
    expect(signalled).toEqual([2, 3, 5].map((n) => ({ workflowId: wf(String(n)), at: timers[n - 1]!.at })));
    expect(heartbeats).toEqual([
      { done: 1, armed: 0 },
      { done: 2, armed: 1 },
      { done: 3, armed: 2 },
      { done: 4, armed: 2 },
      { done: 5, armed: 3 },
    ]);
  });

  it('signals every workflow when the listing fails, even part-way through', async () => {
    for (const [rows, failAfter] of [['unavailable', undefined] as const, [ROWS, 2] as const]) {
      const { client, signalled } = standInClient(rows, failAfter);
      const { result, heartbeats } = run(client);
      await expect(result).resolves.toBe(5);
      expect(signalled.map((s) => s.workflowId)).toEqual(timers.map((t) => wf(t.employeeId)));
      expect(heartbeats).toEqual([1, 2, 3, 4, 5]);
    }
  });

  it('on a retry, resumes after the last timer gone through and counts what earlier attempts signalled', async () => {
    const { client, signalled } = standInClient(ROWS);
    const { result, heartbeats } = run(client, { attempt: 2, heartbeatDetails: { done: 2, armed: 1 } });
    await expect(result).resolves.toBe(3);
    expect(signalled.map((s) => s.workflowId)).toEqual([wf('3'), wf('5')]);
    expect(heartbeats).toEqual([
      { done: 3, armed: 2 },
      { done: 4, armed: 2 },
      { done: 5, armed: 3 },
    ]);
  });

  it('heartbeats the progress it resumed from while it lists, so a retry during the listing loses nothing', async () => {
    const many: Row[] = Array.from({ length: 450 }, (_, i) => ({ workflowId: wf(`x${i}`), at: later(inDays(20)) }));
    const { client } = standInClient(many);
    const { result, heartbeats } = run(client, { attempt: 2, heartbeatDetails: { done: 4, armed: 1 } });
    await expect(result).resolves.toBe(2);
    expect(heartbeats).toEqual([
      { done: 4, armed: 1 },
      { done: 4, armed: 1 },
      { done: 5, armed: 2 },
    ]);
  });

  it('lists nothing and signals nobody when an earlier attempt had gone through every timer', async () => {
    const { client, queries, signalled } = standInClient(ROWS);
    const { result, heartbeats } = run(client, { attempt: 3, heartbeatDetails: { done: 5, armed: 2 } });
    await expect(result).resolves.toBe(2);
    expect(queries).toEqual([]);
    expect(signalled).toEqual([]);
    expect(heartbeats).toEqual([]);
  });
});
