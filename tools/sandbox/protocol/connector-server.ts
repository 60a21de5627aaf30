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

/** A targeted meeting notification the bot sent (`POST /v1/meetings/{meetingId}/notification`), as sent. */
export interface SentMeetingNotification {
  meetingId: string;
  body: unknown;
  /** The status this server answered. */
  status: number;
  /** When it arrived (performance.now(), comparable with the other local servers' records). */
  at: number;
}

/** The next matching requests get these answers instead of the normal behaviour. */
export interface ConnectorScriptedResponse {
  status: number;
  body?: unknown;
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
 * (`GET /v3/conversations/{id}/members/{userId}`, and the paged list
 * `GET /v3/conversations/{id}/pagedmembers?pageSize=&continuationToken=`), meetings (`GET /v1/meetings/{id}`,
 * `GET /v1/meetings/{id}/participants/{aadId}?tenantId=`) and targeted meeting notifications
 * (`POST /v1/meetings/{id}/notification`, recorded in `notifications`). With a token server, every call must
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
  /**
   * Conversation id → the chat ids of its members, for conversations whose members are not all of
   * `members` (a conversation not here has every one of them).
   */
  readonly chats = new Map<string, Set<string>>();
  readonly meetings = new Map<string, ConnectorMeeting>();
  readonly calls: Array<{ method: string; path: string; authorized: boolean }> = [];
  /**
   * Network latency, milliseconds: every request of the bot's waits this long before it is
   * handled, as if the Bot Connector were far away (the benchmark's round-trip count). 0: none.
   */
  latencyMs = 0;
  /** Targeted meeting notifications, in the order they came (refused ones included). */
  readonly notifications: SentMeetingNotification[] = [];
  private readonly scripts: Array<{ method: string; path: RegExp; responses: ConnectorScriptedResponse[] }> = [];
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
      // Teams finds a member by Entra object id too; the relaying channel (the Playground) knows only
      // its own ids, so those lookups are answered here, from `members`.
      const byEntraId = /^\/v3\/conversations\/[^/]+\/members\/([^/]+)$/.exec(path);
      const entraMember = byEntraId && [...me.members.values()].find((x) => x.aadObjectId === decodeURIComponent(byEntraId[1]!));
      if (me.upstream && path.startsWith('/v3/') && !entraMember) {
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
      const scripted = me.takeScripted(req.method ?? 'GET', path);
      if (scripted) {
        if (/\/notification$/.test(path)) me.notifications.push({ meetingId: decodeURIComponent(path.split('/')[3] ?? ''), body: parseJson(req.body), status: scripted.status, at: performance.now() });
        json(res, scripted.status, scripted.body ?? { error: { code: 'Scripted', message: `scripted ${scripted.status}` } });
        return;
      }
      const notify = /^\/v1\/meetings\/([^/]+)\/notification$/.exec(path);
      if (notify && req.method === 'POST') {
        const meetingId = decodeURIComponent(notify[1]!);
        const body = parseJson(req.body);
        const at = performance.now();
        const answer = me.meetingNotification(meetingId, body);
        me.notifications.push({ meetingId, body, status: answer.status, at });
        json(res, answer.status, answer.body);
        return;
      }
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
        // Teams takes a member's chat id (29:…) or their Entra object id.
        const key = decodeURIComponent(m[2]!);
        const member = me.membersOf(decodeURIComponent(m[1]!)).find((x) => x.id === key || x.aadObjectId === key);
        if (!member) json(res, 404, { error: { code: 'MemberNotFoundInConversation', message: 'The member was not found' } });
        else json(res, 200, memberAccount(member));
        return;
      }
      m = /^\/v3\/conversations\/([^/]+)\/pagedmembers$/.exec(path);
      if (m && req.method === 'GET') {
        const answer = me.pagedMembers(decodeURIComponent(m[1]!), url.searchParams);
        json(res, answer.status, answer.body);
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

  /** The members of a conversation, in the order they were added. */
  membersOf(conversationId: string): ConnectorMember[] {
    const ids = this.chats.get(conversationId);
    const all = [...this.members.values()];
    return ids ? all.filter((x) => ids.has(x.id)) : all;
  }

  /**
   * A page of a conversation's members, as the Bot Connector answers `pagedmembers`
   * (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/get-teams-context#fetch-the-roster-or-user-profile):
   * `pageSize` below 50 counts as 50, above 500 as 500, 200 when absent; `{members, continuationToken}`,
   * the token (opaque) absent on the last page. Teams answers a chat's whole roster in one page;
   * this server pages every conversation, so that a client's paging is exercised.
   */
  private pagedMembers(conversationId: string, query: URLSearchParams): { status: number; body: unknown } {
    const asked = Number(query.get('pageSize') ?? 200);
    const size = Math.min(500, Math.max(50, Number.isFinite(asked) ? Math.floor(asked) : 200));
    const token = query.get('continuationToken');
    let offset = 0;
    if (token) {
      const parsed = /^([^|]+)\|(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
      if (!parsed || parsed[1] !== conversationId) return { status: 400, body: { error: { code: 'BadArgument', message: 'Invalid continuation token' } } };
      offset = Number(parsed[2]);
    }
    const all = this.membersOf(conversationId);
    const members = all.slice(offset, offset + size).map(memberAccount);
    const next = offset + size < all.length ? Buffer.from(`${conversationId}|${offset + size}`).toString('base64url') : undefined;
    return { status: 200, body: { members, ...(next ? { continuationToken: next } : {}) } };
  }

  /** The next matching requests (after authentication) get these answers, in order. */
  script(method: string, path: RegExp, responses: ConnectorScriptedResponse[]): void {
    this.scripts.push({ method: method.toUpperCase(), path, responses: [...responses] });
  }

  private takeScripted(method: string, path: string): ConnectorScriptedResponse | undefined {
    for (const s of this.scripts) {
      if (s.method === method && s.path.test(path) && s.responses.length > 0) return s.responses.shift();
    }
    return undefined;
  }

  /**
   * A targeted meeting notification, checked as the docs describe it
   * (../shared/contracts/fixtures/teams-targeted-meeting-notification.request.docs.json and the
   * README's notes): type `targetedMeetingNotification`; `value.recipients` 1 to 10 members' chat ids;
   * surfaces `meetingStage` (contentType `task`, content.value with a title and an https-or-local url)
   * or `meetingTabIcon`. 400 for a body that breaks that, 404 for an unknown meeting or when no
   * recipient is in it, 207 when only some are, else 202.
   */
  private meetingNotification(meetingId: string, body: unknown): { status: number; body?: unknown } {
    const bad = (message: string) => ({ status: 400, body: { error: { code: 'BadRequest', message: `Meeting notification request payload validation failed: ${message}` } } });
    const b = body as { type?: unknown; value?: { recipients?: unknown; surfaces?: unknown } } | undefined;
    if (b?.type !== 'targetedMeetingNotification') return bad('type');
    const recipients = b.value?.recipients;
    if (!Array.isArray(recipients) || recipients.length === 0 || recipients.length > 10) return bad('recipients');
    // Teams takes members' chat ids (`29:…`) only, not Entra object ids or UPNs: here, the ids of `members`.
    if (!recipients.every((r) => typeof r === 'string' && this.members.has(r))) return bad('recipients must be chat ids of members');
    const surfaces = b.value?.surfaces;
    if (!Array.isArray(surfaces) || surfaces.length === 0) return bad('surfaces');
    for (const surface of surfaces as Array<{ surface?: unknown; contentType?: unknown; content?: { value?: { title?: unknown; url?: unknown } } }>) {
      if (surface.surface === 'meetingTabIcon') continue;
      if (surface.surface !== 'meetingStage' || surface.contentType !== 'task') return bad('surface');
      const value = surface.content?.value;
      if (typeof value?.title !== 'string' || typeof value.url !== 'string' || !/^(https:\/\/|http:\/\/(127\.0\.0\.1|localhost)[:/])/.test(value.url)) return bad('content');
    }
    const meeting = this.meetings.get(meetingId);
    if (!meeting) return { status: 404, body: { error: { code: 'NotFound', message: 'Meeting chat isn\'t found' } } };
    const inMeeting = (mri: string) => {
      const member = this.members.get(mri);
      return !!member && !!meeting.roles[member.aadObjectId];
    };
    const missing = (recipients as string[]).filter((r) => !inMeeting(r));
    if (missing.length === recipients.length) return { status: 404, body: { error: { code: 'NotFound', message: 'None of the participants were found in the roster' } } };
    if (missing.length > 0) {
      return { status: 207, body: { recipientsFailureInfo: missing.map((recipientMri) => ({ recipientMri, errorCode: 'MemberNotFoundInMeeting', failureReason: 'not in the meeting' })) } };
    }
    return { status: 202 };
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

/** A member as the Bot Connector describes one (TeamsChannelAccount). */
function memberAccount(member: ConnectorMember) {
  const [givenName, ...rest] = member.name.split(' ');
  return {
    ...member,
    givenName,
    ...(rest.length > 0 ? { surname: rest.join(' ') } : {}),
    email: member.userPrincipalName,
    userRole: 'user',
  };
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

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
