/**
 * Starts the three vendor emulators on loopback, with the HiBob one seeded with demo employees.
 * Used by `bobsync emulators`, the embedded default and the benchmarks.
 */
import { HibobEmulator, generateDemoEmployees } from '../emulators/hibob';
import { Learning360Emulator, type Learning360EmulatorOptions } from '../emulators/learning360';
import { SkillcastEmulator } from '../emulators/skillcast';
import type { RunningServer } from '../emulators/common/server';

export type EmulatorName = 'hibob' | '360learning' | 'skillcast';

/** Credentials the emulators accept by default. They guard nothing real: demo data on loopback. */
export const DEMO_CREDENTIALS = {
  hibobServiceUserId: 'bobsync-demo',
  hibobToken: 'demo-hibob-token',
  hibobWebhookSecret: 'demo-webhook-secret',
  learning360ClientId: 'bobsync-demo',
  learning360ClientSecret: 'demo-secret',
  skillcastToken: 'demo-scim-token',
} as const;

export interface StartEmulatorsOptions {
  only?: EmulatorName[];
  employees?: number;
  seed?: number;
  /** Seeds the HiBob ids of people created later (hires); stacks sharing a Temporal server need their own. */
  hibobIdSeed?: number;
  ports?: { hibob?: number; learning360?: number; skillcast?: number };
  host?: string;
  /** Options of the 360Learning emulator (rate limits, page sizes). */
  learning360?: Learning360EmulatorOptions;
}

export interface RunningEmulators {
  hibob?: { emulator: HibobEmulator; server: RunningServer };
  learning360?: { emulator: Learning360Emulator; server: RunningServer };
  skillcast?: { emulator: SkillcastEmulator; server: RunningServer };
  describe(): string[];
  close(): Promise<void>;
}

export async function startEmulators(options: StartEmulatorsOptions = {}): Promise<RunningEmulators> {
  const wanted = new Set<EmulatorName>(options.only ?? ['hibob', '360learning', 'skillcast']);
  const host = options.host ?? '127.0.0.1';
  const result: RunningEmulators = {
    describe() {
      const lines: string[] = [];
      if (result.hibob)
        lines.push(
          `HiBob emulator        ${result.hibob.server.url}/v1   (service user ${DEMO_CREDENTIALS.hibobServiceUserId})`,
        );
      if (result.learning360)
        lines.push(
          `360Learning emulator  ${result.learning360.server.url}/api/v2   (client ${DEMO_CREDENTIALS.learning360ClientId})`,
        );
      if (result.skillcast)
        lines.push(
          `Skillcast emulator    ${result.skillcast.server.url}/skillcastApi/scim   (token ${DEMO_CREDENTIALS.skillcastToken})`,
        );
      return lines;
    },
    async close() {
      await Promise.all([
        result.hibob?.server.close(),
        result.learning360?.server.close(),
        result.skillcast?.server.close(),
      ]);
    },
  };
  try {
    if (wanted.has('hibob')) {
      const emulator = new HibobEmulator({
        serviceUsers: [{ id: DEMO_CREDENTIALS.hibobServiceUserId, token: DEMO_CREDENTIALS.hibobToken }],
        idSeed: options.hibobIdSeed,
      });
      emulator.seed(generateDemoEmployees({ count: options.employees ?? 60, seed: options.seed ?? 42 }));
      result.hibob = { emulator, server: await emulator.start(options.ports?.hibob ?? 4010, host) };
    }
    if (wanted.has('360learning')) {
      const emulator = new Learning360Emulator(options.learning360);
      result.learning360 = { emulator, server: await emulator.start(options.ports?.learning360 ?? 4020, host) };
    }
    if (wanted.has('skillcast')) {
      const emulator = new SkillcastEmulator();
      result.skillcast = { emulator, server: await emulator.start(options.ports?.skillcast ?? 4030, host) };
    }
  } catch (err) {
    await result.close();
    throw err;
  }
  return result;
}
