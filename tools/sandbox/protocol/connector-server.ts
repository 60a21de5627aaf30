import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { json, listen, type LocalServer } from './http-util.js';
import type { TokenServer } from './token-server.js';

export interface ConnectorMember {
  id: string;
  name: string;
  aadObjectId: string;
  tenantId?: string;
  userPrincipalName?: string;
}

export interface ConnectorMeeting {
  id: string;
  joinUrl: string;
  title?: string;
  organizer: ConnectorMember;
  /** Entra object id → meeting role ("Organizer", "Presenter", "Attendee"). */
  roles: Record<string, string>;
}

export interface PostedActivity {
  conversationId: string;
  replyToId?: string;
  /** The id this server gave the activity (what an update names). */
  id?: string;
  /** When the request reached this server (Date.now()), before any injected latency. */
  receivedAt?: number;
  activity: { type?: string; text?: string; attachments?: unknown[]; [k: string]: unknown };
}

/** An edit of a posted activity (`PUT /v3/conversations/{id}/activities/{activityId}`), as the bot sent it. */
export interface UpdatedActivity {
  conversationId: string;
  activityId: string;
  activity: PostedActivity['activity'];
}

/**
 * A local server speaking the Bot Connector protocol Teams bots use: replies
 * (`POST /v3/conversations/{id}/activities[/{replyToId}]`), members
 * (`GET /v3/conversations/{id}/members/{userId}`) and meetings (`GET /v1/meetings/{id}`,
 * `GET /v1/meetings/{id}/participants/{aadId}?tenantId=`). With a token server, every call must
 * carry a token issued for the Bot Framework scope.
 *
 * With `relayTo`, it also stands between a chat-only channel (the Agents Playground) and the bot,
 * as Teams does for a meeting chat: activities posted to `/api/messages` go on to the bot with
 * `channelData.meeting` added for the chats in `meetingChats` and `serviceUrl` pointing here;
 * the bot's `/v3` calls then go back to the channel's own connector, and its meeting calls are
 * answered here, from `meetings`.
 */
