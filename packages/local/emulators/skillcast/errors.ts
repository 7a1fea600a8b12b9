import type { Response } from 'express';

export const ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SCIM_MEDIA_TYPE = 'application/scim+json';

/** The `scimType` values of RFC 7644 §3.12 that this emulator produces. */
export type ScimErrorType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

export interface ScimErrorBody {
  schemas: [typeof ERROR_URN];
  /** A string, as RFC 7644 §3.12 defines it, not a number. */
  status: string;
  scimType?: ScimErrorType;
  detail: string;
}

/** A failure that maps one-to-one onto a SCIM error response. */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly scimType: ScimErrorType | undefined,
    detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ScimError';
  }

  get body(): ScimErrorBody {
    return scimErrorBody(this.status, this.message, this.scimType);
  }
}

export function scimErrorBody(status: number, detail: string, scimType?: ScimErrorType): ScimErrorBody {
  return scimType
    ? { schemas: [ERROR_URN], status: String(status), scimType, detail }
    : { schemas: [ERROR_URN], status: String(status), detail };
}

export const badRequest = (scimType: ScimErrorType, detail: string) => new ScimError(400, scimType, detail);

export function sendScim(res: Response, status: number, body: unknown): void {
  res.status(status).type(SCIM_MEDIA_TYPE).json(body);
}

export function sendScimError(res: Response, error: ScimError): void {
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  sendScim(res, error.status, error.body);
}
