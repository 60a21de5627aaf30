import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import twilio from 'twilio';
import { json, listen, takeFault, type LocalServer, type SandboxFault } from './http-util.js';
import type { RequestContract } from './contract.js';

const API_VERSION = '2010-04-01';
/** The number a participant's call dialled when a test does not say (Twilio's magic test number). */
const DEFAULT_TO = '+15005550006';

export interface SandboxTwilioOptions {
  /** 'AC' + 32 hex. */
  accountSid: string;
  authToken: string;
  /** An 'SK…' API key of the account, also accepted for HTTP Basic auth. */
  apiKey?: { sid: string; secret: string };
  /** When given, every request is checked against the vendor document; problems land in `violations`. */
  contract?: RequestContract;
}

export interface SandboxParticipant {
  callSid: string;
  label?: string;
  from: string;
  to: string;
  muted: boolean;
  hold: boolean;
}

export interface SandboxConference {
  sid: string;
  friendlyName: string;
  status: 'init' | 'in-progress' | 'completed';
  dateCreated: Date;
  participants: Map<string, SandboxParticipant>;
  /** Where conference status callbacks go (TwiML `<Conference statusCallback>`); none when absent. */
  statusCallback?: string;
}

/** A participant's announcement: the TwiML this server fetched from its AnnounceUrl, as Twilio does. */
export interface SentAnnouncement {
  conferenceSid: string;
  callSid: string;
  url: string;
  method: 'GET' | 'POST';
  /** The answer's status (0 when the request failed) and body. */
  status: number;
  contentType?: string;
  body?: string;
  /** How many REST requests this server had received when the TwiML came back (orders it among them). */
  requestsBefore: number;
  /** Whether the participant was still in the conference when it was played (not removed meanwhile). */
  played: boolean;
}

/** A participant removed through the API: who they were, to call back as (`SandboxTwilio.rejoin`). */
export interface KickedParticipant {
  conferenceSid: string;
  callSid: string;
  from: string;
  to: string;
  label?: string;
  /** When (Date.now()). */
  at: number;
}

/** A status callback this server posted, and the answer it got (0 when the request failed). */
export interface SentCallback {
  url: string;
  params: Record<string, string>;
  status: number;
}

export interface TwilioRecordedRequest {
  method: string;
  /** The raw request path (still percent-encoded), without the query. */
  path: string;
  query: Record<string, string>;
  /** The application/x-www-form-urlencoded body; empty when there was none. */
  form: Record<string, string>;
  /** The account or API key SID the request authenticated as; absent when it did not. */
  authorizedAs?: string;
}

