import { randomBytes } from 'node:crypto';
import type { EmulatorClock } from '../common/clock';

export const OBJECT_ID = /^[a-fA-F0-9]{24}$/;

/**
 * 24-hex ObjectIds: 4 bytes of seconds, then a counter. They only ever increase, even when the
 * emulator clock is moved back, so sorting by id gives creation order and cursors can say
 * "after this id".
 */
export class ObjectIdFactory {
  private lastSeconds = 0;
  private counter: bigint;

  constructor(private readonly clock: EmulatorClock) {
    // A random start keeps ids from two emulator instances apart.
    this.counter = BigInt(`0x${randomBytes(6).toString('hex')}`);
  }

  next(): string {
    const seconds = Math.max(this.lastSeconds, Math.floor(this.clock.nowMs() / 1000));
    this.lastSeconds = seconds;
    this.counter += 1n;
    const tail = (this.counter & 0xffffffffffffffffn).toString(16).padStart(16, '0');
    return seconds.toString(16).padStart(8, '0').slice(-8) + tail;
  }
}
