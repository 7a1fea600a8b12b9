/**
 * The `bobsync` command as users run it: `node bin/bobsync.js` in a checkout, in a process of its
 * own. `bobsync dev` and `bobsync emulators` load the local stack on demand, the path a unit test
 * of the commands never takes.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../src/dev/ports';

jest.setTimeout(60_000);

it('`bobsync emulators` loads the local stack and serves the HiBob emulator until stopped', async () => {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(__dirname, '../../bin/bobsync.js'),
      'emulators',
      '--only',
      'hibob',
      '--employees',
      '3',
      '--hibob-port',
      String(port),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 45_000;
    while (!output.includes('Ctrl-C stops them') && child.exitCode === null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(output).toContain(`HiBob emulator        http://127.0.0.1:${port}/v1`);
    const answer = await fetch(`http://127.0.0.1:${port}/v1/people/search`, { method: 'POST' });
    expect(answer.status).toBe(401);
  } finally {
    child.kill('SIGINT');
    await exited;
  }
});
