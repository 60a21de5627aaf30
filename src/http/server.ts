import type { CloudAdapter } from 'botbuilder';
import type { ActivityHandler } from 'botbuilder';
import restify, { type Server } from 'restify';
import type { Logger, Store } from '../core/ports.js';
import type { CallNotificationHandler } from '../providers/graph/call-notifications.js';
import type { CallsTokenVerifier } from '../providers/graph/notification-auth.js';
import { callsRoute } from './calls-route.js';
import { problem } from './moderation-api/problems.js';
import { TWILIO_EVENTS_PATH, twilioEventsRoute } from './twilio-events-route.js';
import type { ConferenceEventHandler } from '../providers/twilio/conference-events.js';

export interface HttpServerDeps {
  adapter: CloudAdapter;
  bot: ActivityHandler;
  store: Store;
  callsVerifier?: CallsTokenVerifier;
  notifications: CallNotificationHandler;
  /** Twilio conference callbacks; refused (403) when Twilio or PUBLIC_BASE_URL is not configured. */
  twilioEvents: { handler?: ConferenceEventHandler; authToken?: string; publicBaseUrl?: string };
  /** POST /api/moderation/kick and its OpenAPI document. */
  moderationApi: { kick: (req: restify.Request, res: restify.Response) => Promise<void>; openApiDocument: Record<string, unknown> };
  logger: Logger;
  /** What /healthz reports as configured (booleans only, never values). */
  configured: Record<string, boolean>;
  version: string;
}

const MAX_BODY_BYTES = 512 * 1024;
const MODERATION_MAX_BODY_BYTES = 16 * 1024;

/** The restify server with every route. Transports only: authenticate → parse → act → render. */
export function createHttpServer(deps: HttpServerDeps): Server {
  const server = restify.createServer({ name: 'bouncer', handleUncaughtExceptions: false });
  server.use(restify.plugins.queryParser({ mapParams: false }));

  server.post(
    '/api/messages',
    restify.plugins.bodyParser({ maxBodySize: MAX_BODY_BYTES, mapParams: false, rejectUnknown: true }),
    async (req: restify.Request, res: restify.Response) => {
      await deps.adapter.process(req, res, (context) => deps.bot.run(context));
    },
  );

  // Read, not parsed: the body is only looked at once the sender is authenticated.
  server.post(
    '/api/calls',
    restify.plugins.bodyReader({ maxBodySize: MAX_BODY_BYTES }),
    callsRoute({ verifier: deps.callsVerifier, handler: deps.notifications, logger: deps.logger }),
  );

  server.post(
    TWILIO_EVENTS_PATH,
    restify.plugins.bodyReader({ maxBodySize: MAX_BODY_BYTES }),
    twilioEventsRoute({ ...deps.twilioEvents, logger: deps.logger }),
  );

  server.post(
    '/api/moderation/kick',
    restify.plugins.bodyReader({ maxBodySize: MODERATION_MAX_BODY_BYTES }),
    deps.moderationApi.kick,
  );
  server.get('/api/moderation/openapi.json', async (_req, res) => {
    res.send(200, deps.moderationApi.openApiDocument);
  });

  server.get('/healthz', async (_req, res) => {
    try {
      await deps.store.ping();
      res.send(200, { status: 'ok', version: deps.version, configured: deps.configured });
    } catch (err) {
      deps.logger.error({ err }, 'health check failed');
      res.send(503, { status: 'unavailable', version: deps.version });
    }
  });

  // One access line per request: method, route, status, time. Never headers or bodies.
  server.on('after', (req: restify.Request, res: restify.Response) => {
    const line = { method: req.method, path: req.path(), status: res.statusCode, ms: Date.now() - req.time() };
    if (req.path() === '/healthz') deps.logger.debug(line, 'request');
    else deps.logger.info(line, 'request');
  });

  server.on('restifyError', (req, res, err, callback) => {
    // Never leak internal messages: log the error, answer with its status and a generic body.
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 500) deps.logger.error({ err, path: req.path() }, 'request failed');
    if (req.path().startsWith('/api/moderation/')) {
      // The moderation API answers in problem+json, even for errors restify raises itself.
      err.toJSON = () =>
        status === 413 ? problem('payload-too-large') : { type: 'about:blank', title: status >= 500 ? 'Internal error' : 'Bad request', status };
      return callback();
    }
    err.toJSON = () => ({ error: status >= 500 ? 'internal error' : (err.body?.code ?? 'bad request') });
    err.toString = () => (status >= 500 ? 'internal error' : 'bad request');
    return callback();
  });

  return server;
}
