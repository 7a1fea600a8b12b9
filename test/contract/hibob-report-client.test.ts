/**
 * The HiBob report client against the HiBob emulator over HTTP (contracts/hibob.md §9, §11,
 * §12): listing and finding reports, synchronous and asynchronous JSON downloads, humanReadable
 * APPEND vs REPLACE, errors, the download budget and cancellation; then the downloaded report
 * read as an employee feed.
 */
import type { RunningServer } from '../../packages/local/emulators/common/server';
import { DEFAULT_SERVICE_USER, HibobEmulator, generateDemoEmployees } from '../../packages/local/emulators/hibob';
import { ApiError } from '../../src/clients/http/errors';
import {
  HibobReportClient,
  SlidingWindowLimiter,
  reportNameFromLocation,
  type HibobReportClientOptions,
} from '../../src/clients/hibob/reports';
import { readReportFeed } from '../../src/domain/report-feed';

const NO_REPORTS = { id: 'SERVICE-NOREPORTS', token: 'no-reports-token', reports: false as const };

const urlOf = (input: string | URL | Request) => (input instanceof Request ? input.url : input.toString());

interface Seen {
  url: string;
  status: number;
  authorization: string | null;
}

let emu: HibobEmulator;
let server: RunningServer;

/** A fresh client (its own download budget) whose HTTP calls are recorded in `seen`. */
function client(
  overrides: Partial<HibobReportClientOptions> = {},
  seen: Seen[] = [],
  inner: typeof fetch = fetch,
): HibobReportClient {
  const recording: typeof fetch = async (input, init) => {
    const response = await inner(input, init);
    seen.push({
      url: urlOf(input),
      status: response.status,
      authorization: new Headers(init?.headers).get('authorization'),
    });
    return response;
  };
  return new HibobReportClient({
    baseUrl: `${server.url}/v1`,
    serviceUserId: DEFAULT_SERVICE_USER.id,
    token: DEFAULT_SERVICE_USER.token,
    poll: { initialDelayMs: 50, factor: 2, maxDelayMs: 200, timeoutMs: 10_000 },
    fetch: recording,
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  emu = new HibobEmulator({
    serviceUsers: [DEFAULT_SERVICE_USER, NO_REPORTS],
    lifecycleTickMs: 0,
    reportAsyncDelayMs: 400,
    // Budgets of their own are tested below; here many downloads run back to back.
    rateLimits: { 'reports.download': 1000 },
  });
  emu.kit.clock.set(new Date('2025-06-16T09:00:00Z'));
  emu.seed(generateDemoEmployees({ count: 30, seed: 7, today: '2025-06-16' }));
  server = await emu.start(0);
});

afterAll(async () => {
  await server.close();
});

describe('listing and finding reports', () => {
  it('lists the reports the service user may see, ids as strings', async () => {
    const seen: Seen[] = [];
    const reports = await client({}, seen).listReports();
    expect(reports).toEqual([
      { id: '1234', name: 'LMS feed' },
      { id: '1235', name: 'Headcount by site' },
    ]);
    const basic = `Basic ${Buffer.from(`${DEFAULT_SERVICE_USER.id}:${DEFAULT_SERVICE_USER.token}`).toString('base64')}`;
    expect(seen).toEqual([{ url: `${server.url}/v1/company/reports`, status: 200, authorization: basic }]);
  });

  it('finds a report by name (ignoring case) or by id, and names the visible reports when it cannot', async () => {
    const c = client();
    await expect(c.findReport('LMS feed')).resolves.toEqual({ id: '1234', name: 'LMS feed' });
    await expect(c.findReport(' lms FEED ')).resolves.toEqual({ id: '1234', name: 'LMS feed' });
    await expect(c.findReport(1235)).resolves.toEqual({ id: '1235', name: 'Headcount by site' });
    const err = await failure(c.findReport('Learning feed'));
    expect(err).toMatchObject({ status: 404, code: 'reportNotFound', retryable: false });
    expect(err.message).toContain(
      'no report "Learning feed" among the reports this service user can see: "LMS feed" (1234), "Headcount by site" (1235)',
    );
  });

  it('reads field metadata to name report columns', async () => {
    const fields = await client().listFields();
    expect(fields.find((f) => f.id === 'work.department')).toEqual({
      id: 'work.department',
      name: 'Department',
      jsonPath: 'work.department',
      type: 'list',
      categoryId: 'work',
    });
  });
});

describe('downloading a report as JSON', () => {
  it('sync: one GET with format=json and humanReadable=APPEND by default', async () => {
    const seen: Seen[] = [];
    const download = await client({}, seen).downloadJson(1234, { mode: 'sync' });
    expect(download).toMatchObject({ reportId: '1234', humanReadable: 'APPEND', via: 'sync', notReadyPolls: 0 });
    expect(download.employees).toHaveLength(30);
    expect(seen.map((s) => [s.url.slice(server.url.length), s.status])).toEqual([
      ['/v1/company/reports/1234/download?format=json&humanReadable=APPEND', 200],
    ]);
    const e = download.employees[0]!;
    expect(e['/root/id']).toEqual({ value: e.id });
    expect(e.humanReadable).toEqual(
      expect.objectContaining({ work: expect.objectContaining({ department: 'Management' }) }),
    );
  });

  it('humanReadable APPEND keeps list item ids and adds labels; REPLACE sends labels only', async () => {
    const c = client();
    const append = await c.downloadJson(1234, { mode: 'sync', humanReadable: 'APPEND' });
    const replace = await c.downloadJson(1234, { mode: 'sync', humanReadable: 'REPLACE' });
    const a = append.employees[1]! as {
      work: Record<string, unknown>;
      humanReadable: { work: Record<string, unknown> };
    };
    const r = replace.employees[1]! as { work: Record<string, unknown>; humanReadable?: unknown };
    expect(a.work.department).toMatch(/^\d+$/);
    expect(a.humanReadable.work.department).toBe('Engineering');
    expect(a.work.startDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(r.work.department).toBe('Engineering');
    expect(r.work.startDate).toBe(a.humanReadable.work.startDate);
    expect(r.humanReadable).toBeUndefined();
    expect(replace.humanReadable).toBe('REPLACE');
  });

  it('passes includeInfo and locale', async () => {
    const download = await client().downloadJson('1234', {
      mode: 'sync',
      includeInfo: true,
      locale: 'en-US',
      humanReadable: 'REPLACE',
    });
    expect(download.info).toEqual({ id: '1234', name: 'LMS feed', generatedAt: expect.any(String) });
    expect((download.employees[1] as { work: { startDate: string } }).work.startDate).toBe('11/30/2020');
  });

  it('async: 202 + Location, then polls with backoff through 204s until the file is ready', async () => {
    const seen: Seen[] = [];
    const started = Date.now();
    const download = await client({}, seen).downloadJson(1234, { mode: 'async', humanReadable: 'APPEND' });
    expect(download.via).toBe('async');
    expect(download.employees).toHaveLength(30);
    const statuses = seen.map((s) => s.status);
    expect(statuses[0]).toBe(202);
    expect(seen[0]!.url).toContain('/v1/company/reports/1234/download-async?format=json&humanReadable=APPEND');
    expect(statuses.at(-1)).toBe(200);
    const polls = statuses.slice(1);
    expect(polls.filter((s) => s === 204).length).toBeGreaterThanOrEqual(1);
    expect(polls.slice(0, -1).every((s) => s === 204)).toBe(true);
    expect(download.notReadyPolls).toBe(polls.length - 1);
    expect(seen.slice(1).every((s) => s.url.startsWith(`${server.url}/v1/company/reports/download/report-1234-`))).toBe(
      true,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    const sync = await client().downloadJson(1234, { mode: 'sync' });
    expect(download.employees).toEqual(sync.employees);
  });

  it('auto: sync when Bob answers at once, async when Bob says the report is too large', async () => {
    const seen: Seen[] = [];
    expect((await client({}, seen).downloadJson(1234)).via).toBe('sync');
    expect(seen).toHaveLength(1);

    const tooLarge: typeof fetch = async (input, init) => {
      if (/\/download\?/.test(urlOf(input))) {
        return new Response(
          JSON.stringify({ key: 'payload_too_large', error: 'Report is too large, use download-async' }),
          {
            status: 413,
            headers: { 'content-type': 'application/json' },
          },
        );
      }
      return fetch(input, init);
    };
    const fallback: Seen[] = [];
    const download = await client({}, fallback, tooLarge).downloadJson(1234, {
      mode: 'auto',
      humanReadable: 'REPLACE',
    });
    expect(download).toMatchObject({ via: 'async', humanReadable: 'REPLACE' });
    expect(download.employees).toHaveLength(30);
    expect(fallback.map((s) => s.status).slice(0, 2)).toEqual([413, 202]);
    // A forced sync download does not fall back.
    expect(await failure(client({}, [], tooLarge).downloadJson(1234, { mode: 'sync' }))).toMatchObject({ status: 413 });
  });

  it('reads the Location Bob documents (another host, the name after /download/)', () => {
    expect(
      reportNameFromLocation(
        'https://app.hibob.com/v1/company/reports/download/2022-06-17T11_22_14.798810-test.JsonFormat',
      ),
    ).toBe('2022-06-17T11_22_14.798810-test.JsonFormat');
    expect(reportNameFromLocation('/v1/company/reports/download/a%20b.json?x=1')).toBe('a b.json');
    expect(reportNameFromLocation('https://example.com/elsewhere')).toBeUndefined();
  });
});

describe('errors', () => {
  it('404 for an unknown report, sync, async or auto, and not retryable', async () => {
    for (const mode of ['sync', 'async', 'auto'] as const) {
      const err = await failure(client().downloadJson(999, { mode }));
      expect(err).toMatchObject({ service: 'hibob', status: 404, code: 'not_found', retryable: false });
      expect(err.message).toContain('Report 999 not found');
    }
  });

  it('401 for bad credentials, never showing the token', async () => {
    const token = 'wrong-secret-token-123';
    const c = client({ token });
    const list = await failure(c.listReports());
    expect(list).toMatchObject({ status: 401, code: 'unauthorized', retryable: false });
    const download = await failure(c.downloadJson(1234, { mode: 'sync' }));
    expect(download.status).toBe(401);
    for (const err of [list, download]) {
      expect(`${err.message} ${err.stack ?? ''}`).not.toContain(token);
      expect(err.message).not.toContain(Buffer.from(`${DEFAULT_SERVICE_USER.id}:${token}`).toString('base64'));
    }
    expect(JSON.stringify(c)).not.toContain(Buffer.from(`${DEFAULT_SERVICE_USER.id}:${token}`).toString('base64'));
  });

  it('403 when the service user has no access to reports', async () => {
    const c = client({ serviceUserId: NO_REPORTS.id, token: NO_REPORTS.token });
    expect(await failure(c.listReports())).toMatchObject({ status: 403, code: 'forbidden', retryable: false });
    expect(await failure(c.downloadJson(1234))).toMatchObject({ status: 403 });
  });

  it('a 200 HTML page (the login page Bob serves for unknown paths) is an error', async () => {
    emu.updateSettings({ htmlQuirks: true });
    try {
      const err = await failure(client({ baseUrl: server.url }).listReports());
      expect(err).toMatchObject({ status: 200, code: 'notJson', retryable: false });
    } finally {
      emu.updateSettings({ htmlQuirks: false });
    }
  });

  it('a report file Bob no longer serves is worth a new download', async () => {
    const err = await failure(client().pollReportFile('report-1234-expired.json'));
    expect(err).toMatchObject({ status: 404, code: 'reportFileGone', retryable: true });
  });

  it('gives up polling when the file is never ready', async () => {
    emu.updateSettings({ reportAsyncDelayMs: 60_000 });
    try {
      const err = await failure(
        client({ poll: { initialDelayMs: 50, maxDelayMs: 100, timeoutMs: 300 } }).downloadJson(1234, { mode: 'async' }),
      );
      expect(err).toMatchObject({ code: 'reportNotReady', retryable: true });
    } finally {
      emu.updateSettings({ reportAsyncDelayMs: 400 });
    }
  });
});

describe('rate limits and cancellation', () => {
  it('a 429 is retryable with the wait until reset, and holds further downloads until then', async () => {
    const limited = new HibobEmulator({ lifecycleTickMs: 0, rateLimits: { 'reports.download': 1 } });
    // At the start of Bob's minute, so both downloads fall in the same window.
    limited.kit.clock.set(new Date('2025-06-16T10:00:00.000Z'));
    limited.seed(generateDemoEmployees({ count: 3, seed: 7, today: '2025-06-16' }));
    const srv = await limited.start(0);
    try {
      const seen: Seen[] = [];
      const c = client({ baseUrl: `${srv.url}/v1` }, seen);
      await c.downloadJson(1234, { mode: 'sync' });
      const err = await failure(c.downloadJson(1234, { mode: 'sync' }));
      expect(err).toMatchObject({ status: 429, retryable: true });
      expect(err.retryAfterSeconds).toBeGreaterThan(0);
      expect(err.retryAfterSeconds).toBeLessThanOrEqual(60);
      // The next download waits for Bob's reset instead of spending another request.
      await expect(c.downloadJson(1234, { mode: 'sync', signal: AbortSignal.timeout(150) })).rejects.toMatchObject({
        name: 'TimeoutError',
      });
      expect(seen.map((s) => s.status)).toEqual([200, 429]);
    } finally {
      await srv.close();
    }
  });

  it('spaces its own downloads within the per-minute budget', async () => {
    const seen: Seen[] = [];
    const c = client({ downloadsPerMinute: 2 }, seen);
    await c.downloadJson(1234, { mode: 'sync' });
    await c.downloadJson(1234, { mode: 'sync' });
    await expect(c.downloadJson(1234, { mode: 'sync', signal: AbortSignal.timeout(150) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(seen).toHaveLength(2);
    // Listing does not draw from the download budget.
    await expect(c.listReports()).resolves.toHaveLength(2);
  });

  it('the sliding window allows `limit` calls per window and then waits for the oldest to age out', async () => {
    let now = 0;
    const waits: number[] = [];
    const limiter = new SlidingWindowLimiter(
      2,
      60_000,
      () => now,
      async (ms) => {
        waits.push(ms);
        now += ms;
      },
    );
    await limiter.take();
    now = 10_000;
    await limiter.take();
    await limiter.take();
    expect(now).toBe(60_000);
    expect(waits).toEqual([50_000]);
    limiter.blockUntil(100_000);
    await limiter.take();
    expect(now).toBe(100_000);
  });

  it('an AbortSignal cancels a download while it waits for the async file', async () => {
    emu.updateSettings({ reportAsyncDelayMs: 60_000 });
    const controller = new AbortController();
    try {
      const started = Date.now();
      setTimeout(() => controller.abort(), 150);
      await expect(client().downloadJson(1234, { mode: 'async', signal: controller.signal })).rejects.toMatchObject({
        name: 'AbortError',
      });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      emu.updateSettings({ reportAsyncDelayMs: 400 });
    }
  });
});

describe('the downloaded report as an employee feed', () => {
  it('reads the LMS feed by column name into employees keyed by HiBob id', async () => {
    const c = client();
    const view = await c.findReport('LMS feed');
    const [fields, download] = await Promise.all([c.listFields(), c.downloadJson(view.id)]);
    const columns = { 'Bob ID': 'root.id', Manager: 'work.reportsTo' };
    const result = readReportFeed(download, {
      reportName: view.name,
      columns,
      fields,
      identityColumn: 'Bob ID',
      requiredColumns: [
        'Email',
        'First name',
        'Last name',
        { column: 'Department', mappedTo: 'customFields.department' },
        'Lifecycle status',
      ],
    });
    if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
    expect(result.report.columns.map((col) => col.name).sort()).toEqual(
      [
        'Bob ID',
        'Email',
        'Employee ID',
        'First name',
        'Last name',
        'Department',
        'Job title',
        'Site',
        'Manager',
        'Start date',
        'Lifecycle status',
        'Status',
        'Termination date',
        'Last day of work',
      ].sort(),
    );
    expect(result.feed.problems).toEqual([]);
    expect(result.feed.employees).toHaveLength(30);
    const second = result.feed.employees[1]!;
    expect(second.columns.Department).toEqual({ value: expect.stringMatching(/^\d+$/), label: 'Engineering' });
    expect(result.report.rows[1]!.feed).toMatchObject({
      'First name': 'Łukasz',
      Department: 'Engineering',
      Manager: 'Zoë Müller',
    });
    expect(second.managerId).toBe(result.feed.employees[0]!.id);

    const missing = readReportFeed(download, {
      reportName: view.name,
      columns,
      fields,
      identityColumn: 'Bob ID',
      requiredColumns: [{ column: 'Cost centre', mappedTo: 'customFields.costCentre' }],
    });
    expect(missing.ok).toBe(false);
    if (!missing.ok)
      expect(missing.errors[0]!.message).toMatch(
        /^report "LMS feed" has no column "Cost centre" \(mapped to customFields\.costCentre\); its columns are: Bob ID, Email, /,
      );
  });
});
