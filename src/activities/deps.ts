/**
 * What activities need from the outside world, built once per worker process:
 * the validated config, the environment for secrets, and per-connection clients.
 */
import type { BlobStore } from '../blobstore/blob-store';
import type { BobsyncConfig, ConnectionConfig } from '../config/schema';
import { readSecret } from '../config/loader';
import { HibobClient } from '../clients/hibob/client';
import { HibobReportClient } from '../clients/hibob/reports';
import { hibobFieldsFor } from '../domain/normalise';
import { HibobFieldPaths } from './hibob-field-paths';
import { Learning360Client } from '../clients/learning360/client';
import { ScimClient } from '../clients/scim/client';
import type { Learning360DestinationConfig, SkillcastDestinationConfig } from '../config/schema';
import { ApplicationFailure } from '@temporalio/activity';

export interface ActivityDeps {
  config: BobsyncConfig;
  env: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  /** Claim-check store for snapshots, plans and reports (default: files under BOBSYNC_DATA_DIR). */
  blobs?: BlobStore;
}

export class ConnectionRegistry {
  private readonly hibobClients = new Map<string, HibobClient>();
  private readonly learning360Clients = new Map<string, Learning360Client>();
  private readonly scimClients = new Map<string, ScimClient>();
  private readonly fieldPaths = new Map<string, HibobFieldPaths>();

  constructor(private readonly deps: ActivityDeps) {}

  connection(name: string): ConnectionConfig {
    const found = this.deps.config.connections.find((c) => c.name === name);
    // A workflow naming a connection that is not configured will never succeed by retrying.
    if (!found)
      throw ApplicationFailure.nonRetryable(`No connection named "${name}" in the config`, 'UnknownConnection');
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

  /** Where HiBob files the connection's mapped fields that are not at their id (hibob-field-paths.ts). */
  hibobFieldPaths(name: string): HibobFieldPaths {
    let paths = this.fieldPaths.get(name);
    if (!paths) {
      const { source, mapping } = this.connection(name);
      // Made when first needed: most mappings never read the metadata.
      const listFields = async () =>
        new HibobReportClient({
          baseUrl: source.baseUrl,
          serviceUserId: source.serviceUserId,
          token: readSecret(source.serviceUserToken, this.deps.env),
          fetch: this.deps.fetch,
        }).listFields();
      paths = new HibobFieldPaths(listFields, hibobFieldsFor(mapping));
      this.fieldPaths.set(name, paths);
    }
    return paths;
  }

  /** The connection's 360Learning destination; fails for good when it is another kind. */
  learning360Destination(name: string): Learning360DestinationConfig {
    const { destination } = this.connection(name);
    if (destination.type !== '360learning') {
      throw ApplicationFailure.nonRetryable(
        `Connection "${name}" writes to ${destination.type}, not 360Learning`,
        'WrongDestination',
      );
    }
    return destination;
  }

  /** The connection's Skillcast destination; fails for good when it is another kind. */
  skillcastDestination(name: string): SkillcastDestinationConfig {
    const { destination } = this.connection(name);
    if (destination.type !== 'skillcast') {
      throw ApplicationFailure.nonRetryable(
        `Connection "${name}" writes to ${destination.type}, not Skillcast`,
        'WrongDestination',
      );
    }
    return destination;
  }

  /**
   * One SCIM client per connection: discovery is read once, and its request spacing keeps this
   * worker under the connection's requestsPerSecond between task-queue dispatches.
   */
  scim(name: string): ScimClient {
    let client = this.scimClients.get(name);
    if (!client) {
      const destination = this.skillcastDestination(name);
      client = new ScimClient({
        baseUrl: destination.baseUrl,
        token: readSecret(destination.token, this.deps.env),
        extensionUrn: destination.extensionUrn,
        customAttributes: this.connection(name).mapping.customFields.map((f) => f.name),
        requestsPerSecond: destination.requestsPerSecond,
        fetch: this.deps.fetch,
      });
      this.scimClients.set(name, client);
    }
    return client;
  }

  /** One client per connection, so its token cache and rate spacing are shared by all activities. */
  learning360(name: string): Learning360Client {
    let client = this.learning360Clients.get(name);
    if (!client) {
      const destination = this.learning360Destination(name);
      client = new Learning360Client({
        baseUrl: destination.baseUrl,
        clientId: destination.clientId,
        clientSecret: readSecret(destination.clientSecret, this.deps.env),
        writesPerSecond: destination.writesPerSecond,
        readsPerSecond: destination.readsPerSecond,
        fetch: this.deps.fetch,
      });
      this.learning360Clients.set(name, client);
    }
    return client;
  }
}