export interface TwilioScriptedResponse {
  status: number;
  /** When absent on an error status, a Twilio error body for that status is sent. */
  body?: unknown;
  headers?: Record<string, string>;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Twilio's record of how a conference ended. */
interface Ending {
  reason: 'last-participant-kicked';
  callSid: string;
  at: Date;
}

interface CallRecord {
  sid: string;
  from: string;
  to: string;
  status: 'in-progress' | 'completed';
  dateCreated: Date;
  dateUpdated: Date;
}

/** Where an item sits in its list for good: page tokens keep working after items go away. */
interface Placement {
  rank: number[];
  dateCreated: Date;
}

/**
 * A local server speaking Twilio's REST API 2010-04-01 for conferences, their participants and
 * calls, faithfully enough for the real `twilio` SDK (its RequestClient pointed at `url`):
 * HTTP Basic auth with the account's auth token or an API key, RFC 2822 dates, relative paging
 * URIs with `PageToken`, percent-decoded participant labels, 204 on kick, participant updates (mute,
 * announcements fetched from their AnnounceUrl) and Twilio's error JSON.
 * Kicking a conference's last participant completes the conference, as Twilio does.
 * https://www.twilio.com/docs/voice/api/conference-participant-resource
 */
export class SandboxTwilio {
  readonly requests: TwilioRecordedRequest[] = [];
  readonly violations: string[] = [];
  private readonly conferences = new Map<string, SandboxConference>();
  private readonly endings = new Map<string, Ending>();
  private readonly calls = new Map<string, CallRecord>();
  private readonly placements = new Map<string, Placement>();
  private readonly scripts: Array<{ method: string; path: RegExp; responses: TwilioScriptedResponse[] }> = [];
  readonly callbacksSent: SentCallback[] = [];
  /** Participants removed through the API (DELETE), in order, so that they can call back (`rejoin`). */
  readonly kicked: KickedParticipant[] = [];
  /** Announcements fetched from participants' AnnounceUrls, in the order they came back. */
  readonly announcements: SentAnnouncement[] = [];
  /**
   * Requests matching one of these are taken and never answered (with `handle`, Twilio acts on them
   * first: a DELETE removes the person); `times` of them, or all while the entry is here.
   */
  readonly hang: Array<SandboxFault & { handle?: boolean }> = [];
  /** Requests matching one of these are acted on, then their connection is closed with no answer. */
  readonly dropAnswer: SandboxFault[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private seq = 0;
  private callbackSeq = 0;

  private constructor(
    private readonly server: LocalServer,
    private readonly opts: SandboxTwilioOptions,
  ) {}

  static async start(opts: SandboxTwilioOptions): Promise<SandboxTwilio> {
    const ref: { self?: SandboxTwilio } = {};
    const server = await listen((req, res) => {
      const me = ref.self!;
      const method = (req.method ?? 'GET').toUpperCase();
      const [path, search = ''] = splitOnce(req.url, '?');
      const query = Object.fromEntries(new URLSearchParams(search));
      const form = req.body ? Object.fromEntries(new URLSearchParams(req.body)) : {};
      const authorizedAs = me.authenticate(req.headers.authorization);
      me.requests.push({ method, path, query, form, ...(authorizedAs ? { authorizedAs } : {}) });
      if (me.opts.contract) {
        me.violations.push(...me.opts.contract.check({ method, path, headers: req.headers, body: req.body ? form : undefined }));
      }
      // Faults apply to authenticated requests only, as Twilio would have had to read them first.
      // A Twilio that takes the request and never answers (until the server closes); with `handle`,
      // after acting on it.
      const hung = authorizedAs ? takeFault(me.hang, method, path) : undefined;
      if (hung && !hung.handle) return;
      // A connection closed before the answer, after Twilio acted on the request.
      const dropped = authorizedAs ? takeFault(me.dropAnswer, method, path) : undefined;
      const reply = me.handle(method, path, query, authorizedAs, form);
      if (hung) return;
      if (dropped) {
        req.socket.destroy();
        return;
      }
      send(res, reply);
    });
    ref.self = new SandboxTwilio(server, opts);
    return ref.self;
  }

  /** e.g. http://127.0.0.1:PORT, no trailing slash: what replaces https://api.twilio.com. */
  get url(): string {
    return this.server.url;
  }

  /** A conference of this account; `sid` ('CF' + 32 hex) is generated when absent. */
  addConference(c: {
    friendlyName: string;
    status?: SandboxConference['status'];
    sid?: string;
    dateCreated?: Date;
    statusCallback?: string;
  }): SandboxConference {
    const conference: SandboxConference = {
      sid: c.sid ?? sid('CF'),
      friendlyName: c.friendlyName,
      status: c.status ?? 'in-progress',
      dateCreated: c.dateCreated ?? new Date(),
      participants: new Map(),
      ...(c.statusCallback ? { statusCallback: c.statusCallback } : {}),
    };
    if (this.conferences.has(conference.sid)) throw new Error(`conference ${conference.sid} exists`);
    this.conferences.set(conference.sid, conference);
    // Conferences list newest first; among equal dates, the later added first.
    const rank = [-conference.dateCreated.getTime(), -++this.seq];
    this.placements.set(conference.sid, { rank, dateCreated: conference.dateCreated });
    return conference;
  }

  /** Someone's call joins a conference; `callSid` ('CA' + 32 hex) is generated when absent. */
  addParticipant(conferenceSid: string, p: { from: string; to?: string; label?: string; callSid?: string }): SandboxParticipant {
    const conference = this.conferences.get(conferenceSid);
    if (!conference) throw new Error(`no conference ${conferenceSid}`);
    if (conference.status === 'completed') throw new Error(`conference ${conferenceSid} is completed`);
    const participant: SandboxParticipant = {
      callSid: p.callSid ?? sid('CA'),
      ...(p.label !== undefined ? { label: p.label } : {}),
      from: p.from,
      to: p.to ?? DEFAULT_TO,
      muted: false,
      hold: false,
    };
    if (this.calls.get(participant.callSid)?.status === 'in-progress') throw new Error(`call ${participant.callSid} is already live`);
    if (p.label !== undefined && [...conference.participants.values()].some((q) => q.label === p.label)) {
      throw new Error(`label ${p.label} is taken in ${conferenceSid}`);
    }
    const now = new Date();
    conference.participants.set(participant.callSid, participant);
    this.calls.set(participant.callSid, {
      sid: participant.callSid,
      from: participant.from,
      to: participant.to,
      status: 'in-progress',
      dateCreated: now,
      dateUpdated: now,
    });
    // Participants list in the order they joined.
    this.placements.set(participant.callSid, { rank: [++this.seq], dateCreated: now });
    return participant;
  }

  /**
   * Someone's call joins a live conference and Twilio tells Bouncer, as a conference with
   * `statusCallbackEvent="join"` does: the participant-join status callback, signed, with the fields
   * Twilio documents for it. Resolves once that callback was answered, with Bouncer's status (0:
   * not delivered, or the conference has no status callback).
   * https://www.twilio.com/docs/voice/twiml/conference#attributes-status-callback-parameters
   */
  async join(conferenceSid: string, p: { from: string; to?: string; label?: string; callSid?: string }): Promise<{ participant: SandboxParticipant; status: number }> {
    const participant = this.addParticipant(conferenceSid, p);
    const conference = this.conferences.get(conferenceSid)!;
    const sent = await this.postCallback(conference, 'participant-join', {
      CallSid: participant.callSid,
      ...(participant.label !== undefined ? { ParticipantLabel: participant.label } : {}),
      Muted: 'false',
      Hold: 'false',
      Coaching: 'false',
      EndConferenceOnExit: 'false',
      StartConferenceOnEnter: 'true',
    });
    return { participant, status: sent?.status ?? 0 };
  }

  /**
   * A caller removed from a conference calls back: a new call (a new CallSid) from the same number,
   * under the same label, joining as `join` does.
   */
  async rejoin(callSid: string): Promise<{ participant: SandboxParticipant; status: number }> {
    const before = this.kicked.find((k) => k.callSid === callSid);
    if (!before) throw new Error(`nobody was removed as ${callSid}`);
    return this.join(before.conferenceSid, { from: before.from, to: before.to, ...(before.label !== undefined ? { label: before.label } : {}) });
  }

  conference(sid: string): SandboxConference | undefined {
    return this.conferences.get(sid);
  }

  /** The next matching requests (after authentication) get these answers, in order, before the normal behaviour. */
  script(method: string, path: RegExp, responses: TwilioScriptedResponse[]): void {
    this.scripts.push({ method: method.toUpperCase(), path, responses: [...responses] });
  }

  /** Resolves when every status callback posted so far has been answered. */
  async settle(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  async close(): Promise<void> {
    await this.settle();
    await this.server.close();
  }

  private authenticate(header: string | undefined): string | undefined {
    const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
    if (!m) return undefined;
    const [user, password = ''] = splitOnce(Buffer.from(m[1]!, 'base64').toString('utf8'), ':');
    if (user === this.opts.accountSid && password === this.opts.authToken) return user;
    if (this.opts.apiKey && user === this.opts.apiKey.sid && password === this.opts.apiKey.secret) return user;
    return undefined;
  }

  private handle(method: string, path: string, query: Record<string, string>, authorizedAs: string | undefined, form: Record<string, string> = {}): Reply {
    if (!authorizedAs) {
      return { ...twilioError(401, 20003, 'Authenticate'), headers: { 'www-authenticate': 'Basic realm="Twilio API"' } };
    }
    const scripted = this.takeScripted(method, path);
    if (scripted) {
      const { status } = scripted;
      const body = scripted.body ?? (status >= 400 ? twilioError(status, defaultCode(status), 'Scripted error').body : undefined);
      return { status, body, headers: scripted.headers };
    }
    const notFound = twilioError(404, 20404, `The requested resource ${path} was not found`);
    const m = /^\/2010-04-01\/Accounts\/([^/]+)\/(.+)$/.exec(path);
    if (!m || m[1] !== this.opts.accountSid) return notFound;
    const rest = m[2]!;
    let r: RegExpExecArray | null;
    try {
      if (method === 'GET' && rest === 'Conferences.json') return this.listConferences(query);
      if (method === 'GET' && (r = /^Conferences\/([^/]+)\.json$/.exec(rest))) {
        const conference = this.conferences.get(decodeURIComponent(r[1]!));
        return conference ? { status: 200, body: this.conferenceJson(conference) } : notFound;
      }
      if (method === 'GET' && (r = /^Conferences\/([^/]+)\/Participants\.json$/.exec(rest))) {
        const conference = this.conferences.get(decodeURIComponent(r[1]!));
        return conference ? this.listParticipants(conference, query) : notFound;
      }
      if ((method === 'GET' || method === 'DELETE') && (r = /^Conferences\/([^/]+)\/Participants\/([^/]+)\.json$/.exec(rest))) {
        const conference = this.conferences.get(decodeURIComponent(r[1]!));
        // Twilio's CallSid segment is a call SID or a label, percent-encoded once by the caller.
        const key = decodeURIComponent(r[2]!);
        const participant = conference && findParticipant(conference, key);
        if (!conference || !participant) return notFound;
        if (method === 'GET') return { status: 200, body: this.participantJson(conference, participant) };
        this.kick(conference, participant);
        return { status: 204 };
      }
      if (method === 'POST' && (r = /^Conferences\/([^/]+)\/Participants\/([^/]+)\.json$/.exec(rest))) {
        const conference = this.conferences.get(decodeURIComponent(r[1]!));
        const participant = conference && findParticipant(conference, decodeURIComponent(r[2]!));
        if (!conference || !participant) return notFound;
        this.update(conference, participant, form);
        return { status: 200, body: this.participantJson(conference, participant) };
      }
      if (method === 'GET' && (r = /^Calls\/([^/]+)\.json$/.exec(rest))) {
        const call = this.calls.get(decodeURIComponent(r[1]!));
        return call ? { status: 200, body: this.callJson(call) } : notFound;
      }
    } catch (err) {
      // A malformed percent-encoding names no resource.
      if (err instanceof URIError) return notFound;
      throw err;
    }
    return notFound;
  }

  private takeScripted(method: string, path: string): TwilioScriptedResponse | undefined {
    for (const s of this.scripts) {
      if (s.method === method && s.path.test(path) && s.responses.length > 0) return s.responses.shift();
    }
    return undefined;
  }

  /**
   * A participant update: `Muted` (with its participant-mute/-unmute callback) and `AnnounceUrl`
   * (the TwiML is fetched, signed as Twilio signs webhooks, and played to that participant only;
   * then announcement-end, or announcement-fail when the TwiML could not be had).
   * https://www.twilio.com/docs/voice/api/conference-participant-resource#update-a-participant-resource
   */
  private update(conference: SandboxConference, participant: SandboxParticipant, form: Record<string, string>): void {
    if (form.Muted !== undefined) {
      const muted = form.Muted.toLowerCase() === 'true';
      if (muted !== participant.muted) {
        participant.muted = muted;
        this.callback(conference, muted ? 'participant-mute' : 'participant-unmute', {
          CallSid: participant.callSid,
          ...(participant.label !== undefined ? { ParticipantLabel: participant.label } : {}),
          Muted: String(muted),
        });
      }
    }
    if (form.AnnounceUrl) this.announce(conference, participant, form.AnnounceUrl, form.AnnounceMethod?.toUpperCase() === 'GET' ? 'GET' : 'POST');
  }

  private announce(conference: SandboxConference, participant: SandboxParticipant, url: string, method: 'GET' | 'POST'): void {
    const params: Record<string, string> = { AccountSid: this.opts.accountSid, CallSid: participant.callSid, ConferenceSid: conference.sid };
    const target = method === 'GET' ? `${url}${url.includes('?') ? '&' : '?'}${new URLSearchParams(params).toString()}` : url;
    const fetchIt = async () => {
      const sent: SentAnnouncement = { conferenceSid: conference.sid, callSid: participant.callSid, url, method, status: 0, requestsBefore: 0, played: false };
      try {
        const res = await fetch(target, {
          method,
          headers: {
            'x-twilio-signature': twilio.getExpectedTwilioSignature(this.opts.authToken, target, method === 'POST' ? params : {}),
            ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          },
          body: method === 'POST' ? new URLSearchParams(params).toString() : undefined,
        });
        sent.status = res.status;
        sent.contentType = res.headers.get('content-type') ?? undefined;
        sent.body = await res.text();
      } catch {
        sent.status = 0;
      }
      sent.requestsBefore = this.requests.length;
      const twiml = sent.status === 200 && /<Response>[\s\S]*<\/Response>/.test(sent.body ?? '');
      sent.played = twiml && conference.participants.get(participant.callSid) === participant;
      this.announcements.push(sent);
      this.callback(conference, twiml ? 'announcement-end' : 'announcement-fail', {
        CallSid: participant.callSid,
        ...(participant.label !== undefined ? { ParticipantLabel: participant.label } : {}),
        AnnounceUrl: url,
        ...(twiml ? {} : { ReasonAnnouncementFailed: `The announcement could not be fetched (${sent.status})` }),
      });
    };
    const p = fetchIt().finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private kick(conference: SandboxConference, participant: SandboxParticipant): void {
    const now = new Date();
    conference.participants.delete(participant.callSid);
    this.kicked.push({
      conferenceSid: conference.sid,
      callSid: participant.callSid,
      from: participant.from,
      to: participant.to,
      ...(participant.label !== undefined ? { label: participant.label } : {}),
      at: Date.now(),
    });
    const call = this.calls.get(participant.callSid);
    if (call) Object.assign(call, { status: 'completed', dateUpdated: now });
    this.callback(conference, 'participant-leave', {
      CallSid: participant.callSid,
      // Field names and values as Twilio documents them for participant-leave (ParticipantLabel,
      // ParticipantCallStatus, ReasonParticipantLeft: a removal through the API).
      ...(participant.label !== undefined ? { ParticipantLabel: participant.label } : {}),
      ParticipantCallStatus: 'completed',
      ReasonParticipantLeft: 'participant_updated_via_api',
    });
    if (conference.participants.size === 0 && conference.status === 'in-progress') {
      conference.status = 'completed';
      this.endings.set(conference.sid, { reason: 'last-participant-kicked', callSid: participant.callSid, at: now });
      this.callback(conference, 'conference-end', { CallSidEndingConference: participant.callSid, ReasonConferenceEnded: 'last-participant-kicked' });
    }
  }

  /**
   * A conference status callback, as Twilio posts it: a form, signed with the account's auth token
   * over the URL and the sorted parameters (X-Twilio-Signature), one after the other in order.
   * https://www.twilio.com/docs/voice/api/conference-resource#conference-status-callback
   */
  private callback(conference: SandboxConference, event: string, extra: Record<string, string>): void {
    void this.postCallback(conference, event, extra);
  }

  /** `callback`, resolving once it was answered (undefined: the conference has no status callback). */
  private postCallback(conference: SandboxConference, event: string, extra: Record<string, string>): Promise<SentCallback | undefined> {
    const url = conference.statusCallback;
    if (!url) return Promise.resolve(undefined);
    const params: Record<string, string> = {
      AccountSid: this.opts.accountSid,
      ConferenceSid: conference.sid,
      FriendlyName: conference.friendlyName,
      StatusCallbackEvent: event,
      SequenceNumber: String(++this.callbackSeq),
      Timestamp: rfc2822(new Date()),
      ...extra,
    };
    const previous = [...this.inFlight].at(-1);
    const post = async () => {
      await previous;
      let status = 0;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': twilio.getExpectedTwilioSignature(this.opts.authToken, url, params),
          },
          body: new URLSearchParams(params).toString(),
        });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        // Twilio records an unreachable callback URL in its debugger and carries on; so does this.
        status = 0;
      }
      const sent: SentCallback = { url, params, status };
      this.callbacksSent.push(sent);
      return sent;
    };
    const answered = post();
    const p: Promise<void> = answered.then(() => undefined).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    return answered;
  }

