import type { Activity, ConfigurationBotFrameworkAuthentication, MeetingNotificationResponse, TargetedMeetingNotification, TeamsChannelAccount } from 'botbuilder';
import { AppCredentials, AuthenticationConstants, ClaimsIdentity } from 'botframework-connector';
import { awaitWithin } from '../../app/domain/deadline.js';
import { BouncerError, UpstreamError } from '../../app/domain/errors.js';
import { keepAliveHttp, type HttpFetch, type HttpFetchResponse } from '../../http/outbound-http.js';

/** Where a proactive call goes: a chat, through the Bot Connector of its region. */
export interface ConnectorChat {
  serviceUrl: string;
  conversationId: string;
}

/** An answer the caller reads: the status, and the body as JSON (undefined when empty or not JSON). */
interface ConnectorAnswer {
  status: number;
  body: unknown;
}

/**
 * Tries of one call at most: the first and 3 retries, as botbuilder's ConnectorClient made (the
 * Azure core pipeline's default retry policy), but never past the call's deadline.
 */
const MAX_TRIES = 4;
/** The first retry's delay (doubled each time, with jitter), as the Azure pipeline's. */
const RETRY_BASE_MS = 1_000;

/**
 * The Bot Connector REST calls Bouncer makes outside a turn: proactive messages to a chat, targeted
 * meeting notifications and a chat's member lookups
 * (https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference,
 * https://learn.microsoft.com/microsoftteams/platform/apps-in-teams-meetings/meeting-apps-apis).
 *
 * Sent directly, not through CloudAdapter.continueConversationAsync and botbuilder's
 * ConnectorClient: those build a turn (context, middleware, a continuation activity) and run the
 * Azure core pipeline's dozen policies and its serializer for every message, and throw a RestError
 * for every answer that is not a success (a member lookup's 404 included), which a raid of webhook
 * kicks (each one's notice, and a chat message for every call it touches) paid in CPU per kick.
 *
 * Authentication is botbuilder's own: the credentials of the connector client botbuilder makes for
 * the chat's service URL (the configured login endpoint and scope, or the custom credentials of
 * bot-credentials.ts), whose token it caches until 5 minutes before its expiry. Every call has a
 * deadline (`deadlineAt`, token included), and a request is aborted when it passes. 429, 408, 5xx
 * and a request that got no answer are retried as botbuilder's client retried them (a Retry-After
 * honoured), as long as the deadline leaves time for the wait.
 */
export class BotConnector {
  private readonly claims: ClaimsIdentity;
  private readonly http: HttpFetch;
  /** Whether `http` is keepAliveHttp(), which takes the deadline as `timeoutMs` (one timer, no AbortSignal per request). */
  private readonly ownHttp: boolean;

  constructor(
    private readonly auth: ConfigurationBotFrameworkAuthentication,
    private readonly appId: string,
    http?: HttpFetch,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    this.http = http ?? keepAliveHttp();
    this.ownHttp = http === undefined;
    // The identity botbuilder gives a proactive turn (CloudAdapterBase.createClaimsIdentity).
    this.claims = new ClaimsIdentity([
      { type: AuthenticationConstants.AudienceClaim, value: appId },
      { type: AuthenticationConstants.AppIdClaim, value: appId },
    ]);
  }

  /** Posts a message to the chat (`POST /v3/conversations/{id}/activities`); throws an UpstreamError when it was not taken. */
  async sendToConversation(chat: ConnectorChat, activity: Partial<Activity>, deadlineAt: number): Promise<void> {
    const message: Partial<Activity> = {
      ...activity,
      channelId: 'msteams',
      serviceUrl: chat.serviceUrl,
      from: { id: `28:${this.appId}`, name: 'Bouncer' },
    };
    await this.call(chat.serviceUrl, 'POST', `/v3/conversations/${encodeURIComponent(chat.conversationId)}/activities`, 'Teams proactive message', deadlineAt, message);
  }

