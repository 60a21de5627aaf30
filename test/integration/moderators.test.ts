import { afterEach, describe, expect, it } from 'vitest';
import { MEETING_CHAT_ID, PEOPLE, startHarness, type Harness } from '../support/harness.js';

// Issue 13, item 1: who may moderate. Teams' default "Who can present: Everyone" makes every
// attendee a presenter, so presenters do not moderate by default; the organizer names moderators.
const NOT_PERMITTED = /^Only the meeting organizer, its moderators and Bouncer admins can do that\. Case #\d+\.$/;

describe('who may moderate, through the real server', () => {
  let h: Harness;
  afterEach(async () => {
    // Every request Bouncer made to Graph fits Graph's own OpenAPI document.
    expect(h.graph.violations).toEqual([]);
    await h.close();
  });

  const inCall = (userId: string) =>
    h.graph.callIds.some((id) => [...h.graph.call(id)!.participants.values()].some((p) => (p.info as { identity: { user?: { id: string } } }).identity.user?.id === userId));

  it('by default a presenter may not kick: the refusal is audited and nobody is removed', async () => {
    h = await startHarness();
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
    await h.send(PEOPLE.pete, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toMatch(NOT_PERMITTED);
    expect(inCall(PEOPLE.mallory.aadObjectId)).toBe(true);
    expect(h.cases().at(-1)).toMatchObject({ action: 'kick', outcome: 'denied', actor_user_id: PEOPLE.pete.aadObjectId });
  });

  it('MODERATOR_ROLES with presenter lets a presenter kick, but not the organizer', async () => {
    h = await startHarness({ MODERATOR_ROLES: 'organizer,coorganizer,presenter' });
    await h.send(PEOPLE.pete, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toMatch(/^Removed \*\*Mallory\*\* from the call\. Case #1\.$/);
    await h.send(PEOPLE.pete, '/kick <at>Olivia Organizer</at>', [PEOPLE.olivia]);
    expect(h.lastReply()).toMatch(/^Only Bouncer admins can remove the meeting organizer\. Case #2\.$/);
  });

  it('the organizer names a moderator, who may then act; un-named, they may not; every change is audited', async () => {
    h = await startHarness();
    await h.send(PEOPLE.ann, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toMatch(NOT_PERMITTED);

    await h.send(PEOPLE.olivia, '/moderators add <at>Ann Attendee</at>', [PEOPLE.ann]);
    expect(h.lastReply()).toBe('**Ann Attendee** is now a moderator of this meeting: they can use Bouncer\'s moderator commands here. Case #2.');
    await h.send(PEOPLE.olivia, '/moderators add <at>Ann Attendee</at>', [PEOPLE.ann]);
    expect(h.lastReply()).toBe('**Ann Attendee** is already a moderator of this meeting. Case #3.');
    await h.send(PEOPLE.olivia, '/moderators', []);
    expect(h.lastReply()).toContain('by role: the organizer, co-organizers');
    expect(h.lastReply()).toContain('- Ann Attendee');

    await h.send(PEOPLE.ann, '/kick <at>Mallory</at> spam', [PEOPLE.mallory]);
    expect(h.lastReply()).toMatch(/^Removed \*\*Mallory\*\* from the call\. Case #4\.$/);
    expect(inCall(PEOPLE.mallory.aadObjectId)).toBe(false);
    // A named moderator moderates, but does not name others, and does not remove the organizer.
    await h.send(PEOPLE.ann, '/moderators add <at>Pete Presenter</at>', [PEOPLE.pete]);
    expect(h.lastReply()).toBe('Only the meeting organizer (or a co-organizer) and Bouncer admins can change who moderates this meeting. Case #5.');
    await h.send(PEOPLE.ann, '/kick <at>Olivia Organizer</at>', [PEOPLE.olivia]);
    expect(h.lastReply()).toMatch(/^Only Bouncer admins can remove the meeting organizer\./);

    await h.send(PEOPLE.olivia, '/moderators remove <at>Ann Attendee</at>', [PEOPLE.ann]);
    expect(h.lastReply()).toBe('**Ann Attendee** is no longer a named moderator of this meeting. Case #7.');
    await h.send(PEOPLE.ann, '/kick <at>Nora Notincall</at>', [PEOPLE.nora]);
    expect(h.lastReply()).toMatch(NOT_PERMITTED);

    const changes = h.cases().filter((c) => String(c.action).startsWith('moderator_'));
    expect(changes.map((c) => [c.action, c.outcome, c.actor_user_id, c.target_user_id])).toEqual([
      ['moderator_add', 'moderator_added', PEOPLE.olivia.aadObjectId, PEOPLE.ann.aadObjectId],
      ['moderator_add', 'moderator_added', PEOPLE.olivia.aadObjectId, PEOPLE.ann.aadObjectId],
      ['moderator_add', 'denied', PEOPLE.ann.aadObjectId, null],
      ['moderator_remove', 'moderator_removed', PEOPLE.olivia.aadObjectId, PEOPLE.ann.aadObjectId],
    ]);
    expect(await h.bouncer.store.moderators.list(MEETING_CHAT_ID)).toEqual([]);
  });

  it('a named moderator is named for one chat only', async () => {
    h = await startHarness();
    await h.send(PEOPLE.olivia, '/moderators add <at>Ann Attendee</at>', [PEOPLE.ann]);
    await h.send(PEOPLE.ann, '/status', [], { conversationId: '19:meeting_other@thread.v2' });
    expect(h.lastReply()).toMatch(/^Only the meeting organizer, its moderators and Bouncer admins can do that\.$/);
  });
});
