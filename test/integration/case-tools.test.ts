import { afterEach, describe, expect, it } from 'vitest';
import { MEETING_CHAT_ID, PEOPLE, startHarness, type Harness } from '../support/harness.js';

/** A group chat of its own (no meeting): cases there belong to another chat than the meeting's. */
const OPS_CHAT = '19:ops-room-0123456789abcdef@thread.v2';
const ops = { conversationId: OPS_CHAT, meetingId: null };

// Issue 14, item 5: /case, /reason and /cases, each answered as the policy says.
describe('case tools, through the real server', () => {
  let h: Harness;
  afterEach(async () => {
    expect(h.graph.violations).toEqual([]);
    await h.close();
  });

  const detail = (c: Record<string, unknown>) => JSON.parse(String(c.detail)) as Record<string, unknown>;

  it("/reason edits a case's reason, audited as a case of its own, and /case shows the current reason and the original", async () => {
    h = await startHarness();
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at> spam', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #1.');

    await h.send(PEOPLE.olivia, '/reason #1 spamming phishing links', []);
    expect(h.lastReply()).toBe('Case #1\'s reason is now "spamming phishing links" (it was "spam"; `/case 1` shows its history). Case #2.');
    expect(h.cases()[0]).toMatchObject({ id: 1, reason: 'spamming phishing links', action: 'kick', outcome: 'removed' });
    expect(h.cases()[1]).toMatchObject({
      id: 2,
      action: 'edit_reason',
      outcome: 'reason_edited',
      status: 'completed',
      actor_user_id: PEOPLE.olivia.aadObjectId,
      actor_name: 'Olivia Organizer',
      reason: 'spamming phishing links',
    });
    expect(detail(h.cases()[1]!)).toMatchObject({ caseId: 1, previous: 'spam' });
    const edits = await h.bouncer.store.cases.reasonEdits(1);
    expect(edits).toMatchObject([{ caseId: 1, previous: 'spam', reason: 'spamming phishing links', editedBy: PEOPLE.olivia.aadObjectId, editedByName: 'Olivia Organizer', editCaseId: 2 }]);

    await h.send(PEOPLE.olivia, '/reason 1 phishing', []);
    await h.send(PEOPLE.olivia, '/case 1', []);
    const shown = h.lastReply();
    expect(shown).toContain('**Case #1**: /kick Mallory → removed');
    expect(shown).toContain('By Olivia Organizer (chat) against Mallory, in chat');
    expect(shown).toContain('Reason: "phishing"');
    expect(shown).toMatch(/Edited 2 times, last by Olivia Organizer at \d{4}-\d\d-\d\d \d\d:\d\d UTC \(case #3\); the original reason: "spam"/);
    expect(h.lastCard()).toMatchObject({ type: 'AdaptiveCard' });

    // Nothing to edit: audited, nothing changed.
    await h.send(PEOPLE.olivia, '/reason 999 whatever', []);
    expect(h.lastReply()).toBe('There is no case #999, so nothing changed. Case #4.');
    await h.send(PEOPLE.olivia, '/case 999', []);
    expect(h.lastReply()).toBe('There is no case #999.');
    await h.send(PEOPLE.olivia, '/reason 1', []);
    expect(h.lastReply()).toContain('/reason <n> <new reason>');
  });

  it('refuses someone who may not moderate the chat: /reason is refused and audited, the reason unchanged; /case and /cases are refused', async () => {
    h = await startHarness();
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at> spam', [PEOPLE.mallory]);
    await h.send(PEOPLE.ann, '/reason 1 she was fine', []);
    expect(h.lastReply()).toBe('Only the meeting organizer, its moderators and Bouncer admins can do that. Case #2.');
    expect(h.cases()[1]).toMatchObject({ action: 'edit_reason', outcome: 'denied', actor_user_id: PEOPLE.ann.aadObjectId });
    expect(detail(h.cases()[1]!)).toMatchObject({ caseId: 1, reason: 'not_permitted' });
    expect(h.cases()[0]).toMatchObject({ reason: 'spam' });
    expect(await h.bouncer.store.cases.reasonEdits(1)).toEqual([]);

    await h.send(PEOPLE.ann, '/case 1', []);
    expect(h.lastReply()).toBe('Only the meeting organizer, its moderators and Bouncer admins can do that.');
    await h.send(PEOPLE.ann, '/cases <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('Only the meeting organizer, its moderators and Bouncer admins can do that.');
  });

  it("answers per the case's own chat: a moderator here sees no case of a chat they don't moderate; /cases lists only the chats the asker moderates; admins see all", async () => {
    h = await startHarness({ ADMIN_USER_IDS: PEOPLE.pete.aadObjectId });
    // Case 1 in the meeting chat (Olivia organizes it); case 2 in the ops chat, an admin's.
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at> spam', [PEOPLE.mallory]);
    await h.send(PEOPLE.pete, '/warn <at>Mallory</at> last warning', [PEOPLE.mallory], ops);
    expect(h.cases()[1]).toMatchObject({ id: 2, conversation_id: OPS_CHAT, target_user_id: PEOPLE.mallory.aadObjectId });
    // A case against someone else, in the meeting chat.
    await h.send(PEOPLE.olivia, '/kick <at>Ann Attendee</at>', [PEOPLE.ann]);

    // Olivia moderates the meeting chat, not the ops chat.
    await h.send(PEOPLE.olivia, '/case 2', []);
    expect(h.lastReply()).toBe("Case #2 belongs to a chat you don't moderate: only that chat's moderators and Bouncer admins can see it.");
    await h.send(PEOPLE.olivia, '/reason 2 edited', []);
    expect(h.lastReply()).toBe("That case belongs to a chat you don't moderate: only that chat's moderators and Bouncer admins can change it. Case #4.");
    expect(h.cases()[3]).toMatchObject({ action: 'edit_reason', outcome: 'denied', conversation_id: MEETING_CHAT_ID });
    expect(detail(h.cases()[3]!)).toMatchObject({ caseId: 2, reason: 'not_case_moderator' });
    expect(h.cases()[1]).toMatchObject({ reason: 'last warning' });
    await h.send(PEOPLE.olivia, '/cases <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toMatch(/^Cases against \*\*Mallory\*\* in the chats you moderate \(newest first\):\n- #1 .+$/);

    // The admin sees both of Mallory's cases, newest first, and not Ann's.
    await h.send(PEOPLE.pete, '/cases <at>Mallory</at>', [PEOPLE.mallory], ops);
    const lines = h.lastReply().split('\n');
    expect(lines[0]).toBe('Cases against **Mallory** in the chats you moderate (newest first):');
    expect(lines.slice(1).map((l) => /^- #(\d+) /.exec(l)?.[1])).toEqual(['2', '1']);
    await h.send(PEOPLE.pete, '/case 1', [], ops);
    expect(h.lastReply()).toContain('**Case #1**: /kick Mallory → removed');

    // Named a moderator of the ops chat only, Ann sees its cases there, and not the meeting chat's
    // (her role in that meeting, asked of Teams, is attendee).
    await h.send(PEOPLE.pete, '/moderators add <at>Ann Attendee</at>', [PEOPLE.ann], ops);
    const annRoleLookups = () => h.connector.calls.filter((c) => c.method === 'GET' && c.path.includes(`/participants/${PEOPLE.ann.aadObjectId}`)).length;
    const lookupsBefore = annRoleLookups();
    await h.send(PEOPLE.ann, '/cases <at>Mallory</at>', [PEOPLE.mallory], ops);
    expect(h.lastReply().split('\n').slice(1).map((l) => /^- #(\d+) /.exec(l)?.[1])).toEqual(['2']);
    await h.send(PEOPLE.ann, '/case 1', [], ops);
    expect(h.lastReply()).toBe("Case #1 belongs to a chat you don't moderate: only that chat's moderators and Bouncer admins can see it.");
    expect(annRoleLookups()).toBeGreaterThan(lookupsBefore);

    // Named in the ops chat too, Olivia sees both from there: the meeting chat's as its organizer.
    await h.send(PEOPLE.pete, '/moderators add <at>Olivia Organizer</at>', [PEOPLE.olivia], ops);
    await h.send(PEOPLE.olivia, '/cases <at>Mallory</at>', [PEOPLE.mallory], ops);
    expect(h.lastReply().split('\n').slice(1).map((l) => /^- #(\d+) /.exec(l)?.[1])).toEqual(['2', '1']);
    await h.send(PEOPLE.olivia, '/case 1', [], ops);
    expect(h.lastReply()).toContain('**Case #1**');
  });
});
