/**
 * `bobsync approve|reject <workflowId>`: answers a full sync that a safeguard stopped before
 * deactivating people. An update, not a signal, so the operator learns at once whether the
 * decision landed and what the run will do with it.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { SafeguardState } from '../reports/types';
import { approveUpdate, rejectUpdate } from '../workflows/full-sync-api';
import { operatorName, println, withClient, type CommandIo } from './io';

export type ApprovalDecision = 'approve' | 'reject';

export async function decideApproval(io: CommandIo, workflowId: string, decision: ApprovalDecision, opts: { by?: string } = {}): Promise<SafeguardState> {
  const by = opts.by ?? operatorName(io.env);
  const state = await withClient(io, async (client) => {
    try {
      return await client.workflow.getHandle(workflowId).executeUpdate(decision === 'approve' ? approveUpdate : rejectUpdate, { args: [{ by }] });
    } catch (err) {
      throw new Error(`cannot ${decision} ${workflowId}: ${whyRefused(err)}`);
    }
  });
  const out = io.out;
  if (state.decision === 'approved') println(out, `Approved by ${state.decidedBy ?? by}: the held deactivations of ${workflowId} are being applied.`);
  else if (state.decision === 'rejected') println(out, `Rejected by ${state.decidedBy ?? by}: the held deactivations of ${workflowId} are left undone; the report lists them as held.`);
  else println(out, `Recorded for ${workflowId}: ${state.decision ?? 'no decision yet'}.`);
  println(out, `  safeguard  ${state.tripped ? (state.reason ?? 'tripped') : 'not tripped'}`);
  println(out, `  decision   ${state.decision ?? '-'}${state.decidedBy ? ` by ${state.decidedBy}` : ''}`);
  return state;
}

function whyRefused(err: unknown): string {
  // The workflow's validator rejects a decision when nothing waits for one; its message says why.
  if (err instanceof WorkflowUpdateFailedError) return err.cause?.message ?? err.message;
  if (err instanceof WorkflowNotFoundError) {
    return /completed|closed/i.test(err.message) ? `it has already finished (${err.message})` : `no such workflow (${err.message}); \`bobsync sync\` prints the id of each run`;
  }
  return (err as Error).message;
}
