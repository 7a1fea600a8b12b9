/**
 * `bobsync worker` as an orchestrator sees it: a signal stops it with exit code 0; a Worker that
 * fails takes the process down with a non-zero code and a logged error, so it gets restarted.
 * The failure is a real one: the worker's namespace is deleted under it, after which Temporal
 * answers its polls with NotFound (the SDK tolerates fatal poll errors for 60 s before failing).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_CREDENTIALS } from '../../packages/local/stack/emulators';
import { embeddedConfigYaml } from '../../packages/local/stack/embedded';
import { TEST_CODEC_KEYS } from '../support/codec';
import { uniqueTaskQueue } from '../support/temporal';

jest.setTimeout(240_000);

const root = join(__dirname, '..', '..');

interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function temporalAddress(): string {
  const address = process.env.BOBSYNC_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('No Temporal test server: run the tests through jest so global setup starts one.');
  return address;
}

function temporalCli(...args: string[]): string {
  const cli = process.env.BOBSYNC_TEST_TEMPORAL_CLI;
  if (!cli) throw new Error('No Temporal CLI: run the tests through jest so global setup finds one.');
  return execFileSync(cli, [...args, '--address', temporalAddress()], { encoding: 'utf8' });
}

describe('bobsync worker process exit codes', () => {
  let dir: string;
  let configPath: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bobsync-worker-exit-'));
    configPath = join(dir, 'bobsync.yaml');
    // A task queue of its own on the shared server; the vendors are never called.
    const yaml = embeddedConfigYaml('http://127.0.0.1:9', 'http://127.0.0.1:9', { root: '0'.repeat(24), byName: {} });
    writeFileSync(configPath, yaml.replace('taskQueue: bobsync', `taskQueue: ${uniqueTaskQueue('worker-exit')}`));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function startWorkerProcess(namespace: string): Promise<WorkerProcess> {
    const child = spawn(process.execPath, [join(root, 'bin', 'bobsync.js'), 'worker', '--config', configPath], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TEMPORAL_ADDRESS: temporalAddress(),
        TEMPORAL_NAMESPACE: namespace,
        BOBSYNC_CODEC_KEYS: TEST_CODEC_KEYS,
        BOBSYNC_DATA_DIR: join(dir, 'data'),
        HIBOB_SERVICE_USER_TOKEN: DEMO_CREDENTIALS.hibobToken,
        HIBOB_WEBHOOK_SECRET: DEMO_CREDENTIALS.hibobWebhookSecret,
        LEARNING360_CLIENT_SECRET: DEMO_CREDENTIALS.learning360ClientSecret,
        SKILLCAST_SCIM_TOKEN: DEMO_CREDENTIALS.skillcastToken,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await Promise.race([
      new Promise<void>((resolve) => {
        const check = () =>
          output.includes('"msg":"worker started"') || child.exitCode !== null ? resolve() : setTimeout(check, 100);
        check();
      }),
      exited.then((code) => {
        throw new Error(`bobsync worker exited with ${code} before it started:\n${output}`);
      }),
    ]);
    return { child, output: () => output, exited };
  }

  it('exits 0 when stopped with SIGTERM', async () => {
    const worker = await startWorkerProcess('default');
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.output()).not.toContain('a worker failed');
  });

  it('exits non-zero, with the error logged, when its Workers fail', async () => {
    const namespace = `bobsync-exit-${Date.now()}`;
    temporalCli('operator', 'namespace', 'create', '--namespace', namespace);
    const worker = await startWorkerProcess(namespace);
    try {
      temporalCli('operator', 'namespace', 'delete', '--namespace', namespace, '--yes');
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        worker.exited,
        new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still running'), 200_000))),
      ]).finally(() => clearTimeout(timer));
      expect(code).toBe(1);
      const failure = worker
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; msg: string; err?: { message?: string } })
        .find((entry) => entry.msg.startsWith('a worker failed'));
      expect(failure).toMatchObject({ level: 50, err: { message: expect.stringMatching(/Worker of task queue/) } });
    } finally {
      worker.child.kill('SIGKILL');
    }
  });
});