  private listConferences(query: Record<string, string>): Reply {
    const filters: Array<[string, string]> = [];
    let items = [...this.conferences.values()];
    // Since 2026-09-30 Twilio reads only in-progress conferences unless `Status` says otherwise
    // (twilio-node 6.2 ConferenceListInstanceOptions.status).
    if (query.Status === undefined) items = items.filter((c) => c.status === 'in-progress');
    for (const name of ['FriendlyName', 'Status', 'DateCreated', 'DateCreated<', 'DateCreated>'] as const) {
      const value = query[name];
      if (value === undefined) continue;
      filters.push([name, value]);
      if (name === 'FriendlyName') items = items.filter((c) => c.friendlyName === value);
      else if (name === 'Status') items = items.filter((c) => c.status === value);
      else {
        const day = value.slice(0, 10);
        const cmp = (c: SandboxConference) => c.dateCreated.toISOString().slice(0, 10).localeCompare(day);
        // Twilio's DateCreated< and DateCreated> are "on or before" and "on or after".
        items = items.filter((c) => (name === 'DateCreated' ? cmp(c) === 0 : name === 'DateCreated<' ? cmp(c) <= 0 : cmp(c) >= 0));
      }
    }
    const base = `/${API_VERSION}/Accounts/${this.opts.accountSid}/Conferences.json`;
    return this.page('conferences', base, filters, query, items, (c) => c.sid, (c) => this.conferenceJson(c));
  }

