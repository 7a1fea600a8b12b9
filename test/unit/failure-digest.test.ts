import { renderFailureDigest } from '../../src/notifications/digest';

describe('failure digest email', () => {
  const failure = (employeeId: string, code: string, reason: string, at = '2026-03-01T10:00:00.000Z') => ({
    employeeId,
    code,
    reason,
    at,
  });

  it('lists each employee and problem once, latest report first-class, with counts by problem', () => {
    const mail = renderFailureDigest('acme-360', [
      failure('1', 'invalidEmail', 'email "a b@x.example" contains a space'),
      failure('1', 'invalidEmail', 'email "a b@x.example" contains a space', '2026-03-01T10:00:05.000Z'),
      failure('2', 'conflict', 'learner already linked to HiBob 3'),
    ]);
    expect(mail.subject).toBe('[bobsync] acme-360: 2 employees could not be synced');
    expect(mail.text).toContain('(1 × invalidEmail, 1 × conflict)');
    expect(mail.text.match(/HiBob employee 1 /g)).toHaveLength(1);
    expect(mail.text).toContain('2026-03-01T10:00:05.000Z');
  });

  it('escapes record values in the HTML body', () => {
    const mail = renderFailureDigest('acme-360', [failure('1', 'invalidEmail', 'email "<script>x</script>@x" is odd')]);
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('&#60;script&#62;');
    expect(mail.subject).toBe('[bobsync] acme-360: 1 employee could not be synced');
  });
});
