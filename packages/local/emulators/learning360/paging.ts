/**
 * Cursor pagination as 360Learning does it: a page of results and, when more exist, a
 * `Link: <…?next=TOKEN>; rel="next"` header. The token is opaque to clients; it carries the
 * filters of the first request and the key of the last item served.
 */
import type { Request, Response } from 'express';

interface Cursor {
  /** The list the cursor belongs to (its path), so a token cannot be replayed elsewhere. */
  p: string;
  /** Filters of the first page. */
  f: unknown;
  /** Key of the last item already served. */
  a: string;
}

export class CursorError extends Error {}

function listPath(req: Request): string {
  return req.originalUrl.split('?')[0] ?? req.path;
}

/** The filters to apply: those of the cursor when following a `next` link, else the query's. */
export function filtersOf<F>(req: Request, fromQuery: () => F): { filters: F; after?: string } {
  const token = (req.query as Record<string, unknown>).next;
  if (typeof token !== 'string') return { filters: fromQuery() };
  let cursor: Cursor;
  try {
    cursor = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Cursor;
  } catch {
    throw new CursorError('the next cursor is not one this API issued');
  }
  if (!cursor || typeof cursor.a !== 'string' || cursor.p !== listPath(req))
    throw new CursorError('the next cursor belongs to another list');
  return { filters: cursor.f as F, after: cursor.a };
}

/** Answers one page of `items` (already in their stable order) and sets `Link` when more remain. */
export function sendPage<T>(
  req: Request,
  res: Response,
  items: T[],
  key: (item: T) => string,
  pageSize: number,
  filters: unknown,
  after: string | undefined,
): void {
  let start = 0;
  if (after !== undefined) {
    const at = items.findIndex((item) => key(item) === after);
    // The last item served may be gone since; continue from the first key past it.
    start = at >= 0 ? at + 1 : items.findIndex((item) => key(item) > after);
    if (start < 0) start = items.length;
  }
  const page = items.slice(start, start + pageSize);
  if (start + pageSize < items.length && page.length > 0) {
    const cursor: Cursor = { p: listPath(req), f: filters, a: key(page[page.length - 1]!) };
    const token = Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
    res.setHeader('Link', `<${req.protocol}://${req.get('host')}${listPath(req)}?next=${token}>; rel="next"`);
  }
  res.status(200).json(page);
}
