import { afterEach, describe, expect, it } from 'vitest';
import { PEOPLE, startHarness, type Harness } from '../support/harness.js';

/** Issue 11, crash safety: honest answers when the store fails, duplicate deliveries, contention. */
describe('crash safety through the real server', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const deletes = () => h!.graph.requests.filter((r) => r.method === 'DELETE');

  it('item 7: a store error after a successful removal says the removal happened and recording it failed; /healthz says the store is failing', async () => {
    h = await startHarness();
    // Like a full disk for the audit log: completing a case fails, opening one still works.
    await h.writeDb(`CREATE TRIGGER fail_case_close BEFORE UPDATE ON cases BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END;`);

    expect(await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory])).toBe(200);

    expect(deletes()).toHaveLength(1);
    const reply = h.lastReply();
    expect(reply).toContain('Removed **Mallory** from the call');
    expect(reply).toMatch(/could not record/i);
    expect(reply).not.toMatch(/nothing was done|nobody was removed/i);
    // The close was tried more than once.
    expect(h.logs.filter((l) => l.includes('could not complete the case')).length).toBeGreaterThan(1);
    expect(h.cases()).toMatchObject([{ id: 1, status: 'pending' }]);

    const health = await fetch(`${h.bouncer.url}/healthz`);
    expect(health.status).toBe(503);

    // Once writes work again, so does /healthz.
    await h.writeDb('DROP TRIGGER fail_case_close');
    await h.send(PEOPLE.olivia, '/kick <at>Ann Attendee</at>', [PEOPLE.ann]);
    expect(h.lastReply()).toBe('Removed **Ann Attendee** from the call. Case #2.');
    expect((await fetch(`${h.bouncer.url}/healthz`)).status).toBe(200);
  });
});
