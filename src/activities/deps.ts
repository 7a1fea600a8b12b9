/**
 * What activities need from the outside world, built once per worker process:
 * the validated config, the environment for secrets, and per-connection clients.
 */
import type { BobsyncConfig, ConnectionConfig } from '../config/schema';
import { readSecret } from '../config/loader';
import { HibobClient } from '../clients/hibob/client';
import { ApplicationFailure } from '@temporalio/activity';

export interface ActivityDeps {
  config: BobsyncConfig;
  env: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
}

export class ConnectionRegistry {
  private readonly hibobClients = new Map<string, HibobClient>();

  constructor(private readonly deps: ActivityDeps) {}

  connection(name: string): ConnectionConfig {
    const found = this.deps.config.connections.find((c) => c.name === name);
    // A workflow naming a connection that is not configured will never succeed by retrying.
    if (!found) throw ApplicationFailure.nonRetryable(`No connection named "${name}" in the config`, 'UnknownConnection');
    return found;
  }

  hibob(name: string): HibobClient {
    let client = this.hibobClients.get(name);
    if (!client) {
      const { source } = this.connection(name);
      client = new HibobClient({
        baseUrl: source.baseUrl,
        serviceUserId: source.serviceUserId,
        token: readSecret(source.serviceUserToken, this.deps.env),
        fetch: this.deps.fetch,
      });
      this.hibobClients.set(name, client);
    }
    return client;
  }
}
