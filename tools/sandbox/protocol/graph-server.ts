import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { json, listen, OutboundClient, takeFault, type LocalServer, type SandboxFault } from './http-util.js';

export type { SandboxFault } from './http-util.js';
import type { JwtIssuer } from './jwt-issuer.js';
import type { RequestContract } from './contract.js';
import type { TokenServer } from './token-server.js';

export interface SeedPerson {
  userId: string;
  displayName: string;
  tenantId?: string;
}

interface SandboxCall {
  id: string;
  threadId: string;
  callbackUri: string;
  state: 'establishing' | 'established' | 'terminated';
  participants: Map<string, GraphParticipantJson>;
}

type GraphParticipantJson = Record<string, unknown> & { id: string };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body?: unknown;
  /** When it arrived (performance.now(), comparable with the other local servers' records). */
  at: number;
}

/** A DELETE that removed someone (answered 204). */
export interface Removal {
  callId: string;
  participantId: string;
  /** The removed participant's Entra user id, when it was a Teams user. */
  userId?: string;
  /** The removed participant's number, when it was a dial-in (identity.phone). */
  phone?: string;
  /** Their name in the roster. */
  displayName?: string;
  /** When it was answered (Date.now()). */
  at: number;
}

/** A roster notification ready to post: built and serialized ahead, sent when asked. */
export interface PreparedNotification {
  /** How many participants it carries. */
  count: number;
  /** The body's size in bytes. */
  bytes: number;
  /** Posts it to the call's callback URI; resolves with Bouncer's HTTP status. */
  send(): Promise<number>;
}

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/**
 * A local server speaking Microsoft Graph's cloud communications protocol (v1.0 calls and
 * participants): it accepts an app's join, sends signed call and roster notifications to the
 * callback URI, lists participants and honours DELETE and mute. Paths have no version prefix, so
 * GRAPH_BASE_URL is simply this server's URL.
 */
export class SandboxGraph {
  readonly requests: RecordedRequest[] = [];
  readonly violations: string[] = [];
  /** Notifications posted, with Bouncer's answer; status 0 and `error` when one could not be delivered. */
  readonly notificationsSent: Array<{ callbackUri: string; status: number; payload: unknown; error?: string }> = [];
  private readonly meetings = new Map<string, SeedPerson[]>();
  /** Scheduled meetings, as GET /users/{id}/onlineMeetings?$filter=JoinWebUrl eq '…' finds them, with their options. */
  private readonly onlineMeetings: SandboxOnlineMeeting[] = [];
  /**
   * The tenant has not let the app at its users' meetings (no OnlineMeetings.ReadWrite.All, or no
   * application access policy for the organizer): every onlineMeetings request is answered 403.
   */
  denyOnlineMeetings = false;
  /** Meetings by their join meeting id (short links), with the passcode they require. */
  private readonly meetingIds = new Map<string, { threadId: string; passcode?: string }>();
  private readonly calls = new Map<string, SandboxCall>();
  private readonly scripts: Array<{ method: string; path: RegExp; responses: ScriptedResponse[] }> = [];
  /** User profiles (GET /users/{id}): phone numbers, UPN and name, as Graph returns them. */
  readonly users = new Map<string, { businessPhones: string[]; mobilePhone: string | null; userPrincipalName?: string; displayName?: string }>();
  /** When set, list calls return at most this many participants (Graph's lists are often incomplete). */
  listLimit?: number;
  /** When false, joins are answered but no notification is sent (to test a cold roster). */
  sendRoster = true;
  /**
   * Network latency, milliseconds: every request waits this long before it is handled, as if it
   * travelled to a distant Graph (the benchmark's round-trip count). 0: none.
   */
  latencyMs = 0;
  /** Every DELETE that removed someone, in order. */
  readonly removals: Removal[] = [];
  /** Who each removal took out (by the removed participant id), so that they can come back (`rejoin`). */
  private readonly removedParticipants = new Map<string, GraphParticipantJson>();
  /**
   * When true, a join's `established` notification is delivered (and answered by Bouncer) before
   * the join's 201 is sent: the notification and the answer race in Graph, and either may come first.
   */
  establishBeforeAnswer = false;

  private constructor(
    private readonly server: LocalServer,
    private readonly opts: SandboxGraphOptions,
  ) {}

