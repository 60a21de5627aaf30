import { CloudAdapter, ConfigurationBotFrameworkAuthentication, type Activity, type InvokeResponse, type TurnContext } from 'botbuilder';
import type { AuthenticateRequestResult } from 'botframework-connector';
import { BotConnector } from './bot-connector.js';
import { ReusingBotFrameworkAuthentication } from './reusing-auth.js';
import { decodeJwt } from 'jose';
import type { Request, Response } from 'restify';
import { z } from 'zod';
import type { CommandRegistry } from '../../app/commands/command.js';
import { awaitWithin } from '../../app/domain/deadline.js';
import { asCodedError } from '../../app/domain/errors.js';
import type { Moderation } from '../../app/moderation/moderation.js';
import type { ChatNotifier } from '../../app/ports/chat-notifier.js';
import type { ParticipantNotifier } from '../../app/ports/participant-notifier.js';
import type { Logger } from '../../app/ports/runtime.js';
import { httpProblem, PROBLEM_CONTENT_TYPE, type HttpProblemType } from '../../http/problem.js';
import type { Route } from '../../http/route.js';
import { customLoginCredentialsFactory } from './bot-credentials.js';
import { TeamsChatNotifier } from './chat-notifier.js';
import { noticePageRoute } from './notice-page.js';
import { TeamsParticipantNotifier } from './participant-notifier.js';
import { Renderer, type RenderContext } from './render-reply.js';
import { MemberPrefetch } from './member-prefetch.js';
import { TeamsBot } from './teams-bot.js';
import { TeamsLookupCaches } from './teams-directory.js';

/** The bot registration, in botbuilder's own key names where botbuilder reads them. */
export interface TeamsChannelConfig {
  appId: string;
  appPassword: string;
  appTenantId: string;
  appType: 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI';
  /** Endpoint overrides passed straight to ConfigurationBotFrameworkAuthentication. */
  endpointOverrides: Record<string, string>;
}

export interface TeamsChannel {
  /** POST /api/messages, authenticated by the Bot Framework adapter; GET the private notices' page. */
  routes: Route[];
  /** Proactive messages to Teams chats. */
  notifier: ChatNotifier;
}

const MAX_BODY_BYTES = 512 * 1024;

/**
 * An activity, as far as it is read before its token is checked: an object with a type (what
 * botbuilder itself requires).
 * https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference#activity-object
 */
const activityShape = z.looseObject({ type: z.string().min(1) });

/**
 * What an authenticated activity needs for a turn to run: the connector to answer (serviceUrl)
 * and a conversation. The Bot Framework sends both on every activity.
 */
const turnShape = z.looseObject({
  serviceUrl: z.string().min(1),
  conversation: z.looseObject({ id: z.string().min(1) }),
});

/** CloudAdapter, with a turn run for a request this channel has already authenticated. */
class TeamsAdapter extends CloudAdapter {
  runAuthenticated(auth: AuthenticateRequestResult, activity: Activity, logic: (context: TurnContext) => Promise<void>): Promise<InvokeResponse | undefined> {
    return this.processActivity(auth, activity, logic);
  }
}

/** The Bot Framework connection of the Teams channel: authentication and the adapter (opaque outside this folder). */
export interface TeamsConnection {
  readonly config: TeamsChannelConfig;
  /** @internal */
  readonly auth: ConfigurationBotFrameworkAuthentication;
  /** @internal */
  readonly adapter: TeamsAdapter;
  /** @internal The chats' members and meetings, known to the turns and the participant notifier alike. */
  readonly caches: TeamsLookupCaches;
  /** @internal The Bot Connector calls made outside a turn (notices, meeting notifications), with the adapter's authentication. */
  readonly connector: BotConnector;
  /** @internal The chats' member lists read in the background: one listing per chat at a time, for the turns and the participant notifier alike. */
  readonly prefetch: MemberPrefetch;
}

/**
 * Connects to the Bot Framework: what the channel and the participant notifier share. Made first,
 * so that the moderation app can be given the notifier before the channel is built around it.
 */
