/**
 * The least a workflow can do with a signal: wake, note it, wait again. Used by
 * bench/temporal-floor.ts to measure what Temporal itself costs per event on this machine.
 */
import { condition, defineSignal, setHandler } from '@temporalio/workflow';

export const eventSignal = defineSignal<[unknown]>('event');

/** Waits for signals, with an idle timeout like the employee workflow's, and does nothing else. */
export async function awaitEvents(): Promise<void> {
  let unseen = 0;
  setHandler(eventSignal, () => {
    unseen++;
  });
  for (;;) {
    if (!(await condition(() => unseen > 0, '10 minutes'))) return;
    unseen = 0;
  }
}
