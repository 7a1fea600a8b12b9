/**
 * The embedded default behind `npm start`: everything bobsync needs, on this machine, in one
 * command. Temporal's dev server keeps its history in a SQLite file under the data dir, the
 * emulators stand in for HiBob, 360Learning and Skillcast, and the worker and API run
 * in-process. The demo config has two connections reading the same HiBob company: demo-360 and
 * demo-skillcast.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { generateCodecKey } from '../../../src/codec/aes-gcm-codec';
import { loadContext } from '../../../src/config/context';
import { plainConnectionSettings } from '../../../src/temporal/connection-settings';
import { waitForSignal } from '../../../src/shutdown';
import { startApi, startWorker, runHealthCheck } from '../../../src/processes';
import { stdoutOutput } from '../../../src/cli/io';
import { createSchedule } from '../../../src/cli/schedule';
import { runSync } from '../../../src/cli/sync';
import { startDevServer } from '../../../src/dev/temporal-dev-server';
import { installWorkerRuntime } from '../../../src/worker';
import { DEMO_CREDENTIALS, startEmulators } from './emulators';
import { DEFAULT_SITES } from '../emulators/hibob/lists';

export interface EmbeddedOptions {
  employees: number;
  seed: number;
  fresh: boolean;
  env?: NodeJS.ProcessEnv;
}

const PORTS = {
  temporal: 7233,
  temporalUi: 8233,
  api: 3000,
  codec: 3001,
  hibob: 4010,
  learning360: 4020,
  skillcast: 4030,
};

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolvePort(true);
    });
    socket.once('error', () => resolvePort(false));
  });
}

/** Reads the 360Learning emulator's groups through its public API, as a customer would look them up. */
async function demoGroups(baseUrl: string): Promise<DemoGroups> {
  const tokenResponse = await fetch(`${baseUrl}/api/v2/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'client_credentials',
      client_id: DEMO_CREDENTIALS.learning360ClientId,
      client_secret: DEMO_CREDENTIALS.learning360ClientSecret,
    }),
  });
  const { access_token } = (await tokenResponse.json()) as { access_token: string };
  const groups = (await (
    await fetch(`${baseUrl}/api/v2/groups`, {
      headers: { authorization: `Bearer ${access_token}`, '360-api-version': 'v2.0' },
    })
  ).json()) as { _id: string; name: string; parentId?: string }[];
  const root = groups.find((g) => !g.parentId);
  if (!root) throw new Error('the 360Learning emulator has no root group');
  return { root: root._id, byName: Object.fromEntries(groups.map((g) => [g.name, g._id])) };
}

export interface DemoGroups {
  root: string;
  byName: Record<string, string>;
}

function codecKey(dataDir: string): string {
  const file = join(dataDir, 'codec-key');
  if (!existsSync(file)) writeFileSync(file, generateCodecKey(), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

export { demoGroups };

export async function runEmbedded(options: EmbeddedOptions): Promise<void> {
  const env = options.env ?? process.env;
  const dataDir = resolve(env.BOBSYNC_DATA_DIR ?? '.data');
  mkdirSync(dataDir, { recursive: true });
  const busy = (
    await Promise.all(
      Object.entries(PORTS).map(async ([name, port]) => ((await portInUse(port)) ? `${name} (${port})` : undefined)),
    )
  ).filter(Boolean);
  if (busy.length) {
    throw new Error(
      `These ports are already in use: ${busy.join(', ')}. Stop what listens there (an earlier \`npm start\`?) and run again.`,
    );
  }
  if (options.fresh) rmSync(join(dataDir, 'temporal.db'), { force: true });

  const say = (line = '') => process.stdout.write(`${line}\n`);
  // The SDK's own metrics join the worker's /metrics, as under `bobsync worker`.
  await installWorkerRuntime({ logLevel: 'WARN', sdkMetrics: env.BOBSYNC_WORKER_METRICS_PORT !== '0' });
  say('Starting the Temporal dev server…');
  const temporal = await startDevServer({
    port: PORTS.temporal,
    uiPort: PORTS.temporalUi,
    dbFile: join(dataDir, 'temporal.db'),
    logFile: join(dataDir, 'temporal.log'),
    startTimeoutMs: 120_000,
    uiCodecEndpoint: `http://127.0.0.1:${PORTS.codec}/codec`,
  });
  const stops: (() => Promise<void>)[] = [() => temporal.stop()];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    say('Starting the HiBob, 360Learning and Skillcast emulators…');
    const emulators = await startEmulators({
      employees: options.employees,
      seed: options.seed,
      ports: { hibob: PORTS.hibob, learning360: PORTS.learning360, skillcast: PORTS.skillcast },
    });
    stops.push(() => emulators.close());

    // Demo secrets go into this process's environment, exactly where production secrets live.
    Object.assign(env, {
      TEMPORAL_ADDRESS: temporal.address,
      BOBSYNC_API_PORT: String(PORTS.api),
      BOBSYNC_CODEC_PORT: String(PORTS.codec),
      // The dev server's UI has no login to forward, so the codec endpoint takes no token here; it
      // listens on loopback only, for the person at this machine.
      BOBSYNC_CODEC_HOST: '127.0.0.1',
      BOBSYNC_CODEC_ALLOW_UNAUTHENTICATED: env.BOBSYNC_CODEC_ALLOW_UNAUTHENTICATED ?? 'true',
      BOBSYNC_CODEC_CORS_ORIGINS:
        env.BOBSYNC_CODEC_CORS_ORIGINS ?? `http://127.0.0.1:${PORTS.temporalUi},http://localhost:${PORTS.temporalUi}`,
      HIBOB_SERVICE_USER_TOKEN: env.HIBOB_SERVICE_USER_TOKEN ?? DEMO_CREDENTIALS.hibobToken,
      HIBOB_WEBHOOK_SECRET: env.HIBOB_WEBHOOK_SECRET ?? DEMO_CREDENTIALS.hibobWebhookSecret,
      LEARNING360_CLIENT_SECRET: env.LEARNING360_CLIENT_SECRET ?? DEMO_CREDENTIALS.learning360ClientSecret,
      SKILLCAST_SCIM_TOKEN: env.SKILLCAST_SCIM_TOKEN ?? DEMO_CREDENTIALS.skillcastToken,
      BOBSYNC_CODEC_KEYS: env.BOBSYNC_CODEC_KEYS ?? `dev:${codecKey(dataDir)}`,
    });
    const configPath = join(dataDir, 'bobsync.dev.yaml');
    const learning360Url = emulators.learning360!.server.url;
    writeFileSync(
      configPath,
      embeddedConfigYaml(
        emulators.hibob!.server.url,
        learning360Url,
        await demoGroups(learning360Url),
        emulators.skillcast!.server.url,
      ),
    );
    // The embedded dev server is plain and local: a real cluster's API key or TLS profile in the
    // developer's environment must not be sent to it.
    const loaded = loadContext({ config: configPath }, env);
    const ctx = { ...loaded, temporal: plainConnectionSettings(loaded.address, loaded.namespace) };

    say('Starting the worker and the webhook API…');
    const workers = await startWorker(ctx, env);
    const workerRun = workers.run();
    // Awaited at the end (a failed Worker stops everything, and the command exits non-zero); this
    // only keeps a failure before then from counting as unhandled.
    workerRun.catch(() => undefined);
    stops.push(() => workers.shutdown());
    const api = await startApi(ctx, env);
    stops.push(() => api.close());
    // HiBob's webhooks for the demo connection point at the local API, signed with its secret.
    const webhookUrl = `${api.url}/webhooks/hibob/demo-360`;
    emulators.hibob!.emulator.subscribeWebhook({
      url: webhookUrl,
      secret: env.HIBOB_WEBHOOK_SECRET!,
      name: 'bobsync demo-360',
    });

    const health = await runHealthCheck({ config: configPath }, env, ctx);

    // A first full sync per connection loads the demo company into both LMSs, as on day one of a real tenant.
    const io = { ctx, env, out: stdoutOutput() };
    const firstSyncs: { connection: string; workflowId: string; report?: string }[] = [];
    for (const [connection, what] of [
      ['demo-360', 'HiBob → 360Learning'],
      ['demo-skillcast', 'HiBob → Skillcast'],
    ] as const) {
      say(`Running a first full sync of ${connection} (${what})…`);
      const first = await runSync(io, {
        connection,
        follow: true,
        outDir: join(dataDir, 'reports', connection, 'first-full-sync'),
      });
      firstSyncs.push({
        connection,
        workflowId: first.workflowId,
        report: first.files ? (first.files['report.xlsx'] ?? Object.values(first.files)[0]) : undefined,
      });
      await createSchedule({ ...io, out: { write: () => undefined } }, { connection }).catch((err: Error) =>
        say(`  (schedule of ${connection} not created: ${err.message})`),
      );
    }
    say();
    say('bobsync is ready.');
    say(`  Temporal UI           ${temporal.uiUrl}/namespaces/${temporal.namespace}/workflows`);
    say(`  Temporal frontend     ${temporal.address}   (temporal workflow list --address ${temporal.address})`);
    say(`  Webhook API           ${api.url}   (GET /healthz, /readyz; HiBob posts to ${webhookUrl})`);
    say(
      `  Metrics (Prometheus)  ${api.url}/metrics${workers.metricsUrl ? `, ${workers.metricsUrl}/metrics (worker)` : ''}`,
    );
    const codecAccess = env.BOBSYNC_CODEC_AUTH_TOKEN ? 'bearer token required' : 'loopback only, no token';
    say(`  Codec endpoint        ${api.codecUrl}/codec   (the Temporal UI decrypts through it; ${codecAccess})`);
    for (const line of emulators.describe()) say(`  ${line}`);
    say(`  Config in use         ${configPath}`);
    say(`  Health check          HiBob reached, sample employee ${health.sampleEmployeeId ?? '(none)'}`);
    for (const first of firstSyncs) {
      say(`  First full sync       ${first.workflowId}`);
      if (first.report) say(`    its report          ${first.report}`);
      say(
        `    nightly schedule    bobsync/${first.connection}/full-sync (bobsync schedule describe --connection ${first.connection})`,
      );
    }
    say();
    say('Ctrl-C stops everything.');
    await Promise.race([waitForSignal(), workerRun]);
    say('Stopping…');
  } finally {
    await stopAll();
  }
}

