import { normaliseError, parseNextLink, roleToPath } from '../../src/clients/learning360/client';

describe('360Learning client helpers', () => {
  it('reads the next page from a Link header and nothing else', () => {
    expect(parseNextLink('<https://app.360learning.com/api/v2/users?next=abc>; rel="next"')).toBe(
      'https://app.360learning.com/api/v2/users?next=abc',
    );
    expect(parseNextLink('<https://x/prev>; rel="prev", <https://x/next?n=1>; rel="next"')).toBe('https://x/next?n=1');
    expect(parseNextLink(null)).toBeUndefined();
    expect(parseNextLink('<https://x/prev>; rel="prev"')).toBeUndefined();
  });

  it('normalises both error shapes into code and message', () => {
    expect(normaliseError(429, { error: 'tooManyRequests' })).toEqual({
      code: 'tooManyRequests',
      message: 'tooManyRequests',
    });
    expect(normaliseError(400, { error: { code: 'mailAlreadyUsed', message: 'The mail is already used' } })).toEqual({
      code: 'mailAlreadyUsed',
      message: 'The mail is already used',
    });
    expect(normaliseError(502, undefined)).toEqual({ code: 'http502', message: 'HTTP 502' });
  });

  it('uses hyphenated role names in paths', () => {
    expect(roleToPath('userAdmin')).toBe('user-admin');
    expect(roleToPath('learner')).toBe('learner');
  });
});
