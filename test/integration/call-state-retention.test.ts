import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MEETING_CHAT_ID, PEOPLE, startHarness, type Harness } from '../support/harness.js';
import { until } from '../support/until.js';

// Issue 12: call_states (one row per call a backend told Bouncer about) no longer grows for as long
// as Bouncer runs. The reconciler's round forgets, at most hourly, the states of calls that ended a
// day ago or that nothing updated for a week, and never the state of a call a chat is bound to.
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('call states are pruned on the periodic upkeep', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  const callStates = () => {
    const db = new Database(h.dbFile, { readonly: true });
    try {
      const rows = db.prepare('SELECT call_id, state FROM call_states ORDER BY call_id').all() as Array<{ call_id: string; state: string }>;
      return Object.fromEntries(rows.map((r) => [r.call_id, r.state]));
    } finally {
      db.close();
    }
  };

  it("forgets ended and long-idle calls' states at start and then hourly, keeping the bound call's however old", async () => {
    h = await startHarness();
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
    const binding = (await h.bouncer.store.bindings.get(MEETING_CHAT_ID))!;
    expect(binding.state).toBe('established');
    expect(callStates()).toEqual({ [binding.callId]: 'established' });

    // Calls Bouncer was told about over the last weeks, as seen from a second instance's clock 30 days on.
    const later = Date.now() + 30 * DAY;
    let offset = 30 * DAY;
    const ago = (ms: number) => new Date(later - ms).toISOString();
    const { bindings } = h.bouncer.store;
    await bindings.setCallState('ended-2-days-ago', 'terminated', ago(2 * DAY));
    await bindings.setCallState('ended-an-hour-ago', 'terminated', ago(HOUR));
    await bindings.setCallState('idle-8-days', 'established', ago(8 * DAY));
    await bindings.setCallState('quiet-6-days', 'established', ago(6 * DAY));

    await h.startInstance({}, { clock: { now: () => new Date(Date.now() + offset) }, reconcileEveryMs: 100 });
    await until(() => !('ended-2-days-ago' in callStates()));

    // The bound, live call's state is 30 days old by that clock, and kept.
    expect(callStates()).toEqual({ [binding.callId]: 'established', 'ended-an-hour-ago': 'terminated', 'quiet-6-days': 'established' });

    // Within the hour the rounds go on (every 100 ms here) without pruning; an hour on, they prune again.
    await bindings.setCallState('ended-long-ago', 'terminated', ago(3 * DAY));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(callStates()).toHaveProperty('ended-long-ago');
    offset += HOUR + 1000;
    await until(() => !('ended-long-ago' in callStates()));
    expect(callStates()).toEqual({ [binding.callId]: 'established', 'ended-an-hour-ago': 'terminated', 'quiet-6-days': 'established' });
    expect(h.logs.some((l) => l.includes('forgot the states of ended or long-idle calls'))).toBe(true);
  });
});
