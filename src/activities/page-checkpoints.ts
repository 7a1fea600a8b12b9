/**
 * Paged reads that survive a retry. A snapshot of a large LMS is minutes of paged GETs; when the
 * worker dies half-way, the retried activity goes on from the last checkpoint instead of the
 * first page. Pages read so far are kept in the blob store (they hold employee data and may be
 * large); the heartbeat carries only their references and the cursor of the next page.
 */
import type { BlobRef, BlobStore } from '../blobstore';

/** A page of a list and the cursor of the next one (none on the last page). */
export interface CursorPage<T> {
  items: T[];
  next?: string;
}

/** Reads one list page by page, from its first page or from a cursor an earlier attempt reached. */
export type PageSource<T> = (from: string | undefined) => AsyncIterable<CursorPage<T>>;

export interface PagedReader {
  /** Every item of `list`, reusing the pages an earlier attempt of this activity already saved. */
  readAll<T>(list: string, source: PageSource<T>): Promise<T[]>;
}

interface ListCheckpoint {
  parts: BlobRef[];
  /** Cursor of the first page not in `parts`. */
  next?: string;
  done: boolean;
}

/** What the heartbeat carries: per list, the saved parts and where to go on. */
export interface PageCheckpointDetails {
  pageCheckpoints: Record<string, ListCheckpoint>;
}

export interface PageCheckpointOptions {
  blobs: BlobStore;
  /** Blob keys of saved pages start with this (e.g. the run's key). */
  keyPrefix: string;
  /** Details of the last heartbeat of an earlier attempt, if any. */
  resumeFrom: unknown;
  heartbeat: (details: PageCheckpointDetails) => void;
  /** Pages are saved at most this often (and at the end of each list): a checkpoint costs a blob write. */
  saveEveryMs?: number;
  now?: () => number;
}

function isCheckpointDetails(value: unknown): value is PageCheckpointDetails {
  return typeof value === 'object' && value !== null && 'pageCheckpoints' in value;
}

export function checkpointedPages(options: PageCheckpointOptions): PagedReader {
  const lists: Record<string, ListCheckpoint> = isCheckpointDetails(options.resumeFrom)
    ? structuredClone(options.resumeFrom.pageCheckpoints)
    : {};
  const now = options.now ?? Date.now;
  const saveEveryMs = options.saveEveryMs ?? 10_000;
  const beat = (): void => options.heartbeat({ pageCheckpoints: structuredClone(lists) });
  const keyOf = (list: string, part: number): string =>
    `${options.keyPrefix}/pages/${list.replace(/[^A-Za-z0-9._-]/g, '_')}-${part}.json`;

  return {
    async readAll<T>(list: string, source: PageSource<T>): Promise<T[]> {
      const checkpoint = (lists[list] ??= { parts: [], done: false });
      const items: T[] = [];
      for (const part of checkpoint.parts) items.push(...(await options.blobs.getJson<T[]>(part)));
      if (checkpoint.done) return items;

      let unsaved: T[] = [];
      let savedAt = now();
      const save = async (next: string | undefined): Promise<void> => {
        if (unsaved.length > 0) {
          checkpoint.parts.push(await options.blobs.putJson(keyOf(list, checkpoint.parts.length), unsaved));
        }
        checkpoint.next = next;
        checkpoint.done = next === undefined;
        unsaved = [];
        savedAt = now();
        beat();
      };
      for await (const page of source(checkpoint.next)) {
        items.push(...page.items);
        unsaved.push(...page.items);
        if (page.next === undefined) break;
        if (now() - savedAt >= saveEveryMs) await save(page.next);
        else beat();
      }
      await save(undefined);
      return items;
    },
  };
}

/** A reader that keeps nothing: every read starts from the first page (outside activities, e.g. in tests). */
export const uncheckpointedPages: PagedReader = {
  async readAll<T>(_list: string, source: PageSource<T>): Promise<T[]> {
    const items: T[] = [];
    for await (const page of source(undefined)) items.push(...page.items);
    return items;
  },
};
