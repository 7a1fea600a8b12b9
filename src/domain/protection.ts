import type { CurrentLearner } from './types';

/** Protected learners (by LMS id or email, case-insensitive) are never changed or deactivated. */
export function isProtected(
  learner: Pick<CurrentLearner, 'learnerId' | 'fields'>,
  protectedUsers: readonly string[],
): boolean {
  if (protectedUsers.length === 0) return false;
  const wanted = new Set(protectedUsers.map((p) => p.trim().toLowerCase()));
  return (
    wanted.has(learner.learnerId.toLowerCase()) ||
    (learner.fields.mail !== undefined && wanted.has(learner.fields.mail.toLowerCase()))
  );
}
