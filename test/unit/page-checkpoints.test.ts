/**
 * Checkpointed paged reads: what is saved when, and what a retry reads again.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointedPages, type PageCheckpointDetails, type PageSource } from '../../src/activities/page-checkpoints';
import { FileBlobStore } from '../../src/blobstore';

/** Ten pages of three numbers; cursors are page numbers; records which pages were read. */
function numbers(read: number[]): PageSource<number> {
  return async function* (from) {
    for (let page = from === undefined ? 0 : Number(from); page < 10; page++) {
      read.push(page);
      yield { items: [page * 3, page * 3 + 1, page * 3 + 2], next: page < 9 ? String(page + 1) : undefined };
    }
  };
}

const all = Array.from({ length: 30 }, (_, i) => i);

async function store() {
  return new FileBlobStore(await mkdtemp(join(tmpdir(), 'bobsync-pages-')));
}

describe('checkpointed paged reads', () => {
  it('saves pages no more often than asked, and always at the end of a list', async () => {
    let clock = 0;
    const beats: PageCheckpointDetails[] = [];
    const reader = checkpointedPages({
      blobs: await store(),
      keyPrefix: 'run',
      resumeFrom: undefined,
      saveEveryMs: 3,
      now: () => clock,
      heartbeat: (d) => beats.push(d),
    });
    const read: number[] = [];
    const source = numbers(read);
    const items = await reader.readAll('n', async function* (from) {
      for await (const page of source(from)) {
        clock += 1;
        yield page;
      }
    });
    expect(items).toEqual(all);
    expect(beats).toHaveLength(10); // a heartbeat per page
    const final = beats.at(-1)!.pageCheckpoints.n!;
    expect(final.done).toBe(true);
    // Saved after pages 3, 6 and 9 (clock 3, 6, 9), then the rest at the end.
    expect(final.parts).toHaveLength(4);
    expect(beats[2]!.pageCheckpoints.n).toMatchObject({ next: '3', done: false });
  });

  it('a retry reads only the pages after the last checkpoint, and a finished list not at all', async () => {
    const blobs = await store();
    let last: PageCheckpointDetails | undefined;
    const crash = new Error('lost');
    const first = checkpointedPages({
      blobs,
      keyPrefix: 'run',
      resumeFrom: undefined,
      saveEveryMs: 0,
      heartbeat: (d) => {
        if (d.pageCheckpoints.n?.parts.length === 5) throw crash;
        last = d;
      },
    });
    await expect(first.readAll('n', numbers([]))).rejects.toBe(crash);

    const read: number[] = [];
    const retry = checkpointedPages({ blobs, keyPrefix: 'run', resumeFrom: last, heartbeat: (d) => (last = d) });
    expect(await retry.readAll('n', numbers(read))).toEqual(all);
    expect(read).toEqual([4, 5, 6, 7, 8, 9]);

    const again: number[] = [];
    const third = checkpointedPages({ blobs, keyPrefix: 'run', resumeFrom: last, heartbeat: () => undefined });
    expect(await third.readAll('n', numbers(again))).toEqual(all);
    expect(again).toEqual([]);
  });

  it('ignores heartbeat details that are not checkpoints (an attempt of an older worker)', async () => {
    const read: number[] = [];
    const reader = checkpointedPages({
      blobs: await store(),
      keyPrefix: 'run',
      resumeFrom: 17,
      heartbeat: () => undefined,
    });
    expect(await reader.readAll('n', numbers(read))).toEqual(all);
    expect(read).toHaveLength(10);
  });
});
