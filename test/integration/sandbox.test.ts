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
        text: `<at>${SANDBOX.botName}</at> ${text}${mentions.map((m) => ` <at>${m}</at>`).join('')}`,
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

  it('writes a Playground configuration with the same people and chat', () => {
    const config = playgroundConfig() as { currentUser: { id: string }; users: Array<{ id: string }>; groupChat: { id: string }; bot: { id: string } };
    expect([config.currentUser, ...config.users].map((u) => u.id)).toEqual(SANDBOX.people.map((p) => p.chatId));
    expect(config.users).toHaveLength(5);
    expect(config.groupChat.id).toBe(SANDBOX.meeting.chatId);
    expect(config.bot.id).toBe(botChatId);
  });
});
