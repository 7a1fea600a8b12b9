/**
 * What the operator commands share: where they print, the loaded context, and a Temporal client
 * that seals payloads with the deployment's codec. Commands take these as arguments, so tests
 * call them with a memory sink and a stack's config instead of process globals.
 */
import type { Client } from '@temporalio/client';
import { codecDataConverter, codecFromEnv } from '../codec/aes-gcm-codec';
import { temporalSettings, type CommandContext } from '../config/context';
import type { ConnectionConfig } from '../config/schema';
import { connectClient } from '../temporal/client';

/** A place to print: process.stdout, or anything with `write` (tests collect the text). */
export interface Output {
  write(text: string): unknown;
  /** A terminal gets a progress line redrawn in place; anything else gets plain lines. */
  isTTY?: boolean;
  columns?: number;
}

export interface CommandIo {
  ctx: CommandContext;
  /** Codec keys, data dir and the operator's name come from here. */
  env: NodeJS.ProcessEnv;
  out: Output;
  /** A connected client to reuse; without it each command connects and closes its own. */
  client?: Client;
}

let pipeGuarded = false;

/** process.stdout, where a reader that stops early (`bobsync schedule describe | head`) is not a crash. */
export function stdoutOutput(): Output {
  if (!pipeGuarded) {
    pipeGuarded = true;
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
  return process.stdout;
}

export function println(out: Output, line = ''): void {
  out.write(`${line}\n`);
}

export async function withClient<T>(io: CommandIo, fn: (client: Client) => Promise<T>): Promise<T> {
  if (io.client) return fn(io.client);
  const client = await connectClient({
    settings: temporalSettings(io.ctx),
    dataConverter: codecDataConverter(codecFromEnv(io.env)),
  });
  try {
    return await fn(client);
  } finally {
    await client.connection.close();
  }
}

/** The named connection, or the first one; an unknown name lists the known ones. */
export function resolveConnection(io: CommandIo, name?: string): ConnectionConfig {
  const { connections } = io.ctx.config;
  if (!name) return connections[0]!;
  const found = connections.find((c) => c.name === name);
  if (!found)
    throw new Error(
      `no connection "${name}" in ${io.ctx.configPath} (known: ${connections.map((c) => c.name).join(', ')})`,
    );
  return found;
}

/** Who approves or pauses, when --by is not given. */
export function operatorName(env: NodeJS.ProcessEnv): string {
  return env.USER ?? env.USERNAME ?? 'cli';
}

/** The Temporal UI page of a workflow (TEMPORAL_UI_URL, default the dev server's UI). */
export function workflowUiUrl(io: CommandIo, workflowId: string): string {
  const base = (io.env.TEMPORAL_UI_URL ?? 'http://localhost:8233').replace(/\/+$/, '');
  return `${base}/namespaces/${encodeURIComponent(io.ctx.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

// Changes first, then what needs a look, then what was left alone.
const COUNT_ORDER = [
  'create',
  'update',
  'deactivate',
  'reactivate',
  'applied',
  'planned',
  'held',
  'failed',
  'park',
  'parked',
  'protected',
  'skipped',
  'noop',
  'unchanged',
];

/** "9 create · 1 park · 2 noop", leaving out zeros. */
export function formatCounts(counts: Partial<Record<string, number>>): string {
  const rank = (k: string) => (COUNT_ORDER.includes(k) ? COUNT_ORDER.indexOf(k) : COUNT_ORDER.length);
  const parts = Object.entries(counts)
    .filter(([, n]) => (n ?? 0) > 0)
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([k, n]) => `${n} ${k}`);
  return parts.length ? parts.join(' · ') : 'none';
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
