/**
 * A minimal workflow that carries personal data through the payloads Temporal records:
 * workflow input, activity input and result, and the workflow result. Used to prove that
 * the payload codec keeps all of it out of the history in plain text.
 */
import { proxyActivities } from '@temporalio/workflow';

export interface CodecProbeActivities {
  normaliseEmail(email: string): Promise<string>;
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

const { normaliseEmail } = proxyActivities<CodecProbeActivities>({ startToCloseTimeout: '10 seconds' });

export async function codecProbe(input: CodecProbeInput): Promise<CodecProbeResult> {
  const email = await normaliseEmail(input.email);
  return { employeeId: input.employeeId, email, greeting: `Welcome, ${email}` };
}
