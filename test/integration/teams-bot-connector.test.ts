import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatNotice } from '../../src/app/ports/chat-notifier.js';
import { BotConnector } from '../../src/channels/teams/bot-connector.js';
import { toReplyAddress } from '../../src/channels/teams/reply-address.js';
import { connectTeams, teamsChatNotifier, teamsParticipantNotifier, type TeamsConnection } from '../../src/channels/teams/teams-channel.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logger.js';
import { SandboxConnector } from '../../tools/sandbox/protocol/connector-server.js';
import { TokenServer } from '../../tools/sandbox/protocol/token-server.js';
import { testTls } from '../support/global-setup.js';

// The Bot Connector calls Bouncer makes outside a turn (chat notices, mod-log posts, meeting
// notifications and their member lookups) go straight to the chat's Bot Connector: with a token of
// the configured login endpoint, cached; within their deadline; retried as botbuilder's client
// retried them; a failed chat notice logged, never thrown.

// An app id of this file's own: botbuilder caches tokens process-wide by app id and scope.
const APP_ID = randomUUID();
const APP_PASSWORD = 'bot-connector-test-password';
const TENANT_ID = '72f988bf-86f1-41af-91ab-2d7cd011db47';

const removal = (n: number): ChatNotice => ({
  kind: 'system_removal',
  system: 'raid-guard',
  reason: 'raid',
  outcome: { kind: 'removed', caseId: n, callId: 'call-1', participantIds: [`p${n}`], target: { displayName: `Raider ${n}` } },
});