/**
 * The config `bobsync dev` writes for the demo tenant: what a customer would declare for the
 * same company (site time zones, custom fields, group rules), pointing at the emulators.
 */
export function embeddedConfigYaml(
  hibobUrl: string,
  learning360Url: string,
  groups: DemoGroups,
  skillcastUrl?: string,
): string {
  const header =
    '# Written by `bobsync dev` for the local emulators. Secrets are env references, set by `bobsync dev`.\n';
  const source = {
    type: 'hibob',
    baseUrl: `${hibobUrl}/v1`,
    serviceUserId: DEMO_CREDENTIALS.hibobServiceUserId,
    serviceUserToken: { env: 'HIBOB_SERVICE_USER_TOKEN' },
    webhookSecret: { env: 'HIBOB_WEBHOOK_SECRET' },
  };
  const status = {
    defaultTimeZone: 'Europe/London',
    siteTimeZones: Object.fromEntries(DEFAULT_SITES.filter((s) => !s.archived).map((s) => [s.name, s.timeZone])),
  };
  const groupRules = [
    { name: 'Engineering', when: { field: 'work.department', label: true, in: ['Engineering', 'Platform', 'Mobile'] } },
    { name: 'Sales', when: { field: 'work.department', label: true, equals: 'Sales' } },
    { name: 'London', when: { field: 'work.site', equals: 'London' } },
    { name: 'All staff', when: { field: 'root.id', exists: true } },
  ].flatMap(({ name, when }) => (groups.byName[name] ? [{ when, groupId: groups.byName[name] }] : []));
  return (
    header +
    stringify({
      temporal: { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'bobsync' },
      connections: [
        {
          name: 'demo-360',
          source,
          destination: {
            type: '360learning',
            baseUrl: learning360Url,
            clientId: DEMO_CREDENTIALS.learning360ClientId,
            clientSecret: { env: 'LEARNING360_CLIENT_SECRET' },
            defaultGroupId: groups.root,
          },
          mapping: {
            customFields: [
              { name: 'Department', source: { from: 'work.department', label: true }, createIfMissing: true },
              { name: 'Site', source: { from: 'work.site' }, createIfMissing: true },
              { name: 'Start date', type: 'date', source: { from: 'work.startDate' }, createIfMissing: true },
            ],
            groups: groupRules,
            status,
          },
        },
        ...(skillcastUrl
          ? [
              {
                name: 'demo-skillcast',
                source,
                destination: {
                  type: 'skillcast',
                  baseUrl: `${skillcastUrl}/skillcastApi/scim`,
                  token: { env: 'SKILLCAST_SCIM_TOKEN' },
                  domain: 'Employees',
                  requestsPerSecond: 20,
                },
                mapping: {
                  // SCIM enterprise attributes, which Skillcast's audiences and reports read.
                  fields: {
                    employeeNumber: { from: 'work.employeeIdInCompany' },
                    department: { from: 'work.department', label: true },
                  },
                  // Portal attributes, by their exact names in Skillcast.
                  customFields: [
                    { name: 'Department', source: { from: 'work.department', label: true } },
                    { name: 'Site', source: { from: 'work.site' } },
                    { name: 'Start Date', type: 'date', source: { from: 'work.startDate' } },
                  ],
                  status,
                },
                // The demo's first run applies at once; a real tenant keeps firstRun and approves the preview.
                safety: { approval: 'onSafeguard' },
              },
            ]
          : []),
      ],
    })
  );
}
