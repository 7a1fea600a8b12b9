import type { ErrorRequestHandler, Response } from 'express';
import { HibobAdminError } from '../types';

/** Bob's error body: `{"key": "<error id>", "error": "<message>"}`. */
export function sendError(res: Response, status: number, key: string, error: string): void {
  res.status(status).json({ key, error });
}

/** What an unknown path returns in realism mode: the web app's login page, with 200. */
export const LOGIN_PAGE_HTML =
  '<!doctype html><html><head><title>Bob</title></head><body><div id="app">Log in to Bob</div></body></html>';

export const BAD_REQUEST_HTML =
  '<!doctype html><html><head><title>400 Bad Request</title></head><body><h1>Bad Request</h1></body></html>';

export const WAF_BLOCK_HTML =
  '<!doctype html><html><head><title>Request blocked</title></head><body><h1>Request blocked</h1></body></html>';

/** Maps thrown errors and body-parser failures to `{key, error}` bodies. */
export const jsonErrorHandler: ErrorRequestHandler = (err: unknown, _req, res, next) => {
  if (res.headersSent) return next(err);
  if (err instanceof HibobAdminError) return sendError(res, err.status, err.key, err.message);
  const e = err as { type?: string; status?: number; message?: string };
  if (e.type === 'entity.parse.failed')
    return sendError(res, 400, 'invalid_json', 'The request body is not valid JSON');
  if (e.type === 'entity.too.large') return sendError(res, 413, 'payload_too_large', 'The request body is too large');
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500)
    return sendError(res, e.status, 'bad_request', e.message ?? 'Bad request');
  sendError(res, 500, 'internal_error', e.message ?? 'Internal error');
};
