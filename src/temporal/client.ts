import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import {
  connectionOptions,
  explainConnectError,
  plainConnectionSettings,
  type TemporalConnectionSettings,
} from './connection-settings';

/** Resolved settings (TLS, API key, headers: see resolveConnectionSettings), or a plain address such as the local dev server's. */
export type ClientOptions = ({ settings: TemporalConnectionSettings } | { address: string; namespace: string }) & {
  dataConverter?: DataConverter;
  connectTimeoutMs?: number;
};

export async function connectClient(options: ClientOptions): Promise<Client> {
  const settings =
    'settings' in options ? options.settings : plainConnectionSettings(options.address, options.namespace);
  let connection: Connection;
  try {
    connection = await Connection.connect({
      ...connectionOptions(settings),
      connectTimeout: options.connectTimeoutMs ?? 5_000,
    });
  } catch (err) {
    throw await explainConnectError(err, settings);
  }
  return new Client({ connection, namespace: settings.namespace, dataConverter: options.dataConverter });
}
