/**
 * The `bobsync` command. Each sub-command is a thin shell over a module that tests can call
 * directly; this file only parses arguments and prints.
 */
import { Command, Option } from 'commander';
import { ConfigError, loadConfigFile, missingSecrets } from '../config/loader';
import { configJsonSchema } from '../config/schema';
import { runtimeSettings } from '../config/runtime';
import { ensureTemporalCli } from '../dev/temporal-cli';
import { ensureTemporalTestServer } from '../dev/temporal-test-server';
import { resolve } from 'node:path';
import { runApiProcess, runCodecServerProcess, runHealthCheck, runWorkerProcess } from '../processes';
import { waitForSignal } from '../shutdown';
import { decideApproval } from './approval';
import { loadContext } from '../config/context';
import { showEmployee } from './employee';
import { stdoutOutput, type CommandIo } from './io';
import {
  createSchedule,
  deleteSchedule,
  describeSchedule,
  pauseSchedule,
  triggerSchedule,
  unpauseSchedule,
  type ScheduleOptions,
} from './schedule';
import { runSync } from './sync';
import { setupTemporal } from './temporal-setup';

function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function buildProgram(): Command {
  const program = new Command('bobsync')
    .description('Keeps 360Learning learners and Skillcast users (SCIM 2.0) in step with HiBob, on Temporal.')
    .showHelpAfterError();
  const configOption = () =>
    new Option('-c, --config <path>', 'bobsync.yaml to use (default: $BOBSYNC_CONFIG or ./bobsync.yaml)');

  program
    .command('dev')
    .description(
      'Run everything locally: Temporal dev server + UI, demo HiBob/360Learning/Skillcast emulators, worker, webhook API',
    )
    .option('--employees <n>', 'demo employees to seed into the HiBob emulator', '60')
    .option('--seed <n>', 'seed of the demo data generator', '42')
    .option('--fresh', 'delete the local Temporal database and start from an empty history')
    .action(async (opts: { employees: string; seed: string; fresh?: boolean }) => {
      // Loaded on demand: the production image ships without the emulators and the local stack.
      const { runEmbedded } = localStackModule<typeof import('@bobsync/local/stack/embedded')>(
        '@bobsync/local/stack/embedded',
      );
      await runEmbedded({ employees: Number(opts.employees), seed: Number(opts.seed), fresh: Boolean(opts.fresh) });
    });

  program
    .command('worker')
    .description('Run the Temporal worker (workflows and activities)')
    .addOption(configOption())
    .action(async (opts: { config?: string }) => {
      await runWorkerProcess(opts);
    });

  program
    .command('api')
    .description(
      'Run the webhook receiver and health endpoints ($BOBSYNC_API_PORT) and the codec endpoint on its own port ($BOBSYNC_CODEC_PORT)',
    )
    .addOption(configOption())
    .option('--no-codec', 'do not start the codec endpoint (run it apart with `bobsync codec-server`, or not at all)')
    .action(async (opts: { config?: string; codec: boolean }) => {
      await runApiProcess(opts);
    });

  program
    .command('codec-server')
    .description(
      'Run only the codec endpoint the Temporal UI and CLI decrypt payloads through ($BOBSYNC_CODEC_HOST:$BOBSYNC_CODEC_PORT)',
    )
    .action(async () => {
      await runCodecServerProcess();
    });

  program
    .command('emulators')
    .description('Run the HiBob, 360Learning and Skillcast emulators, seeded with demo employees')
    .option('--only <names>', 'comma-separated subset of hibob,360learning,skillcast')
    .option('--employees <n>', 'demo employees to seed', '60')
    .option('--seed <n>', 'seed of the demo data generator', '42')
    .option('--hibob-port <port>', 'HiBob emulator port', '4010')
    .option('--learning360-port <port>', '360Learning emulator port', '4020')
    .option('--skillcast-port <port>', 'Skillcast emulator port', '4030')
    .action(async (opts: Record<string, string | undefined>) => {
      const only = opts.only?.split(',').map((s) => s.trim());
      const { startEmulators } = localStackModule<typeof import('@bobsync/local/stack/emulators')>(
        '@bobsync/local/stack/emulators',
      );
      const running = await startEmulators({
        only: only as ('hibob' | '360learning' | 'skillcast')[] | undefined,
        employees: Number(opts.employees),
        seed: Number(opts.seed),
        ports: {
          hibob: Number(opts.hibobPort),
          learning360: Number(opts.learning360Port),
          skillcast: Number(opts.skillcastPort),
        },
      });
      for (const line of running.describe()) print(line);
      print('Admin APIs live under /__admin on each emulator. Ctrl-C stops them.');
      await waitForSignal();
      await running.close();
    });

  const config = program.command('config').description('Check and describe bobsync.yaml');
  config
    .command('validate')
    .description('Validate the config file and check that every secret it references is set')
    .addOption(configOption())
    .option('--no-env', 'only check the file, not the environment')
    .action((opts: { config?: string; env: boolean }) => {
      const path = resolve(opts.config ?? runtimeSettings().BOBSYNC_CONFIG);
      const parsed = loadConfigFile(path);
      const missing = opts.env ? missingSecrets(parsed) : [];
      if (missing.length) throw new ConfigError(missing, 'environment');
      print(
        `${path} is valid: ${parsed.connections.length} connection(s): ${parsed.connections.map((c) => `${c.name} (hibob → ${c.destination.type})`).join(', ')}`,
      );
    });
  config
    .command('schema')
    .description('Print the JSON Schema of bobsync.yaml (for editor completion and validation)')
    .action(() => print(JSON.stringify(configJsonSchema(), null, 2)));

  const temporal = program
    .command('temporal')
    .description(
      'The Temporal CLI bobsync uses for its dev server, the test server of workflow tests, and the setup of a namespace',
    );
  temporal
    .command('ensure')
    .description(
      'Find the Temporal CLI, downloading it (or else building it with Go) into the cache when missing; print its path',
    )
    .option(
      '--test-server',
      "also find Temporal's time-skipping test server, fetching it with Maven into the cache when missing (needs Java)",
    )
    .action(async (opts: { testServer?: boolean }) => {
      const cli = await ensureTemporalCli();
      print(`temporal CLI (${cli.source}): ${cli.path}`);
      if (opts.testServer) {
        const server = await ensureTemporalTestServer();
        print(`time-skipping test server (${server.source}): ${server.path}`);
      }
    });
  temporal
    .command('setup')
    .description(
      "Register the search attributes bobsync's workflows set (BobsyncConnection, BobsyncOutcome…) on the namespace: once per cluster, before the first run",
    )
    .addOption(configOption())
    .action(async (opts: { config?: string }) => {
      await setupTemporal(opts, stdoutOutput());
    });

  program
    .command('health')
    .description(
      'Run the health-check workflow for a connection and print its result, with the Temporal endpoint, namespace and TLS mode used',
    )
    .addOption(configOption())
    .option('--connection <name>', 'connection to check (default: the first)')
    .action(async (opts: { config?: string; connection?: string }) => {
      print(JSON.stringify(await runHealthCheck(opts), null, 2));
    });

  // Operator commands talk to Temporal only: the connections' secrets are not needed, the codec keys are.
  const operatorIo = (opts: { config?: string }): CommandIo => ({
    ctx: loadContext(opts, process.env, false),
    env: process.env,
    out: stdoutOutput(),
  });
  const connectionOption = () => new Option('--connection <name>', 'connection (default: the first in the config)');

  program
    .command('sync')
    .description('Start a full sync of a connection; with --follow, watch it and save its report')
    .addOption(configOption())
    .addOption(connectionOption())
    .option('--dry-run', 'plan only and write nothing; waits for the plan and saves the preview files')
    .option('--follow', 'show live progress until it finishes, then the summary and the report files')
    .option('--wait', 'wait until it finishes (no progress line), then the summary and the report files')
    .option(
      '--out <dir>',
      'folder for report.csv/.xlsx/.json and preview.csv/.xlsx (default ./bobsync-reports/<connection>/<start time>)',
    )
    .action(
      async (opts: {
        config?: string;
        connection?: string;
        dryRun?: boolean;
        follow?: boolean;
        wait?: boolean;
        out?: string;
      }) => {
        await runSync(operatorIo(opts), {
          connection: opts.connection,
          dryRun: opts.dryRun,
          follow: opts.follow,
          wait: opts.wait,
          outDir: opts.out,
        });
      },
    );

  for (const decision of ['approve', 'reject'] as const) {
    program
      .command(`${decision} <workflowId>`)
      .description(
        `${decision === 'approve' ? 'Approve' : 'Reject'} a full sync waiting for approval: its whole plan (safety.approval always or firstRun) or the deactivations a safeguard holds back`,
      )
      .addOption(configOption())
      .option('--by <name>', 'who decides, for the report (default: $USER)')
      .action(async (workflowId: string, opts: { config?: string; by?: string }) => {
        await decideApproval(operatorIo(opts), workflowId, decision, { by: opts.by });
      });
  }

  const schedule = program
    .command('schedule')
    .description('The Temporal Schedule of the full sync (id bobsync/<connection>/full-sync)');
  const scheduleCommand = (
    name: string,
    description: string,
    run: (io: CommandIo, opts: ScheduleOptions) => Promise<unknown>,
  ) =>
    schedule
      .command(name)
      .description(description)
      .addOption(configOption())
      .addOption(connectionOption())
      .action(async (opts: ScheduleOptions & { config?: string }) => {
        await run(operatorIo(opts), opts);
      });
  scheduleCommand(
    'create',
    'Create the schedule (cron in UTC from --cron or connection.fullSync.schedule)',
    createSchedule,
  )
    .option('--cron <expression>', 'cron expression, UTC, e.g. "0 2 * * *"')
    .option('--update', 'when it exists, replace its cron and action');
  scheduleCommand('describe', 'Show state, cron, next runs and recent runs', describeSchedule);
  scheduleCommand('pause', 'Stop starting runs until unpaused', pauseSchedule);
  scheduleCommand('unpause', 'Start runs on the calendar again', unpauseSchedule);
  scheduleCommand('trigger', 'Start a run now (skipped while one is still going)', triggerSchedule);
  scheduleCommand('delete', 'Delete the schedule (runs already started continue)', deleteSchedule);

  program
    .command('employee <employeeId>')
    .description("Show the state of an employee's workflow; with --sync, provision them now")
    .addOption(configOption())
    .addOption(connectionOption())
    .option('--sync', 're-read HiBob and apply the plan now, starting the workflow if none runs')
    .action(async (employeeId: string, opts: { config?: string; connection?: string; sync?: boolean }) => {
      await showEmployee(operatorIo(opts), employeeId, { connection: opts.connection, sync: opts.sync });
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
}

/**
 * The local stack and the emulators: the workspace package @bobsync/local, installed in a checkout
 * and left out of the production image; say so instead of a stack trace.
 */
function localStackModule<T>(path: string): T {
  try {
    // require, not import(): compiled, the CLI is CommonJS; in a checkout tsx's require hook
    // compiles the TypeScript source, and an import() would take Node's ES module path instead.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path) as T;
  } catch (err) {
    // Only when the local stack itself is absent; a module missing inside it is a real error.
    const absent = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String(err).includes(`'${path}'`);
    if (!absent) throw err;
    throw new Error(
      'this installation has no emulators or local stack (the production image leaves them out); run `npm start` in a checkout of bobsync instead',
    );
  }
}