export class SandboxConnector {
  readonly activities: PostedActivity[] = [];
  /** Requests whose path matches one of these are taken and never answered (a hung Bot Connector). */
  readonly hang: RegExp[] = [];
  /** Edits of posted activities, in order; the posted activity itself is replaced too. */
  readonly updates: UpdatedActivity[] = [];
  readonly members = new Map<string, ConnectorMember>();
  readonly meetings = new Map<string, ConnectorMeeting>();
  readonly calls: Array<{ method: string; path: string; authorized: boolean }> = [];
  /**
   * Network latency, milliseconds: every request of the bot's waits this long before it is
   * handled, as if the Bot Connector were far away (the benchmark's round-trip count). 0: none.
   */
  latencyMs = 0;
  /** Chat conversation id → the id of the meeting the chat belongs to (relay mode). */
  readonly meetingChats = new Map<string, string>();
  /** The relaying channel's own connector, learnt from the `serviceUrl` of what it posts. */
  private upstream?: string;
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly server: LocalServer,
    private readonly tokens?: TokenServer,
    private readonly relayTo?: string,
  ) {}

  static async start(
    options: {
      tokens?: TokenServer;
      /** The bot's messaging endpoint: turns on relay mode (see the class comment). */
      relayTo?: string;
    } = {},
  ): Promise<SandboxConnector> {
    const ref: { self?: SandboxConnector } = {};
    const server = await listen(async (req, res) => {
      const me = ref.self!;
      const url = new URL(req.url, 'http://127.0.0.1');
      const path = url.pathname;
      if (me.relayTo && path === '/api/messages') {
        await me.relay(req, res);
        return;
      }
      if (me.upstream && path.startsWith('/v3/')) {
        await forward(req, res, `${me.upstream}${req.url}`);
        return;
      }
      const receivedAt = Date.now();
      if (me.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, me.latencyMs));
      const holder = me.tokens?.whoHolds(req.headers.authorization);
      const authorized = !me.tokens || holder?.scope === 'https://api.botframework.com/.default';
      me.calls.push({ method: req.method ?? 'GET', path, authorized });
      if (!authorized) {
        json(res, 401, { error: { code: 'Unauthorized', message: 'Authorization has been denied for this request.' } });
        return;
      }
      if (me.hang.some((p) => p.test(path))) return;
      let m = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/.exec(path);
      if (m && req.method === 'POST') {
        const id = randomUUID();
        me.activities.push({
          conversationId: decodeURIComponent(m[1]!),
          replyToId: m[2] && decodeURIComponent(m[2]),
          id,
          receivedAt,
          activity: JSON.parse(req.body) as PostedActivity['activity'],
        });
        for (const w of me.waiters.splice(0)) w();
        json(res, 201, { id });
        return;
      }
      if (m?.[2] && req.method === 'PUT') {
        const conversationId = decodeURIComponent(m[1]!);
        const activityId = decodeURIComponent(m[2]);
        const posted = me.activities.find((a) => a.id === activityId && a.conversationId === conversationId);
        if (!posted) {
          json(res, 404, { error: { code: 'ActivityNotFoundInConversation', message: 'The activity was not found' } });
          return;
        }
        const activity = JSON.parse(req.body) as PostedActivity['activity'];
        me.updates.push({ conversationId, activityId, activity });
        posted.activity = activity;
        for (const w of me.waiters.splice(0)) w();
        json(res, 200, { id: activityId });
        return;
      }
      m = /^\/v3\/conversations\/([^/]+)\/members\/([^/]+)$/.exec(path);
      if (m && req.method === 'GET') {
        const member = me.members.get(decodeURIComponent(m[2]!));
        if (!member) json(res, 404, { error: { code: 'MemberNotFoundInConversation', message: 'The member was not found' } });
        else json(res, 200, { ...member, givenName: member.name.split(' ')[0], email: member.userPrincipalName });
        return;
      }
      m = /^\/v1\/meetings\/([^/]+)\/participants\/([^/]+)$/.exec(path);
      if (m && req.method === 'GET') {
        const meeting = me.meetings.get(decodeURIComponent(m[1]!));
        const aad = decodeURIComponent(m[2]!);
        const role = meeting?.roles[aad];
        const member = [...me.members.values()].find((x) => x.aadObjectId === aad);
        if (!meeting || !role || !member) {
          json(res, 404, { error: { code: 'NotFound', message: 'participant not found' } });
          return;
        }
        json(res, 200, {
          user: { ...member, tenantId: url.searchParams.get('tenantId') ?? member.tenantId },
          meeting: { role, inMeeting: true },
          conversation: { id: `19:meeting_${meeting.id}@thread.v2`, isGroup: true, conversationType: 'groupChat' },
        });
        return;
      }
      m = /^\/v1\/meetings\/([^/]+)$/.exec(path);
      if (m && req.method === 'GET') {
        const meeting = me.meetings.get(decodeURIComponent(m[1]!));
        if (!meeting) {
          json(res, 404, { error: { code: 'NotFound', message: 'meeting not found' } });
          return;
        }
        json(res, 200, {
          details: { id: meeting.id, joinUrl: meeting.joinUrl, title: meeting.title ?? 'Meeting', type: 'Scheduled', msGraphResourceId: 'x' },
          conversation: { id: `19:meeting_${meeting.id}@thread.v2`, isGroup: true, conversationType: 'groupChat' },
          organizer: meeting.organizer,
        });
        return;
      }
      json(res, 404, { error: { code: 'NotFound', message: `no route ${req.method} ${path}` } });
    });
    ref.self = new SandboxConnector(server, options.tokens, options.relayTo);
    return ref.self;
  }

  /** An activity from the channel, on its way to the bot: what Teams adds in a meeting chat is added. */
  private async relay(req: IncomingMessage & { body: string }, res: ServerResponse): Promise<void> {
    let body = req.body;
    if (req.method === 'POST' && body) {
      const activity = JSON.parse(body) as {
        serviceUrl?: string;
        conversation?: { id?: string };
        channelData?: Record<string, unknown>;
      };
      if (activity.serviceUrl && !activity.serviceUrl.startsWith(this.url)) this.upstream = activity.serviceUrl.replace(/\/+$/, '');
      activity.serviceUrl = `${this.url}/`;
      const meetingId = activity.conversation?.id && this.meetingChats.get(activity.conversation.id);
      if (meetingId) activity.channelData = { ...activity.channelData, meeting: { id: meetingId } };
      body = JSON.stringify(activity);
    }
    await forward(req, res, this.relayTo!, body);
  }

  get url(): string {
    return this.server.url;
  }

  /** Resolves with the first posted activity in the conversation matching `predicate` (polls new posts). */
  async waitForActivity(
    predicate: (a: PostedActivity) => boolean,
    timeoutMs = 10_000,
  ): Promise<PostedActivity> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.activities.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching activity within ${timeoutMs} ms; got ${JSON.stringify(this.activities.map((a) => a.activity.text))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

/** Passes a request on unchanged (but for `body`), and its answer back. */
async function forward(req: IncomingMessage & { body: string }, res: ServerResponse, target: string, body = req.body): Promise<void> {
  const headers: Record<string, string> = {};
  for (const name of ['content-type', 'authorization', 'accept']) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const method = req.method ?? 'GET';
  let answer: Response;
  try {
    answer = await fetch(target, { method, headers, body: method === 'GET' || method === 'HEAD' ? undefined : body });
  } catch (err) {
    json(res, 502, { error: { code: 'BadGateway', message: `${target} did not answer: ${String(err)}` } });
    return;
  }
  const text = Buffer.from(await answer.arrayBuffer());
  const type = answer.headers.get('content-type');
  res.writeHead(answer.status, type ? { 'content-type': type } : {});
  res.end(text);
}
