import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PEOPLE, startHarness, type Harness } from '../support/harness.js';

// Issue 12, item 4: bulk removal. In chat, `/kick @a @b … [reason]` removes each person through
// the same runner and policy, with a case each and one reply.

function helpers(get: () => Harness) {
  const participantOf = (userId: string) => {
    const [callId] = get().graph.callIds;
    return [...get().graph.call(callId!)!.participants.values()].find((p) => (p.info as { identity: { user?: { id: string } } }).identity.user?.id === userId)?.id;
  };
  const inCall = (userId: string) => participantOf(userId) !== undefined;
  const removals = () => get().graph.requests.filter((r) => r.method === 'DELETE' && /\/participants\/[^/]+$/.test(r.path));
  return { inCall, removals };
}

describe('bulk /kick in chat', () => {
  let h: Harness;
  const { inCall, removals } = helpers(() => h);
  beforeEach(async () => {
    // Presenters moderate in this meeting (MODERATOR_ROLES); Ann is an attendee.
    h = await startHarness({ MODERATOR_ROLES: 'organizer,coorganizer,presenter' });
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
  });
  afterEach(async () => {
    await h.close();
  });

  it('removes each person mentioned, with a case each, and answers once listing every result', async () => {
    const rolesLookedUp = () => h.connector.calls.filter((c) => /\/v1\/meetings\/[^/]+\/participants\//.test(c.path)).length;
    const before = rolesLookedUp();
    const activitiesBefore = h.connector.activities.length;
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at> <at>Ann Attendee</at> raid', [PEOPLE.mallory, PEOPLE.ann]);
    expect(h.lastReply()).toBe(
      ['2 people named, 2 removed:', '- Removed **Mallory** from the call. Case #2.', '- Removed **Ann Attendee** from the call. Case #3.'].join('\n'),
    );
    const card = h.lastCard();
    expect(card.body).toEqual([
      expect.objectContaining({ type: 'TextBlock', text: '2 people named, 2 removed:', weight: 'Bolder' }),
      expect.objectContaining({ type: 'TextBlock', text: 'Removed **Mallory** from the call. Case #2.', color: 'Good' }),
      expect.objectContaining({ type: 'TextBlock', text: 'Removed **Ann Attendee** from the call. Case #3.', color: 'Good' }),
    ]);
    // One message in the chat for the whole command.
    expect(h.connector.activities.length - activitiesBefore).toBe(1);
    const kicks = h.cases().filter((c) => c.action === 'kick');
    expect(kicks).toEqual([
      expect.objectContaining({ id: 2, source: 'chat', target_name: 'Mallory', reason: 'raid', outcome: 'removed', status: 'completed' }),
      expect.objectContaining({ id: 3, source: 'chat', target_name: 'Ann Attendee', reason: 'raid', outcome: 'removed', status: 'completed' }),
    ]);
    expect(inCall(PEOPLE.mallory.aadObjectId)).toBe(false);
    expect(inCall(PEOPLE.ann.aadObjectId)).toBe(false);
    expect(removals()).toHaveLength(2);
    // The moderator's role was looked up once for the whole command.
    expect(rolesLookedUp() - before).toBe(1);
  });

  it('asks the policy about each person: a presenter removes Mallory but not the organizer', async () => {
    await h.send(PEOPLE.pete, '/kick <at>Olivia Organizer</at> <at>Mallory</at> <at>Pete Presenter</at>', [PEOPLE.olivia, PEOPLE.mallory, PEOPLE.pete]);
    // The first runs alone; the others at once, so their case numbers come in either order.
    const caseOf = (name: string) => h.cases().find((c) => c.target_name === name)!;
    expect(h.lastReply()).toBe(
      [
        '3 people named, 1 removed:',
        '- Only Bouncer admins can remove the meeting organizer. Case #2.',
        `- Removed **Mallory** from the call. Case #${String(caseOf('Mallory').id)}.`,
        `- You can't remove yourself; just leave the call. Case #${String(caseOf('Pete Presenter').id)}.`,
      ].join('\n'),
    );
    expect(caseOf('Olivia Organizer')).toMatchObject({ id: 2, outcome: 'denied' });
    expect(caseOf('Mallory')).toMatchObject({ outcome: 'removed' });
    expect(caseOf('Pete Presenter')).toMatchObject({ outcome: 'denied' });
    expect(inCall(PEOPLE.olivia.aadObjectId)).toBe(true);
    expect(removals()).toHaveLength(1);
  });

  it('an attendee is refused for everyone named, each refusal a case', async () => {
    await h.send(PEOPLE.ann, '/kick <at>Mallory</at> <at>Pete Presenter</at>', [PEOPLE.mallory, PEOPLE.pete]);
    expect(h.lastReply()).toBe(
      [
        '2 people named, 0 removed:',
        '- Only the meeting organizer, its moderators and Bouncer admins can do that. Case #2.',
        '- Only the meeting organizer, its moderators and Bouncer admins can do that. Case #3.',
      ].join('\n'),
    );
    expect(removals()).toHaveLength(0);
  });

  it('a person mentioned in the reason is not removed', async () => {
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at> for insulting <at>Ann Attendee</at>', [PEOPLE.mallory, PEOPLE.ann]);
    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #2.');
    expect(h.cases().at(-1)).toMatchObject({ reason: 'for insulting' });
    expect(inCall(PEOPLE.ann.aadObjectId)).toBe(true);
  });
});
