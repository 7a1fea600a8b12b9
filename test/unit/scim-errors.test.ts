import { ApiError } from '../../src/clients/http/errors';
import {
  ScimApiError,
  ScimConfigurationError,
  classifyScimError,
  isScimErrorBody,
  parseRetryAfter,
  parseScimErrorBody,
} from '../../src/clients/scim';

const scimError = (status: number, scimType?: string, detail = 'nope') =>
  JSON.stringify({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
    status: String(status),
    ...(scimType && { scimType }),
    detail,
  });

describe('SCIM error classification', () => {
  it.each([
    [0, undefined, 'transient', true],
    [408, undefined, 'transient', true],
    [429, undefined, 'transient', true],
    [500, undefined, 'transient', true],
    [502, undefined, 'transient', true],
    [503, undefined, 'transient', true],
    [400, 'invalidValue', 'invalid', false],
    [400, 'invalidFilter', 'invalid', false],
    [400, 'invalidSyntax', 'invalid', false],
    [400, 'invalidPath', 'invalid', false],
    [400, 'noTarget', 'invalid', false],
    [400, 'tooMany', 'invalid', false],
    [400, undefined, 'invalid', false],
    [400, 'mutability', 'configuration', false],
    [401, undefined, 'unauthorized', false],
    [403, undefined, 'configuration', false],
    [404, undefined, 'notFound', false],
    [409, 'uniqueness', 'conflict', false],
    [412, undefined, 'preconditionFailed', false],
    [413, undefined, 'invalid', false],
  ])('%i %s → %s (retryable: %s)', (status, scimType, kind, retryable) => {
    expect(classifyScimError(status, scimType)).toEqual({ kind, retryable });
  });

  it('is an ApiError with scimType as the code, so activities classify it like any vendor error', () => {
    const err = new ScimApiError({
      service: 'skillcast',
      status: 400,
      scimType: 'invalidValue',
      detail: 'Email contains an apostrophe',
      operation: 'POST /Users',
    });
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      service: 'skillcast',
      status: 400,
      code: 'invalidValue',
      retryable: false,
      kind: 'invalid',
      detail: 'Email contains an apostrophe',
    });
    expect(err.message).toBe('skillcast answered 400 invalidValue: POST /Users: Email contains an apostrophe');
    const plain = new ScimApiError({
      service: 'skillcast',
      status: 503,
      detail: 'down',
      operation: 'GET /Users',
      retryAfterSeconds: 7,
    });
    expect(plain).toMatchObject({ code: 'http503', retryable: true, retryAfterSeconds: 7 });
  });

  it('raises configuration problems as non-retryable errors sent nowhere', () => {
    const err = new ScimConfigurationError(
      'skillcast',
      'discover',
      'the server does not declare the extension urn:x',
      'extensionNotDeclared',
    );
    expect(err).toBeInstanceOf(ScimApiError);
    expect(err).toMatchObject({ status: 0, code: 'extensionNotDeclared', kind: 'configuration', retryable: false });
    expect(err.message).toBe('skillcast SCIM configuration: discover: the server does not declare the extension urn:x');
  });
});

describe('SCIM error bodies', () => {
  it('reads scimType and detail from a SCIM Error message', () => {
    expect(parseScimErrorBody(409, scimError(409, 'uniqueness', 'userName already exists'))).toEqual({
      scimType: 'uniqueness',
      detail: 'userName already exists',
    });
    expect(parseScimErrorBody(404, scimError(404))).toEqual({ detail: 'nope' });
    // status as a number, as some servers send it
    expect(
      parseScimErrorBody(
        400,
        JSON.stringify({
          schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
          status: 400,
          scimType: 'invalidFilter',
          detail: 'bad',
        }),
      ),
    ).toEqual({
      scimType: 'invalidFilter',
      detail: 'bad',
    });
  });

  it('reads other JSON shapes, text, HTML and empty bodies without throwing', () => {
    expect(parseScimErrorBody(400, JSON.stringify({ message: 'Validation failed' }))).toEqual({
      detail: 'Validation failed',
    });
    expect(parseScimErrorBody(401, JSON.stringify({ error: 'invalid_token', error_description: 'expired' }))).toEqual({
      detail: 'expired',
    });
    expect(parseScimErrorBody(500, JSON.stringify({ error: { code: 'x' } }))).toEqual({ detail: '{"code":"x"}' });
    expect(parseScimErrorBody(500, '"boom"')).toEqual({ detail: 'boom' });
    expect(parseScimErrorBody(502, '<html>\n  <body>Bad   gateway</body>\n</html>')).toEqual({
      detail: '<html> <body>Bad gateway</body> </html>',
    });
    expect(parseScimErrorBody(503, '')).toEqual({ detail: 'HTTP 503' });
    expect(parseScimErrorBody(500, '[1,2]')).toEqual({ detail: '[1,2]' });
    expect(parseScimErrorBody(500, 'x'.repeat(1000)).detail).toHaveLength(300);
  });

  it('recognises a SCIM Error message by its schema URN, in any case', () => {
    expect(isScimErrorBody({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'] })).toBe(true);
    expect(isScimErrorBody({ schemas: ['URN:IETF:PARAMS:SCIM:API:MESSAGES:2.0:ERROR'] })).toBe(true);
    expect(isScimErrorBody({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'] })).toBe(false);
    expect(isScimErrorBody(undefined)).toBe(false);
  });
});

describe('Retry-After', () => {
  it('reads delay-seconds and HTTP dates', () => {
    const now = Date.parse('2026-03-02T10:00:00Z');
    expect(parseRetryAfter('1', now)).toBe(1);
    expect(parseRetryAfter(' 120 ', now)).toBe(120);
    expect(parseRetryAfter('Mon, 02 Mar 2026 10:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Mon, 02 Mar 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});
