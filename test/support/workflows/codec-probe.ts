/**
 * Minimal workflows that carry personal data through what Temporal records: workflow input,
 * activity input and result, the workflow result, and failure messages. Used to prove that the
 * payload codec keeps all of it out of the history in plain text.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';

export interface CodecProbeActivities {
  normaliseEmail(email: string): Promise<string>;
  /** Fails, naming the address, as a vendor refusing an email does. */
  refuseEmail(email: string): Promise<void>;
}

export interface CodecProbeInput {
  employeeId: string;
  email: string;
}

export interface CodecProbeResult {
  employeeId: string;
  email: string;
  greeting: string;
}

const { normaliseEmail, refuseEmail } = proxyActivities<CodecProbeActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 1 },
});

export async function codecProbe(input: CodecProbeInput): Promise<CodecProbeResult> {
  const email = await normaliseEmail(input.email);
  return { employeeId: input.employeeId, email, greeting: `Welcome, ${email}` };
}

/** Fails with a message naming the address, after an activity failed with one. */
export async function codecProbeRefusal(input: CodecProbeInput): Promise<void> {
  try {
    await refuseEmail(input.email);
  } catch (err) {
    const reason = err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
    throw ApplicationFailure.nonRetryable(`${input.email} was not linked: ${reason}`, 'Refused');
  }
}