export function connectTeams(
  config: TeamsChannelConfig,
  deps: {
    logger: Logger;
    upstreamTimeoutMs: number;
    /** Tracks the member listings read in the background, so that a shutdown waits for them. */
    background: { track(work: Promise<unknown>): void };
  },
): TeamsConnection {
  const { logger } = deps;
  const auth = new ReusingBotFrameworkAuthentication(
    {
      MicrosoftAppId: config.appId,
      MicrosoftAppPassword: config.appPassword,
      MicrosoftAppTenantId: config.appTenantId,
      MicrosoftAppType: config.appType,
      ...config.endpointOverrides,
    },
    customLoginCredentialsFactory({ appId: config.appId, appPassword: config.appPassword, loginUrl: config.endpointOverrides.ToChannelFromBotLoginUrl }),
  );
  const adapter = new TeamsAdapter(auth);
  adapter.onTurnError = async (context, error) => {
    const coded = asCodedError(error);
    logger.error({ err: coded, code: coded.code, conversationId: context.activity.conversation?.id }, 'unhandled error in turn');
    try {
      await awaitWithin(
        context.sendActivity('Sorry, something went wrong on my side and nothing was done. Please try again.'),
        deps.upstreamTimeoutMs,
        'teams',
        'Teams reply',
      );
    } catch (sendErr) {
      logger.error({ err: sendErr }, 'could not tell the user about the error');
    }
  };
  const caches = new TeamsLookupCaches();
  const connector = new BotConnector(auth, config.appId);
  const prefetch = new MemberPrefetch({ connector, members: caches.members, timeoutMs: deps.upstreamTimeoutMs, logger, background: deps.background });
  return { config, auth, adapter, caches, connector, prefetch };
}

/**
 * Private notices to one person in a Teams meeting (targeted meeting notifications), through the
 * connection's Bot Connector client; their page is served under `publicBaseUrl` (the channel's notice page route).
 */
export function teamsParticipantNotifier(
  connection: TeamsConnection,
  deps: { publicBaseUrl?: string; upstreamTimeoutMs: number; logger: Logger },
): ParticipantNotifier {
  return new TeamsParticipantNotifier(connection.connector, deps.publicBaseUrl, deps.upstreamTimeoutMs, deps.logger, connection.caches.members, connection.prefetch, connection.caches.addresses);
}

/**
 * Proactive messages to Teams chats through the connection's Bot Connector client, each send with the Bot
 * Connector deadline: for the mod-log channels, which exist before the channel is built around the
 * moderation app (the channel's own `notifier` is the same kind).
 */
export function teamsChatNotifier(connection: TeamsConnection, deps: { render: RenderContext; upstreamTimeoutMs: number; logger: Logger }): ChatNotifier {
  return new TeamsChatNotifier(connection.connector, new Renderer(deps.render), deps.logger, deps.upstreamTimeoutMs, connection.caches.addresses);
}

/**
 * The Teams channel: the only folder that imports botbuilder or botframework-*. Moving to another
 * Teams SDK means rewriting this folder.
 */
