/**
 * Determinism guard: every workflow history committed under test/histories must replay against
 * today's workflow code. A change that would break running workflows fails here; such a change
 * needs `patched()` (see docs/workflow-changes.md). Record new histories with
 * `BOBSYNC_RECORD_HISTORIES=1 npx jest <test>`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { codecDataConverter, codecFromEnv } from '../../src/codec/aes-gcm-codec';
import { testCodecEnv } from '../support/codec';
import type { RecordedHistory } from '../support/histories';
import { workflowBundle } from '../support/temporal';

const dir = join(__dirname, '../histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('committed workflow histories replay deterministically', () => {
  it('has histories to replay', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s', async (file) => {
    const recorded = JSON.parse(readFileSync(join(dir, file), 'utf8')) as RecordedHistory;
    await Worker.runReplayHistory(
      { workflowBundle: workflowBundle(), dataConverter: codecDataConverter(codecFromEnv(testCodecEnv)) },
      recorded.history,
      recorded.workflowId,
    );
  });
});
