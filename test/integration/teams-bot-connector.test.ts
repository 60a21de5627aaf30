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
import { until } from '../support/until.js';

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
    connection = connectTeams(config.config.bot, { logger, upstreamTimeoutMs: 5_000, background: { track: () => undefined } });
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

  it('reads a chat\'s paged member list page by page (pageSize, continuationToken), authorized, within its deadline', async () => {
    const direct = new BotConnector(connection.auth, APP_ID);
    const where = { serviceUrl: `${connector.url}/`, conversationId: '19:chat-paged@thread.v2' };
    const extra = Array.from({ length: 60 }, (_, i) => ({ id: `29:paged-${i}`, name: `Paged ${i}`, aadObjectId: `aad-paged-${i}`, tenantId: TENANT_ID }));
    for (const m of extra) connector.members.set(m.id, m);
    try {
      const first = await direct.pagedMembers(where, 50, undefined, Date.now() + 5_000);
      expect(first.members).toHaveLength(50);
      expect(first.continuationToken).toEqual(expect.any(String));
      const second = await direct.pagedMembers(where, 50, first.continuationToken, Date.now() + 5_000);
      expect(second.continuationToken).toBeUndefined();
      const ids = [...first.members, ...second.members].map((m) => m.id);
      expect(new Set(ids).size).toBe(connector.members.size);
      const reads = connector.calls.filter((c) => c.path === '/v3/conversations/19%3Achat-paged%40thread.v2/pagedmembers');
      expect(reads.map((c) => c.authorized)).toEqual([true, true]);
      // A page the Bot Connector never answers fails at the deadline, as every call does.
      connector.hang.push(/chat-paged/);
      const started = Date.now();
      await expect(direct.pagedMembers(where, 50, undefined, Date.now() + 300)).rejects.toMatchObject({ service: 'teams', retryable: true });
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      connector.hang.length = 0;
      for (const m of extra) connector.members.delete(m.id);
    }
  });

  it('a meeting notification goes to the member found by Entra id, authorized; a non-member is "not reachable", no error, no notification', async () => {
    const notices = teamsParticipantNotifier(connection, { publicBaseUrl: 'https://bouncer.example', upstreamTimeoutMs: 5_000, logger });
    const target = { ...chat(20), meetingId: 'meeting-20', userId: 'aad-member-1' };
    const notice = { kind: 'removal', reason: 'spam', ref: { caseId: 20, token: 'tok' } } as const;
    await notices.notifyInMeeting(target, notice as never);
    const [sent] = connector.notifications.filter((n) => n.meetingId === 'meeting-20');
    expect(sent).toMatchObject({ status: 202, body: { type: 'targetedMeetingNotification', value: { recipients: ['29:member-1'] } } });
    expect(connector.calls.find((c) => c.path === '/v1/meetings/meeting-20/notification')?.authorized).toBe(true);

    const logged = logs.length;
    expect(await notices.notifyInMeeting({ ...target, meetingId: 'meeting-21', userId: 'aad-nobody' }, notice as never)).toEqual({ sent: false, reason: 'not_a_chat_member' });
    expect(connector.notifications.filter((n) => n.meetingId === 'meeting-21')).toEqual([]);
    // Nothing logged as a failure (the caller writes the one quiet line).
    expect(logs.slice(logged).filter((l) => l.includes('aad-nobody') || l.includes('"level":40') || l.includes('"level":50'))).toEqual([]);
  });

  it("a notice into a chat whose members are not known reads them in the background: the next non-member is answered without a lookup, a member still gets it", async () => {
    const notices = teamsParticipantNotifier(connection, { publicBaseUrl: 'https://bouncer.example', upstreamTimeoutMs: 5_000, logger });
    const target = { ...chat(22), meetingId: 'meeting-20' };
    const notice = { kind: 'removal', reason: 'raid', ref: { caseId: 22, token: 'tok' } } as const;
    const path = (what: string) => connector.calls.filter((c) => c.path.startsWith(`/v3/conversations/${encodeURIComponent(target.conversationId)}/${what}`));
    expect(await notices.notifyInMeeting({ ...target, userId: 'aad-raider-1' }, notice as never)).toEqual({ sent: false, reason: 'not_a_chat_member' });
    expect(path('members/')).toHaveLength(1);
    await until(() => connection.caches.members.knowsAll(target.conversationId));
    expect(path('pagedmembers')).toHaveLength(1);

    // Later raiders: "not a member" from the complete listing, no lookup.
    for (const raider of ['aad-raider-2', 'aad-raider-3']) {
      expect(await notices.notifyInMeeting({ ...target, userId: raider }, notice as never)).toEqual({ sent: false, reason: 'not_a_chat_member' });
    }
    expect(path('members/')).toHaveLength(1);
    // A member is found in the listing, and told.
    const before = connector.notifications.length;
    expect(await notices.notifyInMeeting({ ...target, userId: 'AAD-MEMBER-1' }, notice as never)).toEqual({ sent: true });
    expect(connector.notifications.slice(before)).toMatchObject([{ status: 202, body: { value: { recipients: ['29:member-1'] } } }]);
    expect(path('members/')).toHaveLength(1);
    // The listing is single-flight and not read again while it answers.
    expect(path('pagedmembers')).toHaveLength(1);
  });

  it('a member lookup that fails (5xx) is still an outage, thrown', async () => {
    const notices = teamsParticipantNotifier(connection, { publicBaseUrl: 'https://bouncer.example', upstreamTimeoutMs: 400, logger });
    connector.script('GET', /chat-23.*\/members\//, [{ status: 503 }]);
    connector.hang.push(/chat-23.*pagedmembers/);
    try {
      await expect(
        notices.notifyInMeeting({ ...chat(23), meetingId: 'meeting-20', userId: 'aad-whoever' }, { kind: 'removal', reason: 'x', ref: { caseId: 23, token: 't' } } as never),
      ).rejects.toMatchObject({ service: 'teams', status: 503, retryable: true });
    } finally {
      connector.hang.length = 0;
    }
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
