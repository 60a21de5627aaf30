import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PEOPLE, startHarness, type Harness } from '../support/harness.js';
import { findSubmit } from '../support/cards.js';

describe('card data never names anyone (issue 11, item 3)', () => {
  let h: Harness;
  beforeEach(async () => {
    // Presenters moderate in this meeting (MODERATOR_ROLES).
    h = await startHarness({ MODERATOR_ROLES: 'organizer,coorganizer,presenter' });
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
  });
  afterEach(async () => {
    await h.close();
  });

  const malloryParticipantId = () => {
    const call = h.graph.call(h.graph.callIds[0]!)!;
    return [...call.participants.values()].find(
      (p) => (p.info as { identity: { user?: { id: string } } }).identity.user?.id === PEOPLE.mallory.aadObjectId,
    )!.id;
  };

  it("a roster card's Submit with an edited name: the reply and the case name the person removed", async () => {
    await h.send(PEOPLE.olivia, '/participants', []);
    const submit = findSubmit(h.lastCard(), 'Yes, remove Mallory');
    await h.submit(PEOPLE.pete, { ...submit.data, name: 'Santa Claus' });
    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #2.');
    expect(h.cases()[1]).toMatchObject({ source: 'card', outcome: 'removed', target_name: 'Mallory' });
    expect(JSON.stringify(h.cases())).not.toContain('Santa');
  });

  it('a Submit forged without any card: the name comes from the roster', async () => {
    const callId = h.graph.callIds[0]!;
    const participantId = malloryParticipantId();
    await h.submit(PEOPLE.pete, { bouncer: 'kick', callId, participantId, name: 'Santa Claus' });
    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #2.');
    expect(h.cases()[1]).toMatchObject({ outcome: 'removed', target_name: 'Mallory' });

    // Again, now that Mallory has gone: nobody is named after the card's data.
    await h.submit(PEOPLE.pete, { bouncer: 'kick', callId, participantId, name: 'Santa Claus' });
    expect(h.lastReply()).not.toContain('Santa');
    expect(JSON.stringify(h.cases())).not.toContain('Santa');
  });
});
