import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MEETING_CHAT_ID, PEOPLE, startHarness, type Harness } from '../support/harness.js';

// Issue 12, item 5: one join per call. Concurrent first kicks in an unbound meeting chat made one
// bot call leg each (62 for 100), never left, and only the last one bound.
describe('concurrent first kicks in an unbound meeting chat', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('make one join, and every kick acts on that call', async () => {
    const KICKS = 30;
    const statuses = await Promise.all(Array.from({ length: KICKS }, () => h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory])));
    await h.graph.settle();

    expect(statuses).toEqual(statuses.map(() => 200));
    const joins = h.graph.requests.filter((r) => r.method === 'POST' && r.path === '/communications/calls');
    expect(joins).toHaveLength(1);
    expect(h.graph.callIds).toHaveLength(1);
    const [callId] = h.graph.callIds;
    expect(await h.bouncer.store.bindings.get(MEETING_CHAT_ID)).toMatchObject({ callId });
    // Mallory was removed from that call; the kicks that came after found her gone.
    const cases = h.cases();
    expect(cases).toHaveLength(KICKS);
    expect(cases.filter((c) => c.outcome === 'removed').length).toBeGreaterThanOrEqual(1);
    for (const c of cases) {
      expect(['removed', 'already_gone', 'target_not_found']).toContain(c.outcome);
      expect([callId, null]).toContain(c.call_id);
    }
    const left = [...h.graph.call(callId!)!.participants.values()].map((p) => (p.info as { identity: { user?: { id: string } } }).identity.user?.id);
    expect(left).not.toContain(PEOPLE.mallory.aadObjectId);
  });
});