  private listParticipants(conference: SandboxConference, query: Record<string, string>): Reply {
    const filters: Array<[string, string]> = [];
    let items = [...conference.participants.values()];
    for (const name of ['Muted', 'Hold'] as const) {
      const value = query[name];
      if (value === undefined) continue;
      filters.push([name, value]);
      const wanted = value.toLowerCase() === 'true';
      items = items.filter((p) => (name === 'Muted' ? p.muted : p.hold) === wanted);
    }
    const base = `/${API_VERSION}/Accounts/${this.opts.accountSid}/Conferences/${conference.sid}/Participants.json`;
    return this.page('participants', base, filters, query, items, (p) => p.callSid, (p) => this.participantJson(conference, p));
  }

  /**
   * Twilio's list envelope. The position comes from `PageToken` only: `PA<sid>` is the items after
   * that one, `PB<sid>` the page before it. `Page` is "simply for client state" (the document) and
   * echoed back; a `Page` above 0 without a token is refused as Twilio does (400, code 70002).
   */
  private page<T>(
    key: string,
    base: string,
    filters: Array<[string, string]>,
    query: Record<string, string>,
    unsorted: T[],
    sidOf: (item: T) => string,
    render: (item: T) => unknown,
  ): Reply {
    const pageSize = query.PageSize === undefined ? 50 : Number(query.PageSize);
    const page = query.Page === undefined ? 0 : Number(query.Page);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      return twilioError(400, 70002, 'PageSize must be an integer from 1 to 1000');
    }
    if (!Number.isInteger(page) || page < 0) return twilioError(400, 70002, 'Page must be a non-negative integer');
    const rankOf = (s: string) => this.placements.get(s)?.rank;
    const items = [...unsorted].sort((a, b) => compareRanks(rankOf(sidOf(a))!, rankOf(sidOf(b))!));
    const token = query.PageToken;
    const anchor = token && /^P[AB]/.test(token) ? rankOf(token.slice(2)) : undefined;
    if (token !== undefined && !anchor) return twilioError(400, 70002, 'Invalid PageToken');
    if (token === undefined && page > 0) return twilioError(400, 70002, 'Paged requests must include a PageToken');
    let slice: T[];
    if (anchor && token!.startsWith('PA')) slice = items.filter((i) => compareRanks(rankOf(sidOf(i))!, anchor) > 0).slice(0, pageSize);
    else if (anchor) slice = items.filter((i) => compareRanks(rankOf(sidOf(i))!, anchor) < 0).slice(-pageSize);
    else slice = items.slice(0, pageSize);

