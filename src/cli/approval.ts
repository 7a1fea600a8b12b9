/**
 * `bobsync approve|reject <workflowId>`: answers a full sync waiting for approval, of its whole
 * plan (approval modes always and firstRun) or of the deactivations a safeguard held. An update,
 * not a signal, so the operator learns at once whether the decision landed and what the run will
 * do with it.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { approveUpdate, rejectUpdate, type ApprovalAnswer } from '../workflows/full-sync-api';
import { operatorName, println, withClient, type CommandIo } from './io';

export type ApprovalDecision = 'approve' | 'reject';

export async function decideApproval(
  io: CommandIo,
  workflowId: string,
  decision: ApprovalDecision,
  opts: { by?: string } = {},
): Promise<ApprovalAnswer> {
  const by = opts.by ?? operatorName(io.env);
  const state = await withClient(io, async (client) => {
    try {
      return await client.workflow
        .getHandle(workflowId)
        .executeUpdate(decision === 'approve' ? approveUpdate : rejectUpdate, { args: [{ by }] });
    } catch (err) {
      throw new Error(`cannot ${decision} ${workflowId}: ${whyRefused(err)}`);
    }
  });
  const out = io.out;
  const plan = state.approval?.scope === 'plan' ? state.approval : undefined;
  if (plan) {
    const who = plan.decidedBy ?? by;
    if (plan.decision === 'approved')
      println(
        out,
        `Approved by ${who}: the plan of ${workflowId} is being applied as previewed; employees HiBob changed since the preview are left for the next run.`,
      );
    else if (plan.decision === 'rejected')
      println(out, `Rejected by ${who}: nothing in the plan of ${workflowId} is applied; the report says so.`);
    else println(out, `Recorded for ${workflowId}: ${plan.decision ?? 'no decision yet'}.`);
    println(out, `  approval   whole plan (${plan.reason})`);
    println(out, `  decision   ${plan.decision ?? '-'}${plan.decidedBy ? ` by ${plan.decidedBy}` : ''}`);
    if (state.tripped)
      println(out, `  safeguard  ${state.reason ?? 'tripped'} (its held deactivations are part of the plan)`);
    return state;
  }
  if (state.decision === 'approved')
    println(out, `Approved by ${state.decidedBy ?? by}: the held deactivations of ${workflowId} are being applied.`);
  else if (state.decision === 'rejected')
    println(
      out,
      `Rejected by ${state.decidedBy ?? by}: the held deactivations of ${workflowId} are left undone; the report lists them as held.`,
    );
  else println(out, `Recorded for ${workflowId}: ${state.decision ?? 'no decision yet'}.`);
  println(out, `  safeguard  ${state.tripped ? (state.reason ?? 'tripped') : 'not tripped'}`);
  println(out, `  decision   ${state.decision ?? '-'}${state.decidedBy ? ` by ${state.decidedBy}` : ''}`);
  return state;
}

function whyRefused(err: unknown): string {
  // The workflow's validator rejects a decision when nothing waits for one; its message says why.
  if (err instanceof WorkflowUpdateFailedError) return err.cause?.message ?? err.message;
  if (err instanceof WorkflowNotFoundError) {
    return /completed|closed/i.test(err.message)
      ? `it has already finished (${err.message})`
      : `no such workflow (${err.message}); \`bobsync sync\` prints the id of each run`;
  }
  return (err as Error).message;
}
