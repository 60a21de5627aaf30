import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { TlsIdentity } from '../sandbox/protocol/http-util.js';
import type { SeedPerson } from '../sandbox/protocol/graph-server.js';
import { meetingJoinUrl, startWorld, type World } from '../sandbox/world.js';
import { send, type Answer, type LoadRequest } from './load.js';

export const APP_ID = '6b2c3d4e-0000-4000-8000-00000000b0b0';
const APP_SECRET = 'bench-app-secret-not-a-secret';
export const TENANT_ID = '6b2c3d4e-0000-4000-8000-00000000cafe';
export const BOT_CHAT_ID = `28:${APP_ID}`;

/** A member of the chats: their chat id (mentions), name and Entra object id. */
export interface ChatPerson {
  chatId: string;
  name: string;
  aadObjectId: string;
}

/** A Teams meeting of the bench's: its chat (which is its thread) and the ids Teams gives it. */
export interface BenchMeeting {
  name: string;
  meetingId: string;
  /** The meeting chat's conversation id, also the thread Graph's call is on. */
  chatId: string;
}

/** The organizer of every bench meeting: the one who sends the chat commands. */
export const ORGANIZER: ChatPerson = { chatId: '29:bench-organizer', name: 'Olivia Organizer', aadObjectId: '6b2c3d4e-0000-4000-8000-000000000001' };

/**
 * The sandbox's world (tools/sandbox/world.ts), with as many meetings as the bench needs, and the
 * two ways in that the bench drives: signed Teams activities and signed webhook requests.
 */
export class BenchWorld {
  readonly webhookSecret = `whsec_${randomBytes(32).toString('base64')}`;
  private botToken?: Promise<string>;
  /** For single chat activities (the load generator has its own connections). */
  private readonly agent = new http.Agent({ keepAlive: true });

  private constructor(readonly world: World) {}

  static async start(tls: TlsIdentity): Promise<BenchWorld> {
    const world = await startWorld({
      tls,
      tenantId: TENANT_ID,
      app: { id: APP_ID, secret: APP_SECRET },
      people: [{ ...ORGANIZER, role: 'Organizer', inCall: true }],
      // A meeting the world needs to start; the bench's own are added with addMeeting.
      meeting: { id: 'bench-unused', threadId: '19:meeting_bench-unused@thread.v2' },
      connector: { requireTokens: true, extraMembers: [{ id: BOT_CHAT_ID, name: 'Bouncer', aadObjectId: APP_ID, tenantId: TENANT_ID }] },
    });
    return new BenchWorld(world);
  }

  get graph() {
    return this.world.graph;
  }

  get connector() {
    return this.world.connector;
  }

  /** Bouncer's environment for this world: every vendor endpoint is one of its servers. */
  bouncerEnv(bouncerUrl: string): Record<string, string> {
    const { tokens, botIssuer, callsIssuer, graph } = this.world;
    return {
      PUBLIC_BASE_URL: bouncerUrl,
      MicrosoftAppId: APP_ID,
      MicrosoftAppPassword: APP_SECRET,
      MicrosoftAppType: 'MultiTenant',
      ToBotFromChannelOpenIdMetadataUrl: botIssuer.openIdMetadataUrl,
      ToChannelFromBotLoginUrl: `${tokens.url}/botframework.com`,
      GRAPH_TENANT_ID: TENANT_ID,
      GRAPH_BASE_URL: graph.url,
      AZURE_AUTHORITY_HOST: tokens.url,
      CALLS_OPENID_METADATA_URL: callsIssuer.openIdMetadataUrl,
      WEBHOOK_SECRETS: this.webhookSecret,
    };
  }

  /**
   * A meeting whose call holds `inCall` (and the organizer) when Bouncer joins, and whose chat
   * has `members` besides the organizer (people a chat /kick can mention).
   */
  addMeeting(name: string, inCall: readonly SeedPerson[], members: readonly ChatPerson[] = []): BenchMeeting {
    const chatId = `19:meeting_bench-${name}@thread.v2`;
    const meetingId = `bench-meeting-${name}`;
    const { graph, connector } = this.world;
    graph.seedMeeting(chatId, [{ userId: ORGANIZER.aadObjectId, displayName: ORGANIZER.name, tenantId: TENANT_ID }, ...inCall]);
    const roles: Record<string, string> = { [ORGANIZER.aadObjectId]: 'Organizer' };
    for (const m of members) {
      connector.members.set(m.chatId, { id: m.chatId, name: m.name, aadObjectId: m.aadObjectId, tenantId: TENANT_ID });
      roles[m.aadObjectId] = 'Attendee';
    }
    const organizer = connector.members.get(ORGANIZER.chatId)!;
    connector.meetings.set(meetingId, { id: meetingId, joinUrl: meetingJoinUrl(chatId, ORGANIZER.aadObjectId, TENANT_ID), title: name, organizer, roles });
    return { name, meetingId, chatId };
  }