export function createTeamsChannel(deps: {
  connection: TeamsConnection;
  moderation: Moderation;
  commands: CommandRegistry;
  render: RenderContext;
  logger: Logger;
  /** CHAT_REPLY_WAIT_MS: how long a turn waits for its command before answering "working on it". */
  replyWaitMs: number;
  /** UPSTREAM_TIMEOUT_MS: the deadline of each Bot Connector call. */
  upstreamTimeoutMs: number;
  /** Tracks commands that outlast their turn, so that a shutdown waits for them. */
  background: { track(work: Promise<unknown>): void };
  /** JOIN_ON_MEETING_START: join a chat's meeting call when Teams says the meeting started. */
  joinOnMeetingStart: boolean;
}): TeamsChannel {
  const { logger } = deps;
  const { config, auth, adapter, caches, prefetch } = deps.connection;
  const render = new Renderer(deps.render);
  const bot = new TeamsBot({
    caches,
    prefetch,
    moderation: deps.moderation,
    commands: deps.commands,
    render,
    logger,
    replyWaitMs: deps.replyWaitMs,
    joinOnMeetingStart: deps.joinOnMeetingStart,
    upstreamTimeoutMs: deps.upstreamTimeoutMs,
    background: deps.background,
    followUp: async (reference, replaceId, message) => {
      try {
        await adapter.continueConversationAsync(config.appId, reference, async (context) => {
          const within = <T>(call: Promise<T>, what: string) => awaitWithin(call, deps.upstreamTimeoutMs, 'teams', what);
          if (replaceId) {
            try {
              await within(context.updateActivity({ ...message, id: replaceId, type: 'message' }), 'Teams message update');
              return;
            } catch (err) {
              logger.warn({ err: asCodedError(err), conversationId: reference.conversation?.id }, 'could not update the "working on it" message; sending the result as a new one');
            }
          }
          await within(context.sendActivity(message), 'Teams follow-up');
        });
      } catch (err) {
        logger.error({ err: asCodedError(err), conversationId: reference.conversation?.id }, 'could not follow up a command that outlasted its turn');
      }
    },
  });
  return {
    routes: [
      {
        kind: 'native',
        method: 'POST',
        path: '/api/messages',
        maxBodyBytes: MAX_BODY_BYTES,
        handle: async (req, res) => {
          // Not adapter.process: it answers a body without a type, or a token it cannot verify, with
          // a 500 and botbuilder's own error text, and logs the stack (issue 11, item 14).
          const parsed = activityShape.safeParse(req.body);
          if (!parsed.success) {
            refuse(req, res, logger, 'invalid-body', 'not a Bot Framework activity');
            return;
          }
          const activity = withDates(parsed.data as unknown as Activity);
          const authorization = req.header('authorization') ?? '';
          const stale = outsideValidity(authorization, Date.now());
          if (stale) {
            refuse(req, res, logger, 'unauthorized', stale);
            return;
          }
          let authenticated: AuthenticateRequestResult;
          try {
            // Without MicrosoftAppId (local mode) this accepts a request without a token, as botbuilder does.
            authenticated = await auth.authenticateRequest(activity, authorization);
          } catch (err) {
            // Any token that cannot be verified, whatever botbuilder says why, is a 401.
            refuse(req, res, logger, 'unauthorized', reasonOf(err));
            return;
          }
          if (!turnShape.safeParse(activity).success) {
            refuse(req, res, logger, 'invalid-body', 'activity without serviceUrl or conversation');
            return;
          }
          const invoke = await adapter.runAuthenticated(authenticated, activity, (context) => bot.run(context));
          res.status(invoke?.status ?? 200);
          if (invoke?.body !== undefined) res.send(invoke.body);
          res.end();
        },
      },
      noticePageRoute({ findNotice: (caseId, token) => deps.moderation.notice(caseId, token) }),
    ],
    notifier: new TeamsChatNotifier(deps.connection.connector, render, logger, deps.upstreamTimeoutMs, caches.addresses),
  };
}

/** A refused request: one warning line (no stack, no token) and a problem+json answer without internal text. */
function refuse(req: Request, res: Response, logger: Logger, type: Extract<HttpProblemType, 'invalid-body' | 'unauthorized'>, reason: string): void {
  const { status, body } = httpProblem(type);
  logger.warn({ path: req.path(), status, reason }, 'Bot Framework request refused');
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** botbuilder's clock tolerance for Bot Framework tokens (botframework-connector's token validation parameters). */
const CLOCK_TOLERANCE_SEC = 5 * 60;

/**
 * Why a bearer token is refused on its times alone (expired, or not valid yet), before botbuilder
 * sees it: botbuilder refuses these too, but writes the error's stack to the console first. Only
 * refuses; whether a token is good is botbuilder's decision.
 */
function outsideValidity(authorization: string, nowMs: number): string | undefined {
  const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
  if (!token) return undefined;
  let claims: { exp?: unknown; nbf?: unknown };
  try {
    claims = decodeJwt(token);
  } catch {
    return undefined; // Not a JWT at all: botbuilder refuses it quietly.
  }
  const now = nowMs / 1000;
  if (typeof claims.exp === 'number' && claims.exp + CLOCK_TOLERANCE_SEC < now) return 'token expired';
  if (typeof claims.nbf === 'number' && claims.nbf - CLOCK_TOLERANCE_SEC > now) return 'token not valid yet (nbf)';
  return undefined;
}

/** Why authentication failed, for the log: the error's first line, bounded. */
function reasonOf(err: unknown): string {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return message.split('\n')[0]!.slice(0, 200);
}

/** The timestamps as Dates, as botbuilder's own request handling makes them (its activityValidator). */
function withDates(activity: Activity): Activity {
  const raw = activity as unknown as Record<string, unknown>;
  for (const [field, rawField] of [
    ['timestamp', 'rawTimestamp'],
    ['localTimestamp', 'rawLocalTimestamp'],
    ['expiration', 'rawExpiration'],
  ] as const) {
    const value = raw[field];
    if (typeof value === 'string') {
      raw[rawField] = value;
      raw[field] = new Date(value);
    }
  }
  return activity;
}
