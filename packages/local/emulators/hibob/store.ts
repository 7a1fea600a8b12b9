/**
 * In-memory employees with optional read-after-write lag: reads see each employee as it was
 * `lagMs` ago (contract §4.10), writes are visible to the admin API at once.
 * Stored records are never mutated in place; every change puts a new copy.
 *
 * With a lag, every change stays hidden from API readers until `lagMs` after it was made:
 * - an edit (fields, email, termination, rehire, lifecycle step) reads as the version before it;
 * - a newly created employee reads as absent (404 on read, missing from search and reports),
 *   the "null" of the contract, since there is no older version to serve;
 * - a deletion is seen at once: a deleted employee disappears from every read (contract §13);
 * - seeding is the starting state, not a change, and is visible at once.
 */
import type { EmulatorClock } from '../common/clock';
import type { HibobEmployeeRecord } from './types';

interface Version {
  at: number;
  /** undefined = the employee did not exist yet. */
  record: HibobEmployeeRecord | undefined;
}

export class EmployeeStore {
  private readonly current = new Map<string, HibobEmployeeRecord>();
  private readonly versions = new Map<string, Version[]>();

  constructor(
    private readonly clock: EmulatorClock,
    private lag = 0,
  ) {}

  get lagMs(): number {
    return this.lag;
  }

  set lagMs(ms: number) {
    if (!Number.isFinite(ms) || ms < 0) throw new Error('lag must be a non-negative number of milliseconds');
    this.lag = ms;
    if (ms === 0) this.versions.clear();
  }

  /** Stores the latest state; `lagged: false` makes it visible to readers at once (seeding). */
  put(record: HibobEmployeeRecord, { lagged = true }: { lagged?: boolean } = {}): void {
    const previous = this.current.get(record.id);
    this.current.set(record.id, record);
    if (this.lag === 0) return;
    if (!lagged) {
      this.versions.delete(record.id);
      return;
    }
    const now = this.clock.nowMs();
    // A record written before the lag was switched on counts as long visible; a new one as long absent.
    const list = this.versions.get(record.id) ?? [{ at: -Infinity, record: previous }];
    list.push({ at: now, record });
    // Keep the newest version that is already visible plus everything still hidden.
    const cutoff = now - this.lag;
    let firstKept = 0;
    for (let i = 0; i < list.length; i++) if (list[i]!.at <= cutoff) firstKept = i;
    this.versions.set(record.id, list.slice(firstKept));
  }

  delete(id: string): boolean {
    this.versions.delete(id);
    return this.current.delete(id);
  }

  clear(): void {
    this.current.clear();
    this.versions.clear();
  }

  has(id: string): boolean {
    return this.current.has(id);
  }

  /** The latest state (admin view). */
  get(id: string): HibobEmployeeRecord | undefined {
    return this.current.get(id);
  }

  all(): HibobEmployeeRecord[] {
    return [...this.current.values()];
  }

  get size(): number {
    return this.current.size;
  }

  /**
   * The state API readers see now: the newest version at least `lagMs` old (or the oldest one
   * kept, after the lag grew); undefined while the employee's creation is still hidden.
   */
  visible(id: string): HibobEmployeeRecord | undefined {
    const latest = this.current.get(id);
    if (!latest || this.lag === 0) return latest;
    const list = this.versions.get(id);
    if (!list?.length) return latest;
    const cutoff = this.clock.nowMs() - this.lag;
    let seen = list[0]!.record;
    for (const v of list) if (v.at <= cutoff) seen = v.record;
    return seen;
  }

  visibleAll(): HibobEmployeeRecord[] {
    const out: HibobEmployeeRecord[] = [];
    for (const id of this.current.keys()) {
      const rec = this.visible(id);
      if (rec) out.push(rec);
    }
    return out;
  }
}
