import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

export interface RecordedHistory {
  workflowId: string;
  history: unknown;
}

/**
 * With BOBSYNC_RECORD_HISTORIES=1, saves a finished workflow's history under test/histories for
 * the replay test. Histories are recorded with the fixed test codec key, so they stay encrypted.
 */
export async function recordHistoryIfAsked(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.BOBSYNC_RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  // The workflow id is kept beside the history: child workflow ids derive from it, so replay needs it.
  const recorded: RecordedHistory = { workflowId: handle.workflowId, history: JSON.parse(historyToJSON(history)) };
  writeFileSync(join(__dirname, '../histories', `${name}.json`), JSON.stringify(recorded, null, 1));
}
