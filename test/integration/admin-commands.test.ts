import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { joinUrlFor, MEETING_CHAT_ID, PEOPLE, startHarness, TENANT_ID, type Harness } from '../support/harness.js';

type Card = Record<string, unknown> & { body: Array<Record<string, unknown>> };

/** Every FactSet fact of a card, as title → value. */
function facts(card: Card): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of card.body) {
    if (item.type === 'FactSet') for (const f of item.facts as Array<{ title: string; value: string }>) out[f.title] = f.value;
  }
  return out;
}

/** The roster card's rows: the name shown and the data of its confirm button. */
function rosterRows(card: Card) {
  return card.body
    .filter((i) => i.type === 'Container')
    .map((row) => {
      const items = row.items as Array<Record<string, unknown>>;
      const columns = (items[0]!.columns as Array<{ items: Array<{ text: string }> }>)[0]!.items;
      const showCard = (items[1]!.actions as Array<Record<string, unknown>>)[0]!;
      const confirm = showCard.card as { body: Array<{ text: string }>; actions: Array<{ type: string; title: string; data: Record<string, string> }> };
      return { name: columns[0]!.text, showCardTitle: showCard.title, question: confirm.body[0]!.text, submit: confirm.actions[0]! };
    });
}

describe('admin commands and cards through the real server', () => {
  let h: Harness;
  beforeEach(async () => {
    // Presenters moderate in these meetings (MODERATOR_ROLES); the default is in moderators.test.ts.
    h = await startHarness({ MODERATOR_ROLES: 'organizer,coorganizer,presenter' });
  });
  afterEach(async () => {
    await h.graph.settle();
    expect(h.graph.violations).toEqual([]);
    await h.close();
  });

  const bind = async () => {
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
  };
  const deletes = () => h.graph.requests.filter((r) => r.method === 'DELETE' && r.path.includes('/participants/'));

  it('/status shows the binding, the call state, the roster size and what is configured', async () => {
    await h.send(PEOPLE.olivia, '/status', []);
    expect(facts(h.lastCard() as Card)).toMatchObject({ 'Connected to': 'nothing', 'Teams calls': 'configured', Twilio: 'not configured' });
    await bind();
    await h.send(PEOPLE.olivia, '/status', []);
    expect(facts(h.lastCard() as Card)).toMatchObject({ 'Connected to': 'Teams meeting call', 'Call state': 'established', 'In the call': '4' });
    expect(h.lastReply()).toMatch(/Connected to this meeting's call \(established\), 4 people in it\./);
  });

  it('/participants lists the roster with a confirmable Remove button; the click removes with the clicker as actor', async () => {
    await bind();
    await h.send(PEOPLE.olivia, '/participants', []);
    const rows = rosterRows(h.lastCard() as Card);
    expect(rows.map((r) => r.name).sort()).toEqual(['Ann Attendee', 'Mallory', 'Olivia Organizer', 'Pete Presenter']);
    const mallory = rows.find((r) => r.name === 'Mallory')!;
    expect(mallory.showCardTitle).toBe('Remove');
    expect(mallory.question).toBe('Remove Mallory from the call?');
    expect(mallory.submit).toMatchObject({ type: 'Action.Submit', title: 'Yes, remove Mallory' });
    expect(mallory.submit.data).toMatchObject({ bouncer: 'kick', callId: h.graph.callIds[0] });

    await h.submit(PEOPLE.pete, mallory.submit.data);
    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #2.');
    expect(facts(h.lastCard() as Card)).toMatchObject({ Case: '#2' });
    expect(deletes()).toHaveLength(1);
    expect(h.cases()[1]).toMatchObject({ source: 'card', outcome: 'removed', actor_user_id: PEOPLE.pete.aadObjectId, target_name: 'Mallory' });

    // The same button again: Mallory is gone, and the reply says so.
    await h.submit(PEOPLE.pete, mallory.submit.data);
    expect(h.lastReply()).toBe('**Mallory** is not in the call right now, so nobody was removed. Case #3.');
  });

  it('Remove buttons follow the same policy: attendees are refused, presenters cannot remove the organizer', async () => {
    await bind();
    await h.send(PEOPLE.olivia, '/participants', []);
    const rows = rosterRows(h.lastCard() as Card);
    await h.submit(PEOPLE.ann, rows.find((r) => r.name === 'Mallory')!.submit.data);
    expect(h.lastReply()).toBe('Only the meeting organizer, its moderators and Bouncer admins can do that. Case #2.');
    await h.submit(PEOPLE.pete, rows.find((r) => r.name === 'Olivia Organizer')!.submit.data);
    expect(h.lastReply()).toBe("Only Bouncer admins can remove the meeting organizer. Case #3.");
    expect(deletes()).toEqual([]);
    expect(h.cases().slice(1).map((c) => [c.source, c.outcome])).toEqual([
      ['card', 'denied'],
      ['card', 'denied'],
    ]);
  });

  it('a stale card (the binding ended) answers sensibly and removes nobody', async () => {
    await bind();
    await h.send(PEOPLE.olivia, '/participants', []);
    const mallory = rosterRows(h.lastCard() as Card).find((r) => r.name === 'Mallory')!;
    await h.send(PEOPLE.olivia, '/unbind', []);
    expect(h.lastReply()).toBe("Disconnected from this meeting's call. Case #2.");
    expect(h.graph.requests.some((r) => r.method === 'DELETE' && /\/communications\/calls\/[^/]+$/.test(r.path))).toBe(true);
    await h.submit(PEOPLE.olivia, mallory.submit.data);
    expect(h.lastReply()).toBe('That card is out of date: this chat is no longer connected to that call. Send `/participants` for a fresh one. Case #3.');
    expect(deletes()).toEqual([]);
  });

  it('/kick --dry-run shows who would be removed, removes nobody, and is audited as a dry run', async () => {
    await bind();
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at> --dry-run too loud', [PEOPLE.mallory]);
    expect(h.lastReply()).toMatch(/^Dry run: I would remove \*\*Mallory\*\* \([0-9a-f-]{36}\) from the call\. Nobody was removed\. Case #2\.$/);
    expect(deletes()).toEqual([]);
    expect(h.cases()[1]).toMatchObject({ outcome: 'dry_run', reason: 'too loud' });
  });

  it('/modlog lists recent cases with number, time, actor, target, reason and outcome', async () => {
    await bind();
    await h.send(PEOPLE.ann, '/kick <at>Mallory</at> rude', [PEOPLE.mallory]);
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at> rude', [PEOPLE.mallory]);
    await h.send(PEOPLE.olivia, '/modlog', []);
    const card = h.lastCard() as Card;
    const lines = card.body.slice(1).map((b) => String(b.text));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^#3 \d{4}-\d\d-\d\d \d\d:\d\d UTC · Olivia Organizer → Mallory \("rude"\) · removed$/);
    expect(lines[1]).toMatch(/^#2 .* · Ann Attendee → Mallory \("rude"\) · denied$/);
    expect(lines[2]).toMatch(/^#1 .* · Olivia Organizer: \/bind · bound$/);
    await h.send(PEOPLE.olivia, '/modlog 1', []);
    expect((h.lastCard() as Card).body.slice(1)).toHaveLength(1);
    await h.send(PEOPLE.olivia, '/modlog lots', []);
    expect(h.lastReply()).toBe('Usage: `/modlog [n | here | off]`.');
    await h.send(PEOPLE.ann, '/modlog', []);
    expect(h.lastReply()).toBe('Only the meeting organizer, its moderators and Bouncer admins can do that.');
  });

  it('/help lists only what the asker may use', async () => {
    await h.send(PEOPLE.ann, '/help', []);
    expect(h.lastReply()).toContain('`/help`');
    expect(h.lastReply()).not.toContain('/kick');
    expect(h.lastReply()).toContain('17 more commands are for meeting moderators (the organizer, named moderators) and Bouncer admins.');
    await h.send(PEOPLE.olivia, '/help', []);
    for (const c of ['/kick', '/ban', '/unban', '/bans', '/bind', '/unbind', '/status', '/participants', '/modlog', '/case', '/cases', '/reason', '/help']) expect(h.lastReply()).toContain(`\`${c}`);
  });

  it('/bind <join link> binds another chat to the meeting; only its organizer (or an admin) may', async () => {
    const link = joinUrlFor(MEETING_CHAT_ID, PEOPLE.olivia.aadObjectId, TENANT_ID);
    const opsChat = { conversationId: '19:ops-room@thread.v2', meetingId: null };
    await h.send(PEOPLE.pete, `/bind ${link}`, [], opsChat);
    expect(h.lastReply()).toBe('Only the meeting organizer, its moderators and Bouncer admins can do that. Case #1.');
    await h.send(PEOPLE.olivia, `/bind ${link}`, [], opsChat);
    expect(h.lastReply()).toBe("Connected to this meeting's call; /kick works here now. Case #2.");
    await h.graph.settle();
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory], opsChat);
    // This chat is not the meeting's: Teams takes no meeting notification from it, so the notice before the removal fails.
    expect(h.lastReply()).toBe("Removed **Mallory** from the call. I couldn't tell them why first: the notice didn't reach them. Case #3.");
    await h.send(PEOPLE.olivia, '/bind https://example.com/not-a-meeting', [], opsChat);
    expect(h.lastReply()).toBe("That isn't a Teams meeting join link I can use. Case #4.");
  });
});