  /**
   * A member of the chat by their chat id (`29:…`) or Entra object id
   * (`GET /v3/conversations/{id}/members/{userId}`); undefined when the chat has no such member.
   */
  async member(chat: ConnectorChat, userId: string, deadlineAt: number): Promise<TeamsChannelAccount | undefined> {
    const path = `/v3/conversations/${encodeURIComponent(chat.conversationId)}/members/${encodeURIComponent(userId)}`;
    const answer = await this.call(chat.serviceUrl, 'GET', path, 'Teams member lookup', deadlineAt, undefined, [404]);
    if (answer.status === 404) return undefined;
    const member = answer.body as Partial<TeamsChannelAccount> | undefined;
    if (typeof member?.id !== 'string' || member.id === '') {
      throw new UpstreamError('teams', 'Teams member lookup answered without a member id', { code: 'UPSTREAM_INVALID_RESPONSE', status: answer.status });
    }
    return member as TeamsChannelAccount;
  }

  /**
   * One page of the chat's members (`GET /v3/conversations/{id}/pagedmembers?pageSize=&continuationToken=`,
   * https://learn.microsoft.com/microsoftteams/platform/bots/how-to/get-teams-context#fetch-the-roster-or-user-profile):
   * the members, and the token of the next page (absent on the last). Teams takes 50 to 500 a page.
   */
  async pagedMembers(chat: ConnectorChat, pageSize: number, continuationToken: string | undefined, deadlineAt: number): Promise<{ members: TeamsChannelAccount[]; continuationToken?: string }> {
    const query = new URLSearchParams({ pageSize: String(pageSize) });
    if (continuationToken) query.set('continuationToken', continuationToken);
    const path = `/v3/conversations/${encodeURIComponent(chat.conversationId)}/pagedmembers?${query.toString()}`;
    const answer = await this.call(chat.serviceUrl, 'GET', path, 'Teams member list', deadlineAt);
    const page = answer.body as { members?: unknown; continuationToken?: unknown } | undefined;
    if (!page || (page.members !== undefined && !Array.isArray(page.members))) {
      throw new UpstreamError('teams', 'Teams member list answered without a page of members', { code: 'UPSTREAM_INVALID_RESPONSE', status: answer.status });
    }
    const members = ((page.members as unknown[] | undefined) ?? []).filter(
      (m): m is TeamsChannelAccount => typeof (m as { id?: unknown } | null)?.id === 'string' && (m as { id: string }).id !== '',
    );
    const next = typeof page.continuationToken === 'string' && page.continuationToken !== '' ? page.continuationToken : undefined;
    return { members, continuationToken: next };
  }

  /**
   * Sends a targeted meeting notification (`POST /v1/meetings/{meetingId}/notification`): 202 when
   * every recipient was reached, else 207 with those that were not.
   */
  async meetingNotification(serviceUrl: string, meetingId: string, notification: TargetedMeetingNotification, deadlineAt: number): Promise<MeetingNotificationResponse | undefined> {
    const answer = await this.call(serviceUrl, 'POST', `/v1/meetings/${encodeURIComponent(meetingId)}/notification`, 'Teams meeting notification', deadlineAt, notification);
    return answer.body as MeetingNotificationResponse | undefined;
  }

  /** One call, retried as the class says; 2xx and `accept` resolve, anything else throws an UpstreamError. */
  private async call(serviceUrl: string, method: string, path: string, what: string, deadlineAt: number, body?: unknown, accept: number[] = []): Promise<ConnectorAnswer> {
    const url = `${serviceUrl.replace(/\/+$/, '')}${path}`;
    const text = body === undefined ? undefined : JSON.stringify(body);
    for (let tries = 1; ; tries++) {
      const left = deadlineAt - Date.now();
      const authorization = await awaitWithin(this.authorization(serviceUrl), left, 'teams', `${what} (Bot Framework token)`);
      const answer = await this.send(url, method, what, deadlineAt, authorization, text);
      if ('res' in answer && answer.status >= 200 && answer.status < 300) return { status: answer.status, body: await readJson(answer.res) };
      if ('res' in answer && accept.includes(answer.status)) return { status: answer.status, body: undefined };
      const failure = 'failure' in answer ? answer.failure : await httpFailure(what, answer.res);
      const waitMs = tries < MAX_TRIES && failure.retryable ? retryDelayMs(tries, 'res' in answer ? answer.res : undefined) : undefined;
      // A retry that could not be made before the deadline is not waited for.
      if (waitMs === undefined || Date.now() + waitMs >= deadlineAt) throw failure;
      await this.sleep(waitMs);
    }
  }

