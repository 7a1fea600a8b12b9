/**
 * The least a webhook receiver can do, for the floor benchmark's "minimal worker, over HTTP"
 * set-up: read the POST, check its HiBob signature, parse it and signal-with-start the minimal
 * workflow of the employee it names, then answer 202. No config, codec, metrics or logging.
 * Forked by bench/temporal-floor.ts; not run by hand.
 */
import http from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { verifyBobSignature } from '../../src/api/hibob-webhook';
import { eventSignal } from './workflows';

export interface RelayArgs {
  address: string;
  taskQueue: string;
  /** Workflow id of employee E: `${workflowIdPrefix}${E}`. */
  workflowIdPrefix: string;
  secret: string;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]!) as RelayArgs;
  const connection = await Connection.connect({ address: args.address });
  const client = new Client({ connection });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      const body = Buffer.concat(chunks);
      const answer = (status: number) => {
        res.statusCode = status;
        res.end();
      };
      if (!verifyBobSignature(args.secret, body, req.headers['bob-signature'] as string | undefined))
        return answer(401);
      let employeeId: string;
      let event: unknown;
      try {
        event = JSON.parse(body.toString('utf8'));
        employeeId = String((event as { data: { employeeId: unknown } }).data.employeeId);
      } catch {
        return answer(400);
      }
      client.workflow
        .signalWithStart('awaitEvents', {
          taskQueue: args.taskQueue,
          workflowId: `${args.workflowIdPrefix}${employeeId}`,
          signal: eventSignal,
          signalArgs: [event],
        })
        .then(
          () => answer(202),
          () => answer(503),
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.send?.({ port: (server.address() as { port: number }).port });
  process.once('disconnect', () => {
    server.close();
    server.closeAllConnections();
    void connection.close();
  });
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
