import { RecentWorkflows } from '../../src/api/recent-workflows';

describe('RecentWorkflows: which employee workflows likely still run', () => {
  let now = 0;
  const clock = () => now;

  beforeEach(() => {
    now = 1_000_000;
  });

  it('knows nothing of a workflow it never delivered to', () => {
    expect(new RecentWorkflows(60_000, 10, clock).likelyRunning('wf-1')).toBe(false);
  });

  it('remembers a delivery for the time to live, not longer', () => {
    const recent = new RecentWorkflows(60_000, 10, clock);
    recent.delivered('wf-1');
    now += 59_999;
    expect(recent.likelyRunning('wf-1')).toBe(true);
    now += 1;
    expect(recent.likelyRunning('wf-1')).toBe(false);
    expect(recent.size).toBe(0);
  });

  it('counts the time to live from the latest delivery', () => {
    const recent = new RecentWorkflows(60_000, 10, clock);
    recent.delivered('wf-1');
    now += 50_000;
    recent.delivered('wf-1');
    now += 50_000;
    expect(recent.likelyRunning('wf-1')).toBe(true);
  });

  it('forgets a workflow found ended', () => {
    const recent = new RecentWorkflows(60_000, 10, clock);
    recent.delivered('wf-1');
    recent.forget('wf-1');
    expect(recent.likelyRunning('wf-1')).toBe(false);
  });

  it('drops the least recently delivered first when full', () => {
    const recent = new RecentWorkflows(60_000, 3, clock);
    for (const id of ['a', 'b', 'c']) recent.delivered(id);
    recent.delivered('a');
    recent.delivered('d');
    expect(recent.size).toBe(3);
    expect(recent.likelyRunning('b')).toBe(false);
    expect(['a', 'c', 'd'].map((id) => recent.likelyRunning(id))).toEqual([true, true, true]);
  });
});
