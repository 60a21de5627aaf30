import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logger.js';
import { startBouncer, type RunningBouncer } from '../../src/main.js';
import { SandboxConnector, type PostedActivity } from '../../tools/sandbox/protocol/connector-server.js';
import { startSandbox, type RunningSandbox } from '../../tools/sandbox/sandbox.js';
import { botChatId, playgroundConfig, SANDBOX } from '../../tools/sandbox/seed.js';
import { testTls } from '../support/global-setup.js';
import { freePort } from '../support/ports.js';

// The sandbox of `npm run playground` without the Playground: its place is taken by a plain
// connector (the chat channel's own Bot Connector), so this runs wherever the tests run.


const person = (name: string) => SANDBOX.people.find((p) => p.name === name)!;

describe('the sandbox (npm run playground without the Playground)', () => {
  let sandbox: RunningSandbox;
  let bouncer: RunningBouncer;
  /** Stands in for the Playground's own connector: members, and where replies land. */
  let channel: SandboxConnector;
  let n = 0;

  beforeAll(async () => {
    const port = await freePort();
    const bouncerUrl = `http://127.0.0.1:${port}`;
    sandbox = await startSandbox({ tls: testTls(), bouncerUrl, databaseFile: ':memory:' });
    const result = loadConfig({ ...sandbox.bouncerEnv, DATABASE_URL: ':memory:', PORT: String(port), HOST: '127.0.0.1' });
    if (!result.ok) throw new Error(result.problems.join('; '));
    expect(result.config.sandbox).toBe(true);
    bouncer = await startBouncer(result.config, { logger: createLogger('silent') });
    channel = await SandboxConnector.start();
    for (const p of SANDBOX.people) channel.members.set(p.chatId, { id: p.chatId, name: p.name, aadObjectId: p.aadObjectId });
  });

  afterAll(async () => {
    await sandbox?.graph.settle();
    await sandbox?.twilio.settle();
    await bouncer?.close();
    await Promise.all([sandbox?.close(), channel?.close()]);
  });

  /** Posts a group-chat message as the Playground does (no meeting data, its own serviceUrl) and returns the reply. */
  async function say(from: string, text: string, mentions: string[] = []): Promise<PostedActivity> {
    const id = `playground-${++n}`;
    const sender = person(from);
    const entities = [
      { type: 'mention', mentioned: { id: botChatId, name: SANDBOX.botName }, text: `<at>${SANDBOX.botName}</at>` },
      ...mentions.map((name) => ({ type: 'mention', mentioned: { id: person(name).chatId, name }, text: `<at>${name}</at>` })),
    ];
    const res = await fetch(sandbox.messagesUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'message',
        id,
        // A mention written in the text stays where it is; the others follow it.
        text: `<at>${SANDBOX.botName}</at> ${text}${mentions.filter((m) => !text.includes(`<at>${m}</at>`)).map((m) => ` <at>${m}</at>`).join('')}`,
        textFormat: 'plain',
        from: { id: sender.chatId, name: sender.name, aadObjectId: sender.aadObjectId },
        recipient: { id: botChatId, name: SANDBOX.botName },
        conversation: { id: SANDBOX.meeting.chatId, isGroup: true, conversationType: 'groupChat', tenantId: SANDBOX.tenantId },
        serviceUrl: `${channel.url}/`,
        channelId: 'msteams',
        channelData: { tenant: { id: SANDBOX.tenantId } },
        entities,
      }),
    });
    expect(res.status).toBe(200);
    return channel.waitForActivity((a) => a.replyToId === id);
  }

  const text = (a: PostedActivity) =>
    String(a.activity.text ?? (a.activity.attachments as Array<{ content?: { fallbackText?: string } }> | undefined)?.[0]?.content?.fallbackText);

  it("relays the channel's activities as a meeting chat's, and Bouncer's replies back to the channel", async () => {
    const reply = await say('Alex Wilber', '/bind');
    expect(text(reply)).toMatch(/^Connected to this meeting's call/);
    expect(reply.conversationId).toBe(SANDBOX.meeting.chatId);
  });

  it('removes a person from the sandbox call; roles come from the sandbox meeting', async () => {
    // By default a presenter is no moderator (Teams' "Who can present: Everyone").
    expect(text(await say('Megan Bowen', '/kick', ['Alex Wilber']))).toMatch(/^Only the meeting organizer, its moderators and Bouncer admins/);
    expect(text(await say('Adele Vance', '/kick', ['Patti Fernandez']))).toMatch(/^Only the meeting organizer, its moderators and Bouncer admins/);
    expect(sandbox.state().teamsCall.participants).toContain('Patti Fernandez');

    expect(text(await say('Alex Wilber', '/kick', ['Megan Bowen']))).toMatch(/^Removed \*\*Megan Bowen\*\* from the call\. Case #\d+\.$/);
    expect(sandbox.state().teamsCall.participants).not.toContain('Megan Bowen');
    await sandbox.graph.settle();
    expect(sandbox.graph.notificationsSent.every((n) => n.status === 202)).toBe(true);
  });

  /** The state page as a client that is not a browser reads it: JSON, with who was removed and how to make them rejoin. */
  const statePage = async () =>
    (await (await fetch(sandbox.stateUrl)).json()) as {
      teamsCall: { participants: string[] };
      phoneConference: { participants: string[] };
      removed: Array<{ id: string; name: string; where: string; rejoin: { method: string; url: string; body: { who: string } } }>;
      notices: Array<{ via: string; to: string; url?: string; said?: string }>;
    };
  const pressRejoin = async (name: string) => {
    const entry = (await statePage()).removed.find((p) => p.name === name);
    expect(entry, `${name} is listed as removed`).toBeDefined();
    const started = Date.now();
    const res = await fetch(entry!.rejoin.url, { method: entry!.rejoin.method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(entry!.rejoin.body) });
    expect(res.status).toBe(200);
    return { ...((await res.json()) as { participantId: string; status: number; inCall: boolean; removedAfterMs?: number }), tookMs: Date.now() - started };
  };
  const autoCases = async () => (await bouncer.store.cases.list({ limit: 100 })).filter((c) => c.source === 'auto');

  it("the state page's Rejoin makes a removed person come back through Graph's roster notification; a ban removes them again within a second, as an auto case", async () => {
    // Megan was kicked (above): she is listed, and her rejoin is a real roster notification Bouncer accepts.
    const megan = await pressRejoin('Megan Bowen');
    expect(megan).toMatchObject({ status: 202, inCall: true });
    expect(sandbox.state().teamsCall.participants).toContain('Megan Bowen');
    expect((await statePage()).removed.map((p) => p.name)).not.toContain('Megan Bowen');

    expect(text(await say('Alex Wilber', '/ban', ['Megan Bowen']))).toMatch(/^Removed \*\*Megan Bowen\*\* from the call and banned them from this chat's calls until `\/unban`\./);
    expect(sandbox.state().teamsCall.participants).not.toContain('Megan Bowen');
    const again = await pressRejoin('Megan Bowen');
    expect(again.inCall).toBe(false);
    expect(again.removedAfterMs).toBeLessThan(1000);
    expect(again.tookMs).toBeLessThan(1000);
    expect(sandbox.state().teamsCall.participants).not.toContain('Megan Bowen');
    const auto = (await autoCases()).find((c) => c.participantIds.includes(again.participantId));
    expect(auto).toMatchObject({ action: 'kick', outcome: 'removed', targetName: 'Megan Bowen', participantIds: [again.participantId] });
    expect(auto!.detail).toMatchObject({ banCaseId: expect.any(Number) });

    // A browser gets the page itself, with a Rejoin button (a form) for her; pressing it comes back to the page, which says what happened.
    const page = await (await fetch(sandbox.stateUrl, { headers: { accept: 'text/html' } })).text();
    expect(page).toMatch(/<li>Megan Bowen <form method="post" action="\/rejoin"[^>]*><input type="hidden" name="who" value="teams:[^"]+"><button>Rejoin<\/button><\/form><\/li>/);
    const who = /name="who" value="([^"]+)"/.exec(page)![1]!;
    const pressed = await fetch(`${sandbox.stateUrl}rejoin`, {
      method: 'POST',
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ who }).toString(),
      redirect: 'manual',
    });
    expect(pressed.status).toBe(303);
    expect(pressed.headers.get('location')).toBe('/');
    expect(await (await fetch(sandbox.stateUrl, { headers: { accept: 'text/html' } })).text()).toMatch(
      /<strong>Megan Bowen<\/strong> tried to rejoin: Bouncer removed them again after \d+ ms\./,
    );
    expect(await autoCases()).toHaveLength(2);
    // Nobody removed has an unknown id.
    expect((await fetch(`${sandbox.stateUrl}rejoin`, { method: 'POST', body: JSON.stringify({ who: 'teams:nobody' }) })).status).toBe(404);
  });

  it('shows who is muted, and the private notices sent: a /warn opens its words on that person\'s meeting stage', async () => {
    expect(text(await say('Alex Wilber', '/mute', ['Adele Vance']))).toMatch(/^Muted \*\*Adele Vance\*\* for everyone in the call\. Case #\d+\.$/);
    expect(sandbox.state().teamsCall.muted).toEqual(['Adele Vance']);
    expect(text(await say('Alex Wilber', '/warn <at>Patti Fernandez</at> keep it civil', ['Patti Fernandez']))).toMatch(
      /^Warned \*\*Patti Fernandez\*\* privately: only they got the warning\. Case #\d+\.$/,
    );
    const notice = (await statePage()).notices.find((n) => n.to === 'Patti Fernandez');
    expect(notice).toMatchObject({ via: 'teams', url: expect.stringMatching(/\/api\/teams\/notice\?/) });
    expect(await (await fetch(notice!.url!)).text()).toContain('keep it civil');
    // The ban above told Megan too, before each removal it made by command.
    expect(sandbox.state().notices.filter((n) => n.to === 'Megan Bowen').length).toBeGreaterThan(0);
  });

  it("matches a caller by the phone number in the person's directory profile", async () => {
    expect(text(await say('Alex Wilber', '/bind twilio Sandbox dial-in'))).toMatch(/Sandbox dial-in/);
    expect(text(await say('Alex Wilber', '/kick', ['Isaiah Langer']))).toMatch(/^Removed /);
    expect(sandbox.state().phoneConference.participants).not.toContain('+12025550123');
  });

  it('tells Bouncer of a kick through a signed conference status callback, which Bouncer accepts', async () => {
    expect(text(await say('Alex Wilber', '/kick label:Guest 1'))).toMatch(/^Removed /);
    await sandbox.twilio.settle();
    const leaves = sandbox.twilio.callbacksSent.filter((c) => c.params.StatusCallbackEvent === 'participant-leave');
    expect(leaves.map((c) => c.params.ParticipantLabel ?? c.params.CallSid)).toEqual([expect.stringMatching(/^CA/), 'Guest 1']);
    expect(leaves.every((c) => c.status === 204)).toBe(true);
    expect(text(await say('Alex Wilber', '/participants'))).toBe('In the phone conference **Sandbox dial-in** (1 person):\n- Patti Fernandez');
  });

  it("the state page's Rejoin makes a removed caller call back through Twilio's participant-join callback; a banned number is removed again", async () => {
    const guest = await pressRejoin('Guest 1 (+12025550177)');
    expect(guest).toMatchObject({ status: 204, inCall: true });
    expect(sandbox.state().phoneConference.participants).toContain('Guest 1 (+12025550177)');
    const join = sandbox.twilio.callbacksSent.find((c) => c.params.StatusCallbackEvent === 'participant-join' && c.params.CallSid === guest.participantId);
    expect(join?.params).toMatchObject({ ParticipantLabel: 'Guest 1', Muted: 'false', Hold: 'false', Coaching: 'false', EndConferenceOnExit: 'false', StartConferenceOnEnter: 'true' });

    const before = (await autoCases()).length;
    expect(text(await say('Alex Wilber', '/ban +12025550123 for 1h'))).toMatch(/^Banned \*\*\+12025550123\*\*/);
    const isaiah = await pressRejoin('+12025550123');
    expect(isaiah).toMatchObject({ status: 204, inCall: false });
    expect(isaiah.removedAfterMs).toBeLessThan(1000);
    expect(sandbox.state().phoneConference.participants).not.toContain('+12025550123');
    const autos = await autoCases();
    expect(autos).toHaveLength(before + 1);
    expect(autos.find((c) => c.participantIds.includes(isaiah.participantId))).toMatchObject({ action: 'kick', outcome: 'removed', callId: sandbox.twilio.kicked[0]!.conferenceSid });
  });

  it("locks the sandbox meeting down: its state page shows the lobby, mic, camera and chat, and /lockdown off puts them back", async () => {
    const page = async () => ((await (await fetch(sandbox.stateUrl)).json()) as { teamsCall: { options?: Record<string, unknown> } }).teamsCall.options;
    const before = await page();
    expect(before).toEqual({ lobby: 'organization bypasses the lobby', dialInBypassesLobby: false, attendeeMic: true, attendeeCamera: true, chat: 'enabled' });
    expect(text(await say('Alex Wilber', '/bind'))).toMatch(/^Connected to this meeting's call/);
    expect(text(await say('Alex Wilber', '/lockdown --chat'))).toMatch(/^Locked down: everyone but the organizer now waits in the lobby/);
    expect(await page()).toEqual({ lobby: 'organizer bypasses the lobby', dialInBypassesLobby: false, attendeeMic: false, attendeeCamera: false, chat: 'disabled' });
    const html = await (await fetch(sandbox.stateUrl, { headers: { accept: 'text/html' } })).text();
    expect(html).toContain("Meeting options: lobby: organizer bypasses the lobby; dial-in callers wait in it; attendees' mic off, camera off; chat disabled.");
    expect(text(await say('Alex Wilber', '/lockdown off'))).toMatch(/^Lockdown over/);
    expect(await page()).toEqual(before);
  });

  it('writes a Playground configuration with the same people and chat', () => {
    const config = playgroundConfig() as { currentUser: { id: string }; users: Array<{ id: string }>; groupChat: { id: string }; bot: { id: string } };
    expect([config.currentUser, ...config.users].map((u) => u.id)).toEqual(SANDBOX.people.map((p) => p.chatId));
    expect(config.users).toHaveLength(5);
    expect(config.groupChat.id).toBe(SANDBOX.meeting.chatId);
    expect(config.bot.id).toBe(botChatId);
  });
});