  static async start(opts: SandboxGraphOptions): Promise<SandboxGraph> {
    const ref: { self?: SandboxGraph } = {};
    const server = await listen(async (req, res) => {
      const requestId = randomUUID();
      const path = req.url;
      let body: unknown;
      if (req.body) {
        try {
          body = JSON.parse(req.body);
        } catch {
          json(res, 400, graphError('BadRequest', 'body is not JSON', requestId), { 'request-id': requestId });
          return;
        }
      }
      const me = ref.self!;
      if (me.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, me.latencyMs));
      me.requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body, at: performance.now() });
      // The calls document covers /communications only, the onlineMeetings one a user's meetings; user profiles are outside both.
      if (me.opts.contract && path.startsWith('/communications')) {
        me.violations.push(...me.opts.contract.check({ method: req.method ?? 'GET', path, headers: req.headers, body }));
      }
      if (me.opts.onlineMeetingsContract && ONLINE_MEETINGS_PATH.test(path.split('?')[0]!)) {
        me.violations.push(...me.opts.onlineMeetingsContract.check({ method: req.method ?? 'GET', path, headers: req.headers, body }));
      }
      const holder = me.opts.tokens.whoHolds(req.headers.authorization);
      if (!holder || holder.scope !== 'https://graph.microsoft.com/.default') {
        json(res, 401, graphError('InvalidAuthenticationToken', 'Access token is empty or invalid.', requestId), {
          'request-id': requestId,
        });
        return;
      }
      // A Graph that takes the request and never answers (until the server closes); with `handle`,
      // after acting on it.
      const hung = takeFault(me.hang, req.method, path);
      if (hung && !hung.handle) return;
      // A connection closed before the answer, after Graph acted on the request.
      const dropped = takeFault(me.dropAnswer, req.method, path);
      if (req.method === 'DELETE' && me.removalLimit && !me.takeRemovalToken()) {
        // Graph's throttling: 429 with Retry-After (https://learn.microsoft.com/graph/throttling).
        me.throttled++;
        json(res, 429, graphError('TooManyRequests', 'Too many requests', requestId), { 'request-id': requestId, 'retry-after': '1' });
        return;
      }
      const scripted = me.takeScripted(req.method ?? 'GET', path);
      if (scripted) {
        json(res, scripted.status, scripted.body, { 'request-id': requestId, ...scripted.headers });
        return;
      }
      const [routePath, query = ''] = path.split('?') as [string, string?];
      const r = me.route(req.method ?? 'GET', routePath, body, holder.tenant, new URLSearchParams(query));
      // Notifications Graph delivers before it answers (a join's `established`, with establishBeforeAnswer).
      if (r.before) await r.before;
      if (hung) return;
      if (dropped) {
        req.socket.destroy();
        return;
      }
      json(res, r.status, r.body ?? (r.status >= 400 ? graphError(r.code ?? 'Error', r.code ?? 'error', requestId) : undefined), {
        'request-id': requestId,
      });
    });
    ref.self = new SandboxGraph(server, opts);
    return ref.self;
  }

  /**
   * Removals allowed per second (a sliding one-second window); beyond it a DELETE gets 429 with
   * `Retry-After: 1`, as Graph throttles. Undefined: no limit.
   */
  removalLimit?: number;
  /**
   * Requests matching one of these are taken and never answered (with `handle`, Graph acts on them
   * first: a DELETE removes the person); `times` of them, or all while the entry is here.
   */
  readonly hang: Array<SandboxFault & { handle?: boolean }> = [];
  /** Requests matching one of these are acted on, then their connection is closed with no answer. */
  readonly dropAnswer: SandboxFault[] = [];
  /** DELETEs answered 429 by the removal limit. */
  throttled = 0;
  private removalTimes: number[] = [];

  private takeRemovalToken(): boolean {
    const now = Date.now();
    while (this.removalTimes.length > 0 && this.removalTimes[0]! <= now - 1000) this.removalTimes.shift();
    if (this.removalTimes.length >= this.removalLimit!) return false;
    this.removalTimes.push(now);
    return true;
  }

  get url(): string {
    return this.server.url;
  }

  /** People in a meeting's call, keyed by the meeting chat's thread id. */
  seedMeeting(threadId: string, people: SeedPerson[]): void {
    this.meetings.set(threadId, people);
  }

  /** A meeting's id and passcode, as a short link (`/meet/<id>?p=<passcode>`) names it, for a join by joinMeetingIdMeetingInfo. */
  seedMeetingId(threadId: string, joinMeetingId: string, passcode?: string): void {
    this.meetingIds.set(joinMeetingId, { threadId, passcode });
  }

  /**
   * A meeting's onlineMeeting record: its join link and organizer, as Graph keeps them, and its
   * options (by default as Teams sets a new meeting up: people in the organization bypass the lobby,
   * attendees may use mic and camera, chat on, everyone presents).
   */
  seedOnlineMeeting(meeting: { joinWebUrl: string; threadId: string; organizer: SeedPerson; options?: Partial<MeetingOptions> }): void {
    this.onlineMeetings.push({
      joinWebUrl: meeting.joinWebUrl,
      threadId: meeting.threadId,
      organizer: meeting.organizer,
      id: onlineMeetingId(meeting.organizer.userId, meeting.threadId),
      options: { ...DEFAULT_MEETING_OPTIONS, ...meeting.options, lobbyBypassSettings: { ...DEFAULT_MEETING_OPTIONS.lobbyBypassSettings, ...meeting.options?.lobbyBypassSettings } },
    });
  }

  /** Sets some of a meeting's options, as its organizer would in Teams' meeting options. */
  setMeetingOptions(threadId: string, options: Partial<MeetingOptions>): void {
    const found = this.onlineMeetings.find((o) => o.threadId === threadId);
    if (!found) throw new Error(`no onlineMeeting for ${threadId}`);
    found.options = { ...found.options, ...structuredClone(options) };
  }

  /** A meeting's options as they are now (the state page shows them), by its thread. */
  meetingOptions(threadId: string): MeetingOptions | undefined {
    const found = this.onlineMeetings.find((o) => o.threadId === threadId);
    return found && structuredClone(found.options);
  }

  /** The next matching requests get these answers, in order, before the normal behaviour. */
  script(method: string, path: RegExp, responses: ScriptedResponse[]): void {
    this.scripts.push({ method, path, responses: [...responses] });
  }

  call(callId: string): SandboxCall | undefined {
    return this.calls.get(callId);
  }

  get callIds(): string[] {
    return [...this.calls.keys()];
  }

  /**
   * Someone joins a live call (or, with `inLobby`, waits in its lobby): the roster notification is
   * sent as Graph sends it, `updated` with the call's whole roster (Bouncer does not ask for delta
   * rosters), and resolves once Bouncer has answered it.
   */
  async addPerson(callId: string, person: SeedPerson, options: { inLobby?: boolean } = {}): Promise<string> {
    return this.arrive(callId, { ...participantJson(person), isInLobby: options.inLobby ?? false });
  }

  /** A dial-in (PSTN) caller joins a live call: Graph names them by their number (`identity.phone`). */
  async addDialIn(callId: string, caller: { number: string; displayName?: string }, options: { inLobby?: boolean } = {}): Promise<string> {
    const p: GraphParticipantJson = {
      '@odata.type': '#microsoft.graph.participant',
      id: randomUUID(),
      info: {
        '@odata.type': '#microsoft.graph.participantInfo',
        identity: {
          '@odata.type': '#microsoft.graph.identitySet',
          phone: { '@odata.type': '#microsoft.graph.identity', id: caller.number, displayName: caller.displayName ?? null },
        },
      },
      mediaStreams: [{ '@odata.type': '#microsoft.graph.mediaStream', mediaType: 'audio', sourceId: '1', direction: 'sendReceive', serverMuted: false }],
      isMuted: false,
      isInLobby: options.inLobby ?? false,
    };
    return this.arrive(callId, p);
  }

  private async arrive(callId: string, p: GraphParticipantJson): Promise<string> {
    const call = this.calls.get(callId);
    if (!call) throw new Error(`no call ${callId}`);
    call.participants.set(p.id, p);
    await this.notify(call, [this.rosterNotification(call)]);
    return p.id;
  }

  /**
   * Someone removed from a call tries to come back, as Teams' "Rejoin" does: the same identity
   * arrives as a new participant (a new id), and Graph's roster notification says so. Resolves,
   * once Bouncer has answered it, with the new participant id and Bouncer's status.
   */
  async rejoin(callId: string, removedParticipantId: string, options: { inLobby?: boolean } = {}): Promise<{ participantId: string; status: number }> {
    const call = this.calls.get(callId);
    if (!call) throw new Error(`no call ${callId}`);
    const before = this.removedParticipants.get(removedParticipantId);
    if (!before) throw new Error(`nobody was removed as ${removedParticipantId}`);
    const p: GraphParticipantJson = { ...structuredClone(before), id: randomUUID(), isMuted: false, isInLobby: options.inLobby ?? false };
    if (Array.isArray(p.mediaStreams)) {
      p.mediaStreams = (p.mediaStreams as Array<Record<string, unknown>>).map((m) => (m.mediaType === 'audio' ? { ...m, serverMuted: false } : m));
    }
    call.participants.set(p.id, p);
    const payload = this.payload(call, [this.rosterNotification(call)]);
    return { participantId: p.id, status: await this.post(call, payload, JSON.stringify(payload)) };
  }

  /**
   * Someone hangs up: Graph's next roster notification (`updated`, the whole roster) no longer
   * holds them; no `deleted` notification names them.
   */
  async leave(callId: string, participantId: string): Promise<void> {
    const call = this.calls.get(callId);
    if (!call?.participants.delete(participantId)) throw new Error(`no participant ${participantId} in call ${callId}`);
    await this.notify(call, [this.rosterNotification(call)]);
  }

  private rosterNotification(call: SandboxCall): object {
    return { changeType: 'updated', resourceUrl: `/communications/calls/${call.id}/participants`, resourceData: [...call.participants.values()] };
  }

  /**
   * Many people join a live call at once, and nothing tells Bouncer yet: their participant ids.
   * `prepareRosterNotification` then builds the notification that does.
   */
  joinQuietly(callId: string, people: readonly SeedPerson[]): string[] {
    const call = this.calls.get(callId);
    if (!call) throw new Error(`no call ${callId}`);
    return people.map((person) => {
      const p = participantJson(person);
      call.participants.set(p.id, p);
      return p.id;
    });
  }

  /**
   * The call's roster notification as Graph sends it (`updated`, the whole roster), built and
   * serialized now, posted with `send()`: building it ahead keeps its serialization out of whatever
   * is measured while it is posted.
   */
  prepareRosterNotification(callId: string): PreparedNotification {
    const call = this.calls.get(callId);
    if (!call) throw new Error(`no call ${callId}`);
    const payload = this.payload(call, [this.rosterNotification(call)]);
    const body = JSON.stringify(payload);
    return { count: call.participants.size, bytes: Buffer.byteLength(body), send: () => this.post(call, payload, body) };
  }

  /** The meeting ends for everyone. */
  async endCall(callId: string): Promise<void> {
    const call = this.calls.get(callId);
    if (!call) throw new Error(`no call ${callId}`);
    call.state = 'terminated';
    await this.notify(call, [
      {
        changeType: 'deleted',
        resourceUrl: `/communications/calls/${call.id}`,
        resourceData: { '@odata.type': '#microsoft.graph.call', state: 'terminated', id: call.id },
      },
    ]);
  }

  /** Resolves when every notification posted so far has been answered. */
  async settle(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  close(): Promise<void> {
    this.client.close();
    return this.server.close();
  }

  /** Delivers the notifications (keep-alive connections to the callback URIs). */
  private readonly client = new OutboundClient();

  private readonly inFlight = new Set<Promise<void>>();

  private takeScripted(method: string, path: string): ScriptedResponse | undefined {
    for (const s of this.scripts) {
      if (s.method === method && s.path.test(path) && s.responses.length > 0) return s.responses.shift();
    }
    return undefined;
  }

  private route(
    method: string,
    path: string,
    body: unknown,
    tenant: string,
    query: URLSearchParams = new URLSearchParams(),
  ): { status: number; body?: unknown; code?: string; before?: Promise<void> } {
    if (method === 'POST' && path === '/communications/calls') return this.join(body, tenant);
    const meetingsOf = /^\/users\/([^/]+)\/onlineMeetings(?:\/([^/]+))?$/.exec(path);
    if (meetingsOf && this.denyOnlineMeetings) {
      // Graph's answer without the permission or an access policy for the organizer.
      return { status: 403, body: graphError('Forbidden', 'No application access policy found for this app.', randomUUID()) };
    }
    if (method === 'GET' && meetingsOf && !meetingsOf[2]) return this.findOnlineMeetings(decodeURIComponent(meetingsOf[1]!), query.get('$filter'));
    if (meetingsOf && meetingsOf[2]) return this.onlineMeeting(method, decodeURIComponent(meetingsOf[1]!), decodeURIComponent(meetingsOf[2]), body);
    const user = /^\/users\/([^/]+)$/.exec(path);
    if (method === 'GET' && user) {
      const profile = this.users.get(decodeURIComponent(user[1]!).toLowerCase());
      return profile ? { status: 200, body: { id: decodeURIComponent(user[1]!), ...profile } } : { status: 404, code: 'Request_ResourceNotFound' };
    }
    // The docs' path ends in `/mute`; the OpenAPI document names the action `microsoft.graph.mute`: Graph takes both.
    const mute = /^\/communications\/calls\/([^/]+)\/participants\/([^/]+)\/(?:microsoft\.graph\.)?mute$/.exec(path);
    if (method === 'POST' && mute) return this.mute(decodeURIComponent(mute[1]!), decodeURIComponent(mute[2]!), body);
    const m = /^\/communications\/calls\/([^/]+)(?:\/participants(?:\/([^/]+))?)?$/.exec(path);
    const call = m && this.calls.get(decodeURIComponent(m[1]!));
    if (!m || !call) return { status: 404, code: 'NotFound' };
    const participantsPath = path.includes('/participants');
    const participantId = m[2] && decodeURIComponent(m[2]);
    if (method === 'GET' && participantsPath && !participantId) {
      const all = [...call.participants.values()];
      return { status: 200, body: { value: this.listLimit === undefined ? all : all.slice(0, this.listLimit) } };
    }
    if (method === 'DELETE' && participantId) {
      const p = call.participants.get(participantId);
      if (!p) return { status: 404, code: '8507' };
      call.participants.delete(participantId);
      const identity = (p.info as { identity?: Record<string, { id?: string; displayName?: string | null } | null | undefined> } | undefined)?.identity;
      const userId = identity?.user?.id;
      const phone = identity?.phone?.id;
      const displayName = identity?.user?.displayName ?? identity?.phone?.displayName ?? undefined;
      this.removals.push({
        callId: call.id,
        participantId,
        ...(userId ? { userId } : {}),
        ...(phone ? { phone } : {}),
        ...(displayName ? { displayName } : {}),
        at: Date.now(),
      });
      this.removedParticipants.set(participantId, p);
      this.notifyLater(call, [
        { changeType: 'deleted', resourceUrl: `/communications/calls/${call.id}/participants`, resourceData: [p] },
      ]);
      return { status: 204 };
    }
    if (method === 'GET' && !participantsPath) {
      return { status: 200, body: { '@odata.type': '#microsoft.graph.call', id: call.id, state: call.state } };
    }
    return { status: 405, code: 'MethodNotAllowed' };
  }

  /**
   * https://learn.microsoft.com/graph/api/participant-mute — a server mute: the participant's audio
   * is dropped, the roster notification says `isMuted: true` (and its audio stream `serverMuted`),
   * and the answer is a completed muteParticipantOperation echoing the clientContext.
   */
  private mute(callId: string, participantId: string, body: unknown): { status: number; body?: unknown; code?: string } {
    const call = this.calls.get(callId);
    if (!call) return { status: 404, code: 'NotFound' };
    const p = call.participants.get(participantId);
    if (!p) return { status: 404, code: '8507' };
    p.isMuted = true;
    if (Array.isArray(p.mediaStreams)) {
      p.mediaStreams = (p.mediaStreams as Array<Record<string, unknown>>).map((m) => (m.mediaType === 'audio' ? { ...m, serverMuted: true } : m));
    }
    // An 'updated' roster notification carries the whole roster (see rosterNotification).
    this.notifyLater(call, [this.rosterNotification(call)]);
    const clientContext = (body as { clientContext?: unknown } | undefined)?.clientContext;
    return {
      status: 200,
      body: {
        '@odata.type': '#microsoft.graph.muteParticipantOperation',
        '@odata.context': `${this.url}/$metadata#muteParticipantOperation`,
        id: randomUUID(),
        status: 'completed',
        clientContext: typeof clientContext === 'string' ? clientContext : null,
      },
    };
  }

  /**
   * https://learn.microsoft.com/graph/api/onlinemeeting-get — only `JoinWebUrl eq '<url>'` is
   * understood; a user's list holds only the meetings they organize (an exact link match).
   */
  private findOnlineMeetings(userId: string, filter: string | null): { status: number; body?: unknown; code?: string } {
    const m = filter && /^JoinWebUrl eq '((?:[^']|'')*)'$/i.exec(filter);
    if (!m) return { status: 400, code: 'BadRequest' };
    const url = m[1]!.replace(/''/g, "'");
    const value = this.onlineMeetings
      .filter((o) => o.joinWebUrl === url && o.organizer.userId.toLowerCase() === userId.toLowerCase())
      .map((o) => meetingJson(o));
    return { status: 200, body: { value } };
  }

  /**
   * https://learn.microsoft.com/graph/api/onlinemeeting-get and onlinemeeting-update — a user's
   * meeting by its id: GET answers it, PATCH changes the options it names (in a running meeting
   * too) and answers the whole meeting. A field or value the onlineMeeting resource does not allow
   * is refused with 400, as Graph refuses it.
   */
  private onlineMeeting(method: string, userId: string, meetingId: string, body: unknown): { status: number; body?: unknown; code?: string } {
    const meeting = this.onlineMeetings.find((o) => o.id === meetingId && o.organizer.userId.toLowerCase() === userId.toLowerCase());
    if (!meeting) return { status: 404, code: 'NotFound' };
    if (method === 'GET') return { status: 200, body: meetingJson(meeting) };
    if (method !== 'PATCH') return { status: 405, code: 'MethodNotAllowed' };
    const problem = meetingPatchProblem(body);
    if (problem) return { status: 400, body: graphError('BadRequest', problem, randomUUID()) };
    const patch = body as Partial<MeetingOptions> & Record<string, unknown>;
    for (const key of MEETING_OPTION_KEYS) {
      if (!(key in patch)) continue;
      if (key === 'lobbyBypassSettings') meeting.options.lobbyBypassSettings = { ...meeting.options.lobbyBypassSettings, ...patch.lobbyBypassSettings };
      else (meeting.options as unknown as Record<string, unknown>)[key] = patch[key];
    }
    this.meetingPatches.push({ meetingId, body: structuredClone(patch) });
    return { status: 200, body: meetingJson(meeting) };
  }

  /** Every PATCH a meeting took, in order. */
  readonly meetingPatches: Array<{ meetingId: string; body: Record<string, unknown> }> = [];

  private join(body: unknown, tenant: string): { status: number; body?: unknown; code?: string; before?: Promise<void> } {
    const b = body as
      | { callbackUri?: string; chatInfo?: { threadId?: string }; meetingInfo?: { '@odata.type'?: string; joinMeetingId?: string; passcode?: string | null } }
      | undefined;
    let threadId = b?.chatInfo?.threadId;
    // A meeting named by its meeting id and passcode (short /meet/ links): Graph finds its thread.
    if (b?.meetingInfo?.['@odata.type'] === '#microsoft.graph.joinMeetingIdMeetingInfo') {
      const known = this.meetingIds.get(b.meetingInfo.joinMeetingId ?? '');
      if (!known || (known.passcode ?? null) !== (b.meetingInfo.passcode ?? null)) return { status: 404, code: 'MeetingNotFound' };
      threadId = known.threadId;
    }
    if (!b?.callbackUri || !threadId) return { status: 400, code: 'BadRequest' };
    const chatInfo = b.chatInfo ?? { '@odata.type': '#microsoft.graph.chatInfo', threadId };
    const people = this.meetings.get(threadId);
    if (!people) return { status: 404, code: 'MeetingNotFound' };
    const call: SandboxCall = {
      id: randomUUID(),
      threadId,
      callbackUri: b.callbackUri,
      state: 'establishing',
      participants: new Map(),
    };
    for (const person of people) {
      const p = participantJson({ tenantId: tenant, ...person });
      call.participants.set(p.id, p);
    }
    const bot = {
      '@odata.type': '#microsoft.graph.participant',
      id: randomUUID(),
      info: { identity: { application: { id: this.opts.appId, displayName: 'Bouncer' } } },
      isMuted: false,
      isInLobby: false,
    };
    call.participants.set(bot.id, bot);
    this.calls.set(call.id, call);
    const established = {
      changeType: 'updated',
      resourceUrl: `/communications/calls/${call.id}`,
      resourceData: { '@odata.type': '#microsoft.graph.call', state: 'established', id: call.id, chatInfo },
    };
    let before: Promise<void> | undefined;
    if (this.establishBeforeAnswer) {
      // "established" delivered first, then the 201, then the roster.
      call.state = 'established';
      before = this.notify(call, [established]).then(() => {
        if (this.sendRoster) setImmediate(() => this.notifyLater(call, [this.rosterNotification(call)]));
      });
    } else {
      // As Graph usually does: the 201 first, then "established", then the roster.
      setImmediate(() => {
        call.state = 'established';
        this.notifyLater(call, this.sendRoster ? [established, this.rosterNotification(call)] : [established], true);
      });
    }
    return {
      status: 201,
      body: { '@odata.type': '#microsoft.graph.call', id: call.id, state: 'establishing', callbackUri: b.callbackUri, chatInfo },
      ...(before ? { before } : {}),
    };
  }

  /**
   * One POST per notification, in order, like Graph. Nobody awaits these: one that cannot be
   * delivered (Bouncer gone, a connection reset) is recorded with status 0, not thrown.
   */
  private notifyLater(call: SandboxCall, items: object[], oneByOne = false): void {
    const run = async () => {
      if (oneByOne) for (const item of items) await this.notify(call, [item]);
      else await this.notify(call, items);
    };
    const p = run()
      .catch((err: unknown) => {
        const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
        this.notificationsSent.push({ callbackUri: call.callbackUri, status: 0, payload: items, error: `${err instanceof Error ? err.message : String(err)}${cause}` });
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async notify(call: SandboxCall, items: object[]): Promise<void> {
    const payload = this.payload(call, items);
    await this.post(call, payload, JSON.stringify(payload));
  }

  private payload(call: SandboxCall, items: object[]): object {
    return {
      '@odata.type': '#microsoft.graph.commsNotifications',
      value: items.map((i) => ({ '@odata.type': '#microsoft.graph.commsNotification', callbackUri: call.callbackUri, ...i })),
    };
  }

  private async post(call: SandboxCall, payload: object, body: string): Promise<number> {
    const token = await this.notificationToken();
    const deliver = () => this.client.post(call.callbackUri, { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body);
    let status: number;
    try {
      status = await deliver();
    } catch {
      // Not delivered (say, a kept-alive connection Bouncer closed as it was reused): Graph
      // delivers a notification again; once is enough here.
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = await deliver();
    }
    this.notificationsSent.push({ callbackUri: call.callbackUri, status, payload });
    return status;
  }

  private token?: { value: Promise<string>; until: number };

  /**
   * The calling platform's token for a notification. One is kept for a few minutes (it is valid
   * for an hour): signing an RS256 token per notification would cost this server more than the
   * notification costs Bouncer, which checks every token anyway.
   */
  private notificationToken(): Promise<string> {
    const now = Date.now();
    if (!this.token || this.token.until <= now) {
      this.token = { value: this.opts.callsIssuer.sign({ iss: this.opts.callsTokenIssuer, aud: this.opts.appId }), until: now + 5 * 60_000 };
    }
    return this.token.value;
  }
}

/** Requests a fault applies to: a method and a path; `times` of them (then the entry is spent), or every one. */
/** The options of an onlineMeeting that a lockdown changes, as Graph names them. */
export interface MeetingOptions {
  lobbyBypassSettings: { scope: string; isDialInBypassEnabled: boolean | null };
  allowAttendeeToEnableMic: boolean | null;
  allowAttendeeToEnableCamera: boolean | null;
  allowMeetingChat: string;
  allowedPresenters: string;
}

interface SandboxOnlineMeeting {
  joinWebUrl: string;
  threadId: string;
  organizer: SeedPerson;
  id: string;
  options: MeetingOptions;
}

const DEFAULT_MEETING_OPTIONS: MeetingOptions = {
  lobbyBypassSettings: { scope: 'organization', isDialInBypassEnabled: false },
  allowAttendeeToEnableMic: true,
  allowAttendeeToEnableCamera: true,
  allowMeetingChat: 'enabled',
  allowedPresenters: 'everyone',
};
const MEETING_OPTION_KEYS = Object.keys(DEFAULT_MEETING_OPTIONS) as Array<keyof MeetingOptions>;

/** A user's meetings, and one of them: `/users/{id}/onlineMeetings[/{meetingId}]`. */
const ONLINE_MEETINGS_PATH = /^\/users\/[^/]+\/onlineMeetings(?:\/[^/]+)?$/;

// The enums of graph_v1.0.onlinemeetings.yml (lobbyBypassScope, meetingChatMode, onlineMeetingPresenters).
const LOBBY_SCOPES = ['organizer', 'organization', 'organizationAndFederated', 'everyone', 'invited', 'organizationExcludingGuests'];
const CHAT_MODES = ['enabled', 'disabled', 'limited'];
const PRESENTERS = ['everyone', 'organization', 'roleIsPresenter', 'organizer'];
/** Other onlineMeeting fields an update may carry, taken as they come (the sandbox keeps none of them). */
const OTHER_WRITABLE = ['subject', 'startDateTime', 'endDateTime', 'isEntryExitAnnounced', 'allowTeamworkReactions', 'allowParticipantsToChangeName', 'recordAutomatically'];

/** Why a PATCH body is not an onlineMeeting update Graph takes, or undefined when it is. */
function meetingPatchProblem(body: unknown): string | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'the body must be an onlineMeeting object';
  const b = body as Record<string, unknown>;
  const nullableBoolean = (v: unknown) => v === null || typeof v === 'boolean';
  for (const [key, value] of Object.entries(b)) {
    switch (key) {
      case 'lobbyBypassSettings': {
        if (!value || typeof value !== 'object' || Array.isArray(value)) return 'lobbyBypassSettings must be an object';
        for (const [k, v] of Object.entries(value)) {
          if (k === 'scope' && !(typeof v === 'string' && LOBBY_SCOPES.includes(v))) return `lobbyBypassSettings.scope: '${String(v)}' is not a lobbyBypassScope`;
          if (k === 'isDialInBypassEnabled' && !nullableBoolean(v)) return 'lobbyBypassSettings.isDialInBypassEnabled must be a boolean';
          if (k !== 'scope' && k !== 'isDialInBypassEnabled') return `lobbyBypassSettings has no property '${k}'`;
        }
        break;
      }
      case 'allowAttendeeToEnableMic':
      case 'allowAttendeeToEnableCamera':
        if (!nullableBoolean(value)) return `${key} must be a boolean`;
        break;
      case 'allowMeetingChat':
        if (!(typeof value === 'string' && CHAT_MODES.includes(value))) return `allowMeetingChat: '${String(value)}' is not a meetingChatMode`;
        break;
      case 'allowedPresenters':
        if (!(typeof value === 'string' && PRESENTERS.includes(value))) return `allowedPresenters: '${String(value)}' is not an onlineMeetingPresenters`;
        break;
      default:
        if (!OTHER_WRITABLE.includes(key)) return `onlineMeeting has no writable property '${key}'`;
    }
  }
  return undefined;
}

function onlineMeetingId(organizerId: string, threadId: string): string {
  return Buffer.from(`1*${organizerId}*0**${threadId}`).toString('base64url');
}

/** An onlineMeeting as Graph answers it (onlinemeeting-get), its options included. */
function meetingJson(o: SandboxOnlineMeeting): Record<string, unknown> {
  return {
    id: o.id,
    joinWebUrl: o.joinWebUrl,
    subject: null,
    participants: {
      organizer: {
        upn: null,
        role: 'presenter',
        identity: { user: { id: o.organizer.userId, displayName: null, tenantId: o.organizer.tenantId, identityProvider: 'AAD' } },
      },
      attendees: [],
    },
    ...structuredClone(o.options),
  };
}

export interface SandboxGraphOptions {
  tokens: TokenServer;
  callsIssuer: JwtIssuer;
  callsTokenIssuer: string;
  /** The app (client) id: audience of notifications, identity of the bot participant. */
  appId: string;
  contract?: RequestContract;
  /** The onlineMeetings document, for `/users/{id}/onlineMeetings…` requests. */
  onlineMeetingsContract?: RequestContract;
}

function participantJson(person: SeedPerson): GraphParticipantJson {
  return {
    '@odata.type': '#microsoft.graph.participant',
    id: randomUUID(),
    info: {
      '@odata.type': '#microsoft.graph.participantInfo',
      identity: {
        '@odata.type': '#microsoft.graph.identitySet',
        user: {
          '@odata.type': '#microsoft.graph.identity',
          id: person.userId,
          displayName: person.displayName,
          tenantId: person.tenantId,
        },
      },
      languageId: 'en-US',
    },
    mediaStreams: [
      { '@odata.type': '#microsoft.graph.mediaStream', mediaType: 'audio', sourceId: '1', direction: 'sendReceive', serverMuted: false },
    ],
    isMuted: false,
    isInLobby: false,
  };
}

/** Graph's error body: https://learn.microsoft.com/graph/errors */
export function graphError(code: string, message: string, requestId: string): unknown {
  return { error: { code, message, innerError: { 'request-id': requestId, date: new Date().toISOString() } } };
}
