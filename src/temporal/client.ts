import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';

export interface ClientOptions {
  address: string;
  namespace: string;
  dataConverter?: DataConverter;
  connectTimeoutMs?: number;
}

export async function connectClient(options: ClientOptions): Promise<Client> {
  const connection = await Connection.connect({
    address: options.address,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
  });
  return new Client({ connection, namespace: options.namespace, dataConverter: options.dataConverter });
}