describe('the Bot Connector client of proactive messages', () => {
  let tokens: TokenServer;
  let connector: SandboxConnector;
  let connection: TeamsConnection;
  const logs: string[] = [];
  const logger = createLogger(
    'info',
    new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    }),
  );
  const chat = (n: number) => ({ conversationId: `19:chat-${n}@thread.v2`, replyAddress: toReplyAddress(`${connector.url}/`)!, tenantId: TENANT_ID });
  const notifier = (upstreamTimeoutMs = 5_000) => teamsChatNotifier(connection, { render: { labels: () => ({}) as never, sandbox: false }, upstreamTimeoutMs, logger });

  beforeAll(async () => {
    tokens = await TokenServer.start({ tls: testTls(), secrets: { [APP_ID]: APP_PASSWORD } });
    connector = await SandboxConnector.start({ tokens });
    const member = { id: '29:member-1', name: 'Member One', aadObjectId: 'aad-member-1', tenantId: TENANT_ID };
    connector.members.set(member.id, member);
    for (const meetingId of ['meeting-20', 'meeting-21', 'meeting-hang']) {
      connector.meetings.set(meetingId, { id: meetingId, joinUrl: 'https://teams.microsoft.com/l/meetup-join/x', organizer: member, roles: { [member.aadObjectId]: 'Attendee' } });
    }
    const config = loadConfig({
      MicrosoftAppId: APP_ID,
      MicrosoftAppPassword: APP_PASSWORD,
      MicrosoftAppType: 'MultiTenant',
      ToChannelFromBotLoginUrl: `${tokens.url}/botframework.com`,
    });
    if (!config.ok) throw new Error(config.problems.join('; '));
    connection = connectTeams(config.config.bot, { logger, upstreamTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await connector.close();
    await tokens.close();
  });

  it('posts a chat notice with a Bot Framework token from the configured login endpoint, asked for once', async () => {
    const before = tokens.requests.length;
    for (let n = 1; n <= 3; n++) expect(await notifier().notify(chat(n), removal(n))).toBe(true);
    const posts = connector.calls.filter((c) => c.method === 'POST' && /^\/v3\/conversations\/19%3Achat-[123]%40thread\.v2\/activities$/.test(c.path));
    expect(posts).toHaveLength(3);
    // The sandbox takes only tokens its token server issued for the Bot Framework scope.
    expect(posts.every((c) => c.authorized)).toBe(true);
    expect(tokens.requests.slice(before).filter((r) => r.clientId === APP_ID)).toHaveLength(before === 0 ? 1 : 0);
    const told = connector.activities.find((a) => a.conversationId === '19:chat-2@thread.v2')!;
    expect(told.activity).toMatchObject({
      type: 'message',
      text: '**Raider 2** was removed from the call by the moderation system **raid-guard**. Reason: raid. Case #2.',
      from: { id: `28:${APP_ID}` },
      conversation: { id: '19:chat-2@thread.v2', tenantId: TENANT_ID },
    });
  });

  it('a post the Bot Connector never answers fails at its deadline, logged and not thrown', async () => {
    connector.hang.push(/chat-hang/);
    try {
      const started = Date.now();
      const sent = await notifier(600).notify({ ...chat(0), conversationId: '19:chat-hang@thread.v2' }, removal(9));
      const took = Date.now() - started;
      expect(sent).toBe(false);
      expect(took).toBeGreaterThanOrEqual(550);
      expect(took).toBeLessThan(2_000);
      const line = logs.find((l) => l.includes('could not notify the chat') && l.includes('chat-hang'));
      expect(line).toBeDefined();
      expect(JSON.parse(line!)).toMatchObject({ level: 40, notice: 'system_removal', err: { message: expect.stringMatching(/timed out after \d+ ms/) } });
    } finally {
      connector.hang.length = 0;
    }
  });

  it('a post refused for good (403) is logged once, not retried and not thrown', async () => {
    connector.script('POST', /chat-403/, [{ status: 403 }, { status: 403 }]);
    const sent = await notifier().notify({ ...chat(0), conversationId: '19:chat-403@thread.v2' }, removal(10));
    expect(sent).toBe(false);
    expect(connector.calls.filter((c) => c.path.includes('chat-403'))).toHaveLength(1);
    expect(logs.filter((l) => l.includes('could not notify the chat') && l.includes('chat-403'))).toHaveLength(1);
    expect(logs.find((l) => l.includes('chat-403'))).toContain('Teams proactive message failed: 403');
  });

  it('a throttled post (429 with Retry-After) is sent again after the wait, within its deadline', async () => {
    let slept = 0;
    const direct = new BotConnector(connection.auth, APP_ID, undefined, async (ms) => {
      slept += ms;
      await new Promise((resolve) => setTimeout(resolve, 10));
    });
    connector.script('POST', /chat-429/, [{ status: 429 }]);
    await direct.sendToConversation({ serviceUrl: `${connector.url}/`, conversationId: '19:chat-429@thread.v2' }, { type: 'message', text: 'hello' }, Date.now() + 5_000);
    expect(connector.calls.filter((c) => c.path.includes('chat-429'))).toHaveLength(2);
    expect(connector.activities.filter((a) => a.conversationId === '19:chat-429@thread.v2').map((a) => a.activity.text)).toEqual(['hello']);
    expect(slept).toBeGreaterThan(0);
  });

  it('a retry that would outlast the deadline is not waited for: the failure comes at once', async () => {
    const direct = new BotConnector(connection.auth, APP_ID);
    connector.script('POST', /chat-500/, [{ status: 500 }, { status: 500 }]);
    const started = Date.now();
    // The first retry waits about a second; the deadline is nearer.
    await expect(
      direct.sendToConversation({ serviceUrl: `${connector.url}/`, conversationId: '19:chat-500@thread.v2' }, { type: 'message', text: 'x' }, Date.now() + 500),
    ).rejects.toMatchObject({ service: 'teams', status: 500, retryable: true });
    expect(Date.now() - started).toBeLessThan(450);
    expect(connector.calls.filter((c) => c.path.includes('chat-500'))).toHaveLength(1);
  });

  it("finds a member by Entra object id; a chat's non-member is undefined, not an error", async () => {
    const direct = connection.connector;
    const where = { serviceUrl: `${connector.url}/`, conversationId: '19:chat-members@thread.v2' };
    expect(await direct.member(where, 'aad-member-1', Date.now() + 5_000)).toMatchObject({ id: '29:member-1', aadObjectId: 'aad-member-1' });
    expect(await direct.member(where, 'aad-nobody', Date.now() + 5_000)).toBeUndefined();
    const lookups = connector.calls.filter((c) => c.path.startsWith('/v3/conversations/19%3Achat-members%40thread.v2/members/'));
    expect(lookups.map((c) => [c.path.split('/').at(-1), c.authorized])).toEqual([
      ['aad-member-1', true],
      ['aad-nobody', true],
    ]);
  });

  it('a meeting notification goes to the member found by Entra id, authorized; a non-member fails it without a notification', async () => {
    const notices = teamsParticipantNotifier(connection, { publicBaseUrl: 'https://bouncer.example', upstreamTimeoutMs: 5_000, logger });
    const target = { ...chat(20), meetingId: 'meeting-20', userId: 'aad-member-1' };
    const notice = { kind: 'removal', reason: 'spam', ref: { caseId: 20, token: 'tok' } } as const;
    await notices.notifyInMeeting(target, notice as never);
    const [sent] = connector.notifications.filter((n) => n.meetingId === 'meeting-20');
    expect(sent).toMatchObject({ status: 202, body: { type: 'targetedMeetingNotification', value: { recipients: ['29:member-1'] } } });
    expect(connector.calls.find((c) => c.path === '/v1/meetings/meeting-20/notification')?.authorized).toBe(true);

    await expect(notices.notifyInMeeting({ ...target, meetingId: 'meeting-21', userId: 'aad-nobody' }, notice as never)).rejects.toMatchObject({
      service: 'teams',
      status: 404,
      message: 'Teams member lookup failed: 404',
    });
    expect(connector.notifications.filter((n) => n.meetingId === 'meeting-21')).toEqual([]);
  });

  it('a meeting notification the Bot Connector never answers fails at its deadline', async () => {
    connector.hang.push(/meeting-hang/);
    try {
      const notices = teamsParticipantNotifier(connection, { publicBaseUrl: 'https://bouncer.example', upstreamTimeoutMs: 400, logger });
      const started = Date.now();
      await expect(
        notices.notifyInMeeting({ ...chat(30), meetingId: 'meeting-hang', chatId: '29:member-1' }, { kind: 'removal', reason: 'x', ref: { caseId: 30, token: 't' } } as never),
      ).rejects.toMatchObject({ service: 'teams', retryable: true, message: expect.stringMatching(/^Teams meeting notification timed out after \d+ ms$/) });
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      connector.hang.length = 0;
    }
  });
});