    const uri = (p: number, pageToken?: string) => {
      const params: Array<[string, string]> = [...filters, ['PageSize', String(pageSize)], ['Page', String(p)]];
      if (pageToken) params.push(['PageToken', pageToken]);
      return `${base}?${params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
    };
    const first = slice[0];
    const last = slice.at(-1);
    const hasAfter = last !== undefined && items.indexOf(last) < items.length - 1;
    const hasBefore = first !== undefined && items.indexOf(first) > 0;
    const start = page * pageSize;
    return {
      status: 200,
      body: {
        [key]: slice.map(render),
        first_page_uri: uri(0),
        next_page_uri: hasAfter ? uri(page + 1, `PA${sidOf(last)}`) : null,
        previous_page_uri: hasBefore && page > 0 ? uri(page - 1, `PB${sidOf(first)}`) : null,
        page,
        page_size: pageSize,
        start,
        end: slice.length === 0 ? start : start + slice.length - 1,
        uri: uri(page, token),
      },
    };
  }

  private conferenceJson(c: SandboxConference): unknown {
    const uri = `/${API_VERSION}/Accounts/${this.opts.accountSid}/Conferences/${c.sid}`;
    const ended = c.status === 'completed' ? this.endings.get(c.sid) : undefined;
    return {
      account_sid: this.opts.accountSid,
      date_created: rfc2822(c.dateCreated),
      date_updated: rfc2822(ended?.at ?? c.dateCreated),
      api_version: API_VERSION,
      friendly_name: c.friendlyName,
      region: 'us1',
      sid: c.sid,
      status: c.status,
      uri: `${uri}.json`,
      subresource_uris: { participants: `${uri}/Participants.json`, recordings: `${uri}/Recordings.json` },
      reason_conference_ended: ended?.reason ?? null,
      call_sid_ending_conference: ended?.callSid ?? null,
    };
  }

  private participantJson(c: SandboxConference, p: SandboxParticipant): unknown {
    const joined = rfc2822(this.placements.get(p.callSid)!.dateCreated);
    return {
      account_sid: this.opts.accountSid,
      call_sid: p.callSid,
      label: p.label ?? null,
      call_sid_to_coach: null,
      coaching: false,
      conference_sid: c.sid,
      date_created: joined,
      date_updated: joined,
      end_conference_on_exit: false,
      muted: p.muted,
      hold: p.hold,
      start_conference_on_enter: true,
      status: 'connected',
      queue_time: null,
      uri: `/${API_VERSION}/Accounts/${this.opts.accountSid}/Conferences/${c.sid}/Participants/${p.callSid}.json`,
    };
  }

  private callJson(call: CallRecord): unknown {
    const uri = `/${API_VERSION}/Accounts/${this.opts.accountSid}/Calls/${call.sid}`;
    const seconds = Math.round((call.dateUpdated.getTime() - call.dateCreated.getTime()) / 1000);
    return {
      sid: call.sid,
      date_created: rfc2822(call.dateCreated),
      date_updated: rfc2822(call.dateUpdated),
      parent_call_sid: null,
      account_sid: this.opts.accountSid,
      to: call.to,
      to_formatted: call.to,
      from: call.from,
      from_formatted: call.from,
      phone_number_sid: null,
      status: call.status,
      start_time: rfc2822(call.dateCreated),
      end_time: call.status === 'completed' ? rfc2822(call.dateUpdated) : null,
      duration: call.status === 'completed' ? String(seconds) : null,
      price: null,
      price_unit: 'USD',
      direction: 'inbound',
      answered_by: null,
      api_version: API_VERSION,
      forwarded_from: null,
      group_sid: null,
      caller_name: null,
      queue_time: '0',
      trunk_sid: null,
      uri: `${uri}.json`,
      subresource_uris: {
        notifications: `${uri}/Notifications.json`,
        recordings: `${uri}/Recordings.json`,
        events: `${uri}/Events.json`,
      },
    };
  }
}

/** Twilio's REST error body: https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions */
export function twilioError(status: number, code: number, message: string): { status: number; body: unknown } {
  return { status, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status } };
}

function defaultCode(status: number): number {
  return status === 401 ? 20003 : 20000 + status;
}

function send(res: ServerResponse, reply: Reply): void {
  const requestId = sid('RQ');
  json(res, reply.status, reply.status === 204 ? undefined : reply.body, { 'twilio-request-id': requestId, ...reply.headers });
}

function findParticipant(c: SandboxConference, key: string): SandboxParticipant | undefined {
  return c.participants.get(key) ?? [...c.participants.values()].find((p) => p.label === key);
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function splitOnce(s: string, sep: string): [string, string?] {
  const i = s.indexOf(sep);
  return i < 0 ? [s] : [s.slice(0, i), s.slice(i + sep.length)];
}

/** Twilio's dates: RFC 2822 in GMT, e.g. "Thu, 01 Jan 2015 10:23:45 +0000". */
function rfc2822(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

function sid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}