  /** The Graph call joined for a meeting's thread (the last one, when several legs were joined). */
  callOf(meeting: BenchMeeting): string | undefined {
    return this.graph.callIds.filter((id) => this.graph.call(id)?.threadId === meeting.chatId).at(-1);
  }

  /** Bouncer's joins of a meeting's call (POST /communications/calls naming its thread). */
  joinsOf(meeting: BenchMeeting): number[] {
    const joins: number[] = [];
    this.graph.requests.forEach((r, i) => {
      const threadId = (r.body as { chatInfo?: { threadId?: string } } | undefined)?.chatInfo?.threadId;
      if (r.method === 'POST' && r.path === '/communications/calls' && threadId === meeting.chatId) joins.push(i);
    });
    return joins;
  }

  /** A Teams message activity in the meeting's chat from the organizer, signed as the Bot Framework signs it. */
  async chatCommand(bouncerUrl: string, meeting: BenchMeeting, command: string, mention?: ChatPerson): Promise<{ id: string; answer: Answer }> {
    const text = mention ? command.replace('@', `<at>${mention.name}</at>`) : command;
    const entities = [
      { type: 'mention', mentioned: { id: BOT_CHAT_ID, name: 'Bouncer' }, text: '<at>Bouncer</at>' },
      ...(mention ? [{ type: 'mention', mentioned: { id: mention.chatId, name: mention.name }, text: `<at>${mention.name}</at>` }] : []),
    ];
    return this.activity(bouncerUrl, meeting, { type: 'message', text: `<at>Bouncer</at> ${text}\n`, textFormat: 'plain', entities });
  }

  /** Teams' meeting start event for the meeting, in its chat. */
  async meetingStarted(bouncerUrl: string, meeting: BenchMeeting): Promise<{ id: string; answer: Answer }> {
    return this.activity(bouncerUrl, meeting, {
      type: 'event',
      name: 'application/vnd.microsoft.meetingStart',
      value: { Id: meeting.meetingId, JoinUrl: 'url', Title: meeting.name, MeetingType: 'Scheduled', StartTime: new Date().toISOString() },
    });
  }

  private async activity(bouncerUrl: string, meeting: BenchMeeting, extra: Record<string, unknown>): Promise<{ id: string; answer: Answer }> {
    const serviceUrl = `${this.world.connector.url}/`;
    // One token for every activity of the run (valid for an hour), as a channel reuses its token.
    this.botToken ??= this.world.botIssuer.sign({ iss: 'https://api.botframework.com', aud: APP_ID, serviceurl: serviceUrl });
    const id = randomUUID();
    const activity = {
      id,
      timestamp: new Date().toISOString(),
      channelId: 'msteams',
      serviceUrl,
      from: { id: ORGANIZER.chatId, name: ORGANIZER.name, aadObjectId: ORGANIZER.aadObjectId },
      conversation: { id: meeting.chatId, isGroup: true, conversationType: 'groupChat', tenantId: TENANT_ID },
      recipient: { id: BOT_CHAT_ID, name: 'Bouncer' },
      channelData: { tenant: { id: TENANT_ID }, meeting: { id: meeting.meetingId } },
      ...extra,
    };
    const request: LoadRequest = {
      path: '/api/messages',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await this.botToken}` },
      body: JSON.stringify(activity),
    };
    return { id, answer: await send(new URL(bouncerUrl), this.agent, request, 60_000) };
  }

  /** A signed webhook kick (Standard Webhooks: HMAC-SHA256 over `id.timestamp.body`). */
  webhookKick(conversationId: string, userId: string): LoadRequest {
    const body = JSON.stringify({ call: { conversationId }, target: { userId }, reason: 'bench', actor: 'bench' });
    return { path: '/api/moderation/kick', headers: signWebhook(this.webhookSecret, body), body };
  }

  async close(): Promise<void> {
    this.agent.destroy();
    await this.world.close();
  }
}

/**
 * The headers of a Standard Webhooks request (https://www.standardwebhooks.com/): the bench's own
 * signer, with node:crypto, so that signing costs the load generator little.
 */
export function signWebhook(secret: string, body: string): Record<string, string> {
  const id = `msg_${randomBytes(12).toString('hex')}`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}

/** `count` people for a call: Entra users of the bench's tenant with generated ids. */
export function people(prefix: string, count: number): SeedPerson[] {
  return Array.from({ length: count }, (_, i) => ({ userId: randomUUID(), displayName: `${prefix} ${i + 1}`, tenantId: TENANT_ID }));
}
