import { afterEach, describe, expect, it } from 'vitest';
import type { SandboxConference } from '../../tools/sandbox/protocol/twilio-server.js';
import { MEETING_CHAT_ID, PEOPLE, startHarness, type Harness } from '../support/harness.js';

// Issue 11, item 5: binding to a Twilio conference by name is for admins, or for the chat that
// conference is configured for (TWILIO_CONFERENCE_CHATS). A presenter may not bind any conference.

const DENIED = /^That conference isn't set up for this chat, so only a Bouncer admin can bind it here\./;
const OPS_CHAT = { conversationId: '19:ops-room@thread.v2', meetingId: null };

describe('/bind twilio: which chats may bind which conference', () => {
  let h: Harness;
  let bridge: SandboxConference;
  let board: SandboxConference;

  async function start(extraEnv: Record<string, string> = {}) {
    // Presenters moderate here (MODERATOR_ROLES), so that "a moderator of another chat" is a presenter.
    h = await startHarness({ MODERATOR_ROLES: 'organizer,coorganizer,presenter', ...extraEnv }, { twilio: true });
    bridge = h.twilio!.fake.addConference({ friendlyName: 'Support bridge', status: 'in-progress' });
    board = h.twilio!.fake.addConference({ friendlyName: 'Board meeting', status: 'in-progress' });
  }
  afterEach(async () => {
    expect(h.twilio!.fake.violations).toEqual([]);
    await h.close();
  });

  it("a presenter can't bind a conference that is not configured for this chat", async () => {
    await start();

    await h.send(PEOPLE.pete, '/bind twilio Board meeting', []);

    expect(h.lastReply()).toMatch(DENIED);
    expect(h.lastReply()).toMatch(/Case #1\.$/);
    expect(await h.bouncer.store.bindings.get(MEETING_CHAT_ID)).toBeUndefined();
    expect(h.cases()).toMatchObject([{ action: 'bind', outcome: 'denied', actor_user_id: PEOPLE.pete.aadObjectId }]);
  });

  it('a conference that does not exist gets the same answer: a refused asker learns nothing', async () => {
    await start();
    await h.send(PEOPLE.pete, '/bind twilio Board meeting', []);
    const existing = h.lastReply().replace(/Case #\d+\.$/, '');
    await h.send(PEOPLE.pete, '/bind twilio No such conference', []);
    expect(h.lastReply().replace(/Case #\d+\.$/, '')).toBe(existing);
    // By ConferenceSid too: one that exists but is not configured, and one that does not exist.
    await h.send(PEOPLE.pete, `/bind twilio ${board.sid}`, []);
    expect(h.lastReply().replace(/Case #\d+\.$/, '')).toBe(existing);
    await h.send(PEOPLE.pete, `/bind twilio CF${'0'.repeat(32)}`, []);
    expect(h.lastReply().replace(/Case #\d+\.$/, '')).toBe(existing);
  });

  it("the chat's moderators bind the conference configured for it, by name or by its ConferenceSid", async () => {
    await start();
    await h.send(PEOPLE.pete, '/bind twilio Support bridge', []);
    expect(h.lastReply()).toMatch(/^Connected to the phone conference \*\*Support bridge\*\*/);
    await h.send(PEOPLE.olivia, '/unbind', []);
    await h.send(PEOPLE.olivia, `/bind twilio ${bridge.sid}`, []);
    expect(h.lastReply()).toMatch(/^Connected to the phone conference \*\*Support bridge\*\*/);
    expect(await h.bouncer.store.bindings.get(MEETING_CHAT_ID)).toMatchObject({ provider: 'twilio', callId: bridge.sid });
  });

  it('an attendee of the configured chat still cannot bind it', async () => {
    await start();
    await h.send(PEOPLE.ann, '/bind twilio Support bridge', []);
    expect(h.lastReply()).toMatch(/^Only the meeting organizer, its moderators and Bouncer admins can do that\./);
  });

  it('the same conference may not be bound from a chat it is not configured for', async () => {
    await start({ ADMIN_USER_IDS: PEOPLE.olivia.aadObjectId });
    // Pete presents in the meeting whose chat is configured; in another meeting's chat he is a presenter too.
    await h.send(PEOPLE.pete, '/bind twilio Support bridge', [], { conversationId: '19:meeting_other@thread.v2' });
    expect(h.lastReply()).toMatch(DENIED);
    expect(await h.bouncer.store.bindings.get('19:meeting_other@thread.v2')).toBeUndefined();
  });

  it('an admin binds any conference from any chat', async () => {
    await start({ ADMIN_USER_IDS: PEOPLE.olivia.aadObjectId });
    await h.send(PEOPLE.olivia, '/bind twilio Board meeting', [], OPS_CHAT);
    expect(h.lastReply()).toMatch(/^Connected to the phone conference \*\*Board meeting\*\*/);
    expect(await h.bouncer.store.bindings.get(OPS_CHAT.conversationId)).toMatchObject({ callId: board.sid });
  });
});
