import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PEOPLE, startHarness, type Harness } from '../support/harness.js';
import { findSubmit } from '../support/cards.js';

// Issue 13, item 5 (second bullet): the roster card's Mute and Ban buttons, each behind a
// confirmation (an Action.ShowCard: Ban's asks for an optional reason and a length), through the
// same commands, policy and audit as /mute and /ban. Only ids are read back from a card: names come
// from the roster this process showed. Graph's requests are checked against its OpenAPI document.

type Json = Record<string, unknown>;

/** The buttons of a person's row on the roster card, by title: the Action.ShowCard and the card it opens. */
function rowButtons(card: Json, name: string): Record<string, { type: string; data?: unknown; card: { body: Json[]; actions: Json[] } }> {
  const rows = (card.body as Json[]).filter((i) => i.type === 'Container');
  const row = rows.find((r) => JSON.stringify(r.items).includes(`"text":"${name}"`));
  if (!row) throw new Error(`no row for ${name}`);
  const actions = ((row.items as Json[])[1]!.actions as Json[]).map((a) => [a.title, a]);
  return Object.fromEntries(actions) as ReturnType<typeof rowButtons>;
}

describe('Mute and Ban buttons on the roster card, through the real server', () => {
  let h: Harness;
  beforeEach(async () => {
    // Presenters moderate in this meeting (MODERATOR_ROLES), so that a presenter's forged card can be tried.
    h = await startHarness({ MODERATOR_ROLES: 'organizer,coorganizer,presenter' });
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
    await h.send(PEOPLE.olivia, '/participants', []);
  });
  afterEach(async () => {
    await h.graph.settle();
    // Every Graph request (the mute, the removals) fits Microsoft's own OpenAPI document.
    expect(h.graph.violations).toEqual([]);
    await h.close();
  });

  const callId = () => h.graph.callIds[0]!;
  const participantOf = (userId: string) =>
    [...h.graph.call(callId())!.participants.values()].find((p) => (p.info as { identity: { user?: { id: string } } }).identity.user?.id === userId);
  const malloryId = () => participantOf(PEOPLE.mallory.aadObjectId)!.id;
  const graphMutes = () => h.graph.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/mute'));
  const deletes = () => h.graph.requests.filter((r) => r.method === 'DELETE' && /\/participants\/[^/]+$/.test(r.path));
  const activeBans = () => h.bouncer.store.bans.listActive([h.cases()[0]!.conversation_id as string, '*'], new Date().toISOString(), 10);

  it('each person has Remove, Mute and Ban, each only opening its confirmation; Ban asks for an optional reason and a length', () => {
    const buttons = rowButtons(h.lastCard(), 'Mallory');
    expect(Object.keys(buttons)).toEqual(['Remove', 'Mute', 'Ban']);
    for (const b of Object.values(buttons)) {
      // Pressing the button itself sends nothing: it shows the confirmation.
      expect(b.type).toBe('Action.ShowCard');
      expect(b.data).toBeUndefined();
    }
    expect(buttons.Mute!.card.body[0]).toMatchObject({ text: 'Mute Mallory for everyone in the call?' });
    expect(buttons.Mute!.card.actions).toEqual([expect.objectContaining({ type: 'Action.Submit', title: 'Yes, mute Mallory' })]);
    const ban = buttons.Ban!.card;
    expect(ban.body[0]).toMatchObject({ text: 'Ban Mallory from this meeting?' });
    const inputs = ban.body.filter((i) => String(i.type).startsWith('Input.'));
    expect(inputs.map((i) => [i.type, i.label])).toEqual([
      ['Input.Text', 'Reason (optional)'],
      ['Input.ChoiceSet', 'For how long'],
    ]);
    expect((inputs[1]!.choices as Json[]).map((c) => c.value)).toEqual(['', '30m', '2h', '1d', '7d']);
    expect(ban.actions).toEqual([expect.objectContaining({ type: 'Action.Submit', title: 'Yes, ban Mallory', style: 'destructive' })]);
    // Input ids are unique across the card (one set per person).
    const all = JSON.stringify(h.lastCard()).match(/"id":"ban-[a-z]+-\d+"/g)!;
    expect(new Set(all).size).toBe(all.length);
  });

  it("confirming Mute mutes through Graph's participant mute, with the clicker as actor, audited as a card case", async () => {
    const submit = findSubmit(h.lastCard(), 'Yes, mute Mallory');
    await h.submit(PEOPLE.olivia, submit.data);
    expect(h.lastReply()).toBe('Muted **Mallory** for everyone in the call. Case #2.');
    expect(graphMutes().map((r) => r.path)).toEqual([`/communications/calls/${callId()}/participants/${malloryId()}/mute`]);
    expect(participantOf(PEOPLE.mallory.aadObjectId)!.isMuted).toBe(true);
    expect(h.cases()[1]).toMatchObject({ source: 'card', action: 'mute', outcome: 'muted', actor_user_id: PEOPLE.olivia.aadObjectId, target_name: 'Mallory' });
  });

  it('confirming Ban with a reason and a length removes them and bans them for that long; a rejoin is undone', async () => {
    const submit = findSubmit(h.lastCard(), 'Yes, ban Mallory');
    const row = (submit.data as { row: number }).row;
    // Teams posts the inputs beside the button's data, under their ids.
    await h.submit(PEOPLE.olivia, { ...submit.data, [`ban-reason-${row}`]: '  raiding   the chat ', [`ban-for-${row}`]: '2h' });
    expect(h.lastReply()).toMatch(/^Removed \*\*Mallory\*\* from the call and banned them from this chat's calls until \d{4}-\d\d-\d\d \d\d:\d\d UTC\. Case #2\.$/);
    expect(h.cases()[1]).toMatchObject({ source: 'card', action: 'ban', outcome: 'banned', reason: 'raiding the chat', actor_user_id: PEOPLE.olivia.aadObjectId, target_name: 'Mallory' });
    const [ban] = await activeBans();
    expect(ban).toMatchObject({ caseId: 2, identities: [{ kind: 'user', value: PEOPLE.mallory.aadObjectId }], reason: 'raiding the chat', createdBy: PEOPLE.olivia.aadObjectId });
    expect(Date.parse(ban!.expiresAt!) - Date.parse(ban!.createdAt)).toBe(2 * 3600_000);
    expect(participantOf(PEOPLE.mallory.aadObjectId)).toBeUndefined();

    const rejoined = await h.graph.addPerson(callId(), { userId: PEOPLE.mallory.aadObjectId, displayName: 'Mallory' });
    expect(h.graph.call(callId())!.participants.has(rejoined)).toBe(false);
  });

  it('confirming Ban with nothing filled in bans until unbanned, with a plain reason', async () => {
    await h.submit(PEOPLE.olivia, findSubmit(h.lastCard(), 'Yes, ban Mallory').data);
    expect(h.lastReply()).toBe("Removed **Mallory** from the call and banned them from this chat's calls until `/unban`. Case #2.");
    expect((await activeBans())[0]).toMatchObject({ reason: 'banned from the roster card', expiresAt: undefined });
  });

  it('an unconfirmed press (no confirmation in the data: an old or hand-made card) does nothing: no reply, no case, no request', async () => {
    const replies = h.connector.activities.length;
    const graphRequests = h.graph.requests.length;
    const participantId = malloryId();
    await h.submit(PEOPLE.olivia, { bouncer: 'ban', callId: callId(), participantId, row: 0 });
    await h.submit(PEOPLE.olivia, { bouncer: 'mute', callId: callId(), participantId });
    await h.submit(PEOPLE.olivia, { bouncer: 'ban', callId: callId(), participantId, row: 0, confirm: 'yes' });
    await h.submit(PEOPLE.olivia, { bouncer: 'lockdown-everyone', callId: callId() });
    expect(h.connector.activities.length).toBe(replies);
    expect(h.graph.requests.length).toBe(graphRequests);
    expect(h.cases()).toHaveLength(1); // the /bind only
    expect(participantOf(PEOPLE.mallory.aadObjectId)).toBeDefined();
  });

  describe('forged card data', () => {
    it('an edited name is never read: the reply, the case and the ban name the person from the roster', async () => {
      const submit = findSubmit(h.lastCard(), 'Yes, ban Mallory');
      await h.submit(PEOPLE.pete, { ...submit.data, name: 'Santa Claus', displayName: 'Santa Claus' });
      expect(h.lastReply()).toMatch(/^Removed \*\*Mallory\*\* from the call and banned them/);
      expect(h.cases()[1]).toMatchObject({ source: 'card', outcome: 'banned', target_name: 'Mallory', actor_user_id: PEOPLE.pete.aadObjectId });
      expect((await activeBans())[0]).toMatchObject({ targetName: 'Mallory' });
      expect(JSON.stringify(h.cases())).not.toContain('Santa');
    });

    it('a Mute or Ban made up without a card names the person from the roster, and follows the policy', async () => {
      const participantId = malloryId();
      await h.submit(PEOPLE.pete, { bouncer: 'mute', callId: callId(), participantId, confirm: true, name: 'Santa Claus' });
      expect(h.lastReply()).toBe('Muted **Mallory** for everyone in the call. Case #2.');
      // An attendee is refused, audited as a card case; nothing is sent.
      await h.submit(PEOPLE.ann, { bouncer: 'ban', callId: callId(), participantId, confirm: true, row: 0 });
      expect(h.lastReply()).toBe('Only the meeting organizer, its moderators and Bouncer admins can do that. Case #3.');
      // A presenter cannot ban the organizer, whatever the card says.
      const organizer = participantOf(PEOPLE.olivia.aadObjectId)!.id;
      await h.submit(PEOPLE.pete, { bouncer: 'ban', callId: callId(), participantId: organizer, confirm: true, row: 0, name: 'Mallory' });
      expect(h.lastReply()).toBe('Only Bouncer admins can remove the meeting organizer. Case #4.');
      expect(h.cases().slice(1).map((c) => [c.source, c.action, c.outcome])).toEqual([
        ['card', 'mute', 'muted'],
        ['card', 'ban', 'denied'],
        ['card', 'ban', 'denied'],
      ]);
      expect(deletes()).toEqual([]);
      expect(await activeBans()).toEqual([]);
      expect(JSON.stringify(h.cases())).not.toContain('Santa');
    });

    it('a length that is not one of the card\'s is refused as /ban refuses it, doing nothing; another call\'s card is stale', async () => {
      const submit = findSubmit(h.lastCard(), 'Yes, ban Mallory');
      const row = (submit.data as { row: number }).row;
      const before = h.graph.requests.length;
      await h.submit(PEOPLE.olivia, { ...submit.data, [`ban-for-${row}`]: '999d' });
      expect(h.lastReply()).toMatch(/365 days/);
      await h.submit(PEOPLE.olivia, { ...submit.data, [`ban-for-${row}`]: '2h; DROP TABLE bans' });
      expect(h.lastReply()).toMatch(/365 days/);
      expect(h.graph.requests.length).toBe(before);
      expect(h.cases()).toHaveLength(1);

      await h.submit(PEOPLE.olivia, { ...submit.data, callId: 'some-other-call' });
      expect(h.lastReply()).toBe('That card is out of date: this chat is no longer connected to that call. Send `/participants` for a fresh one. Case #2.');
      expect(deletes()).toEqual([]);
      expect(await activeBans()).toEqual([]);
    });
  });
});