  /** Sends one request within the deadline; an answer of any status, or status 0 with why none came. */
  private async send(
    url: string,
    method: string,
    what: string,
    deadlineAt: number,
    authorization: string | undefined,
    body: string | undefined,
  ): Promise<{ status: number; res: HttpFetchResponse } | { failure: UpstreamError }> {
    const left = deadlineAt - Date.now();
    if (left <= 0) return { failure: new UpstreamError('teams', `${what}: no time left before its deadline`, { retryable: true }) };
    try {
      const res = await this.http(url, {
        method,
        headers: {
          accept: 'application/json',
          ...(authorization ? { authorization } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
        },
        body,
        ...(this.ownHttp ? { timeoutMs: left } : { signal: AbortSignal.timeout(left) }),
      });
      // The deadline covers the answer's body too: read it before the signal's time is up.
      const text = await res.text();
      const read: HttpFetchResponse = { ...res, text: () => Promise.resolve(text) };
      return { status: res.status, res: read };
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      return {
        failure: new UpstreamError('teams', `${what} ${timedOut ? `timed out after ${left} ms` : 'got no answer (not sent, or the connection was closed)'}`, {
          retryable: true,
          cause: err,
        }),
      };
    }
  }

  /**
   * The Authorization header botbuilder would send to this service URL: a token from the
   * credentials of its (reused) connector client, cached by botbuilder. None without an app id
   * (local mode), as botbuilder sends none.
   */
  private async authorization(serviceUrl: string): Promise<string | undefined> {
    if (!this.appId) return undefined;
    const client = await this.auth.createConnectorFactory(this.claims).create(serviceUrl, undefined);
    const credentials = client.credentials;
    if (!(credentials instanceof AppCredentials)) {
      throw new BouncerError('CONFIG_INVALID', 'the Bot Framework credentials give no token');
    }
    return `Bearer ${await credentials.getToken()}`;
  }
}

/** The failure an answer that is neither a success nor accepted stands for. */
async function httpFailure(what: string, res: HttpFetchResponse): Promise<UpstreamError> {
  const body = await readJson(res);
  const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
  // The Bot Connector's error code goes to the log only: a chat reply names no Teams code.
  const vendorCode = typeof code === 'string' ? code : undefined;
  return new UpstreamError('teams', `${what} failed: ${res.status}${vendorCode ? ` ${vendorCode}` : ''}`, {
    status: res.status,
    requestId: res.headers.get('x-ms-request-id') ?? undefined,
    // What botbuilder's client retried: throttling, a timeout, a server error (but 501 and 505).
    retryable: res.status === 429 || res.status === 408 || (res.status >= 500 && res.status !== 501 && res.status !== 505),
  });
}

/** How long to wait before try `tries + 1`: Retry-After when given, else exponential with jitter. */
function retryDelayMs(tries: number, res: HttpFetchResponse | undefined): number {
  const retryAfter = res?.headers.get('retry-after');
  if (retryAfter) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const at = Date.parse(retryAfter);
    if (Number.isFinite(at)) return Math.max(0, at - Date.now());
  }
  const exponential = RETRY_BASE_MS * 2 ** (tries - 1);
  return exponential * (0.8 + Math.random() * 0.4);
}

async function readJson(res: HttpFetchResponse): Promise<unknown> {
  const text = await res.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
