/**
 * The people search read as it arrives (HibobClient.searchPeopleAnswer), over real HTTP: the
 * same records as the emulator's whole answer, and HiBob's failures classified as before the
 * answer was streamed (contracts/hibob.md §4, §12).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HibobClient } from '../../src/clients/hibob/client';
import { ApiError } from '../../src/clients/http/errors';
import type { RunningServer } from '../../packages/local/emulators/common/server';
import { DEFAULT_SERVICE_USER, HibobEmulator, generateDemoEmployees } from '../../packages/local/emulators/hibob';

const TODAY = '2025-06-16';
const FIELDS = ['root.id', 'root.email', 'root.firstName', 'root.surname', 'work.reportsTo', 'internal.status'];

let emulator: RunningServer;
let faulty: Server;
let faultyUrl: string;
/** What the faulty server does with the next search. */
let answer: (res: ServerResponse) => void;

beforeAll(async () => {
  const emu = new HibobEmulator({ serviceUsers: [DEFAULT_SERVICE_USER], lifecycleTickMs: 0 });
  emu.kit.clock.set(new Date(`${TODAY}T12:00:00Z`));
  emu.seed(generateDemoEmployees({ count: 1_234, seed: 7, today: TODAY }));
  emulator = await emu.start(0);
  faulty = createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((resolve) => faulty.listen(0, '127.0.0.1', resolve));
  faultyUrl = `http://127.0.0.1:${(faulty.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  await emulator.close();
  await new Promise((resolve) => faulty.close(resolve));
});

const clientOf = (baseUrl: string) =>
  new HibobClient({
    baseUrl,
    serviceUserId: DEFAULT_SERVICE_USER.id,
    token: DEFAULT_SERVICE_USER.token,
    timeoutMs: 5_000,
  });

const request = { fields: FIELDS, showInactive: true } as const;

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('the search did not fail');
}

describe('the people search read as it arrives', () => {
  it('gives the records of the whole answer, in order, with the answer kept as sent', async () => {
    const client = clientOf(`${emulator.url}/v1`);
    const whole = await client.searchPeople(request);
    const streamed = await client.searchPeopleAnswer(request);
    expect(streamed).toHaveLength(1_234);
    expect([...streamed]).toEqual(whole);
    expect(JSON.parse(streamed.toAnswer().toString('utf8'))).toEqual({ employees: whole });
  });

  it('reads an answer sent in small pieces over time', async () => {
    const text = JSON.stringify({ employees: [{ id: '1', note: 'a "quoted", {braced} value' }, { id: '2' }] });
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let at = 0;
      const next = () => {
        if (at >= text.length) return res.end();
        res.write(text.slice(at, at + 5));
        at += 5;
        setTimeout(next, 1);
      };
      next();
    };
    const records = await clientOf(faultyUrl).searchPeopleAnswer(request);
    expect([...records]).toEqual(JSON.parse(text).employees);
  });

  it('takes an HTML page answered 200 for an error that is not retried', async () => {
    answer = (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
    expect(await failure(clientOf(faultyUrl).searchPeopleAnswer(request))).toMatchObject({
      status: 200,
      code: 'notJson',
      retryable: false,
    });
  });

  it('reads a 429 as retryable, after the time HiBob names', async () => {
    answer = (res) =>
      res
        .writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' })
        .end(JSON.stringify({ key: 'tooManyRequests', error: 'slow down' }));
    expect(await failure(clientOf(faultyUrl).searchPeopleAnswer(request))).toMatchObject({
      status: 429,
      code: 'tooManyRequests',
      retryable: true,
      retryAfterSeconds: 7,
    });
  });

  it('takes an answer cut off half-way for a network failure that is retried', async () => {
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"employees":[{"id":"1"},');
      setTimeout(() => res.destroy(), 20);
    };
    expect(await failure(clientOf(faultyUrl).searchPeopleAnswer(request))).toMatchObject({
      code: 'network',
      retryable: true,
    });
  });

  it('refuses a complete answer that is not a list of employees', async () => {
    answer = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"employees":[{"id":"1"},]}');
    await expect(clientOf(faultyUrl).searchPeopleAnswer(request)).rejects.toThrow(SyntaxError);
  });

  it('gives a search the whole answer time that a single read would not get', async () => {
    // Headers at once, then the body over 400 ms: longer than a read may take, well inside a search's deadline.
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"employees":[{"id":"1"}');
      setTimeout(() => res.end(',{"id":"2"}]}'), 400);
    };
    const slowAnswers = new HibobClient({
      baseUrl: faultyUrl,
      serviceUserId: DEFAULT_SERVICE_USER.id,
      token: DEFAULT_SERVICE_USER.token,
      timeoutMs: 100,
      searchTimeoutMs: 10_000,
    });
    expect([...(await slowAnswers.searchPeopleAnswer(request))].map((e) => e.id)).toEqual(['1', '2']);
    expect((await slowAnswers.searchPeople(request)).map((e) => e.id)).toEqual(['1', '2']);
    // A read of one person is held to the call deadline.
    expect(await failure(slowAnswers.getEmployee('1'))).toMatchObject({ code: 'network', retryable: true });
    // A cancelled activity's signal ends the search at once, whatever its deadline.
    const cancelled = new AbortController();
    const started = slowAnswers.searchPeopleAnswer(request, { signal: cancelled.signal });
    cancelled.abort();
    expect(await failure(started)).toMatchObject({ code: 'network' });
  });
});
