import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AddressInfo } from 'node:net';
import { ClientSecretCredential } from '@azure/identity';
import { CloudAdapter, ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import type { Logger as PinoLogger } from 'pino';
import { customLoginCredentialsFactory } from './bot/bot-credentials.js';
import { BouncerBot } from './bot/bouncer-bot.js';
import { ChatNotifier } from './bot/chat-notifier.js';
import { renderSystemRemoval } from './bot/render-reply.js';
import { moderationKickRoute } from './http/moderation-api/kick-route.js';
import { buildOpenApiDocument } from './http/moderation-api/openapi.js';
import type { Config } from './config/config.js';
import { loadConfig, readEnvFile } from './config/load-config.js';
import { CallStateEvents } from './core/call-events.js';
import { commandRegistry } from './core/commands/registry.js';
import { ModerationService } from './core/moderation-service.js';
import type { ProviderKind } from './core/participant.js';
import type { CallProvider, Clock, Store, UserPhoneDirectory } from './core/ports.js';
import { createHttpServer } from './http/server.js';
import { createLogger } from './logger.js';
import { CallNotificationHandler } from './providers/graph/call-notifications.js';
import { GraphClient } from './providers/graph/graph-client.js';
import { CallsTokenVerifier } from './providers/graph/notification-auth.js';
import { TeamsCallProvider } from './providers/graph/teams-call-provider.js';
import { GraphUserPhones } from './providers/graph/user-phones.js';
import { ConferenceEventHandler } from './providers/twilio/conference-events.js';
import { TwilioConferenceProvider } from './providers/twilio/conference-provider.js';
import { createTwilioClient } from './providers/twilio/twilio-client.js';
import { openStore } from './store/open-store.js';

const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';

export interface StartOptions {
  logger?: PinoLogger;
  clock?: Clock;
  /** Used for Graph and the calls OpenID metadata. */
  fetch?: typeof fetch;
}

export interface RunningBouncer {
  /** Base URL the server listens on, e.g. http://127.0.0.1:3978. */
  url: string;
  store: Store;
  close(): Promise<void>;
}

/** The composition root: builds every part from the configuration and starts the HTTP server. */
export async function startBouncer(config: Config, options: StartOptions = {}): Promise<RunningBouncer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? { now: () => new Date() };
  const store = openStore(config.database);
  const events = new CallStateEvents();

  // Adding a backend is one folder under providers/ plus its line here.
  const providers: Partial<Record<ProviderKind, CallProvider>> = {};
  const missingConfig: Partial<Record<ProviderKind, string[]>> = {};
  let phones: UserPhoneDirectory | undefined;
  const graphCredentials = config.graph.credentials;
  if (graphCredentials) {
    const credential = new ClientSecretCredential(
      graphCredentials.tenantId,
      graphCredentials.clientId,
      graphCredentials.clientSecret,
      {
        authorityHost: config.graph.authorityHost,
        // Instance discovery only knows Microsoft's own clouds.
        disableInstanceDiscovery: config.graph.authorityHost !== DEFAULT_AUTHORITY_HOST,
      },
    );
    const graph = new GraphClient({ baseUrl: config.graph.baseUrl, credential, logger, fetch: options.fetch });
    providers.teams = new TeamsCallProvider(graph, logger);
    phones = new GraphUserPhones(graph);
    graph.warmUp().catch((err: unknown) => logger.warn({ err }, 'could not get a Graph token at start'));
  } else {
    missingConfig.teams = ['GRAPH_TENANT_ID', 'GRAPH_CLIENT_ID', 'GRAPH_CLIENT_SECRET'];
  }

  let twilioEvents: ConferenceEventHandler | undefined;
  if (config.twilio) {
    const twilio = new TwilioConferenceProvider({ client: createTwilioClient(config.twilio), logger });
    providers.twilio = twilio;
    twilioEvents = new ConferenceEventHandler({ accountSid: config.twilio.accountSid, provider: twilio, store, events, clock, logger });
  } else {
    missingConfig.twilio = ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN (or TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET)'];
  }

  const service = new ModerationService({
    store,
    providers,
    missingConfig,
    phones,
    events,
    clock,
    logger,
    adminUserIds: config.adminUserIds,
    callbackUrl: config.server.publicBaseUrl ? `${config.server.publicBaseUrl}/api/calls` : undefined,
    joinTimeoutMs: config.calls.joinTimeoutMs,
    sandbox: config.sandbox,
  });

  const auth = new ConfigurationBotFrameworkAuthentication(
    {
      MicrosoftAppId: config.bot.appId,
      MicrosoftAppPassword: config.bot.appPassword,
      MicrosoftAppTenantId: config.bot.appTenantId,
      MicrosoftAppType: config.bot.appType,
      ...config.bot.endpointOverrides,
    },
    customLoginCredentialsFactory({
      appId: config.bot.appId,
      appPassword: config.bot.appPassword,
      loginUrl: config.bot.endpointOverrides.ToChannelFromBotLoginUrl,
    }),
  );
  const adapter = new CloudAdapter(auth);
  adapter.onTurnError = async (context, error) => {
    logger.error({ err: error, conversationId: context.activity.conversation?.id }, 'unhandled error in turn');
    try {
      await context.sendActivity('Sorry, something went wrong on my side and nothing was done. Please try again.');
    } catch (sendErr) {
      logger.error({ err: sendErr }, 'could not tell the user about the error');
    }
  };
  const bot = new BouncerBot({ service, commands: commandRegistry, logger });

  const callsVerifier = config.graph.clientId
    ? new CallsTokenVerifier({
        openIdMetadataUrl: config.calls.openIdMetadataUrl,
        issuer: config.calls.tokenIssuer,
        audience: config.graph.clientId,
        fetch: options.fetch,
      })
    : undefined;

  const notifier = new ChatNotifier(adapter, config.bot.appId, logger);
  const moderationKick = moderationKickRoute({
    service,
    store,
    secrets: config.webhookSecrets,
    clock,
    logger,
    onRemoved: (outcome, body) => {
      // Tell the chat bound to the call, if any, without holding up the API's answer.
      void (async () => {
        const binding = await store.findBindingByCallId(outcome.callId);
        if (!binding?.conversationId || !binding.serviceUrl) return;
        await notifier.notify(
          { conversationId: binding.conversationId, serviceUrl: binding.serviceUrl, tenantId: binding.tenantId },
          renderSystemRemoval(outcome, body.actor ?? 'webhook', body.reason),
        );
      })().catch((err: unknown) => logger.warn({ err }, 'could not notify the bound chat'));
    },
  });

  const server = createHttpServer({
    adapter,
    bot,
    store,
    callsVerifier,
    notifications: new CallNotificationHandler({ store, events, clock, logger }),
    moderationApi: { kick: moderationKick, openApiDocument: buildOpenApiDocument(packageVersion()) },
    twilioEvents: { handler: twilioEvents, authToken: config.twilio?.authToken, publicBaseUrl: config.server.publicBaseUrl },
    logger,
    configured: {
      botAuthentication: !config.bot.localMode,
      graph: !!graphCredentials,
      twilio: !!config.twilio,
      webhooks: config.webhookSecrets.length > 0,
      publicBaseUrl: !!config.server.publicBaseUrl,
      sandbox: config.sandbox,
    },
    version: packageVersion(),
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.server.port, config.server.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${address.port}`;
  logger.info({ url, graph: !!graphCredentials, twilio: !!config.twilio, localMode: config.bot.localMode }, 'Bouncer is listening');

  return {
    url,
    store,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}

function packageVersion(): string {
  try {
    const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** `npm start`: read .env and the environment, validate, start, stop cleanly on signals. */
async function cli(): Promise<void> {
  const env = { ...readEnvFile(path.resolve('.env')), ...process.env };
  const result = loadConfig(env);
  if (!result.ok) {
    console.error('Bouncer cannot start; fix the configuration (see .env.example):');
    for (const problem of result.problems) console.error(`  - ${problem}`);
    process.exit(1);
  }
  const logger = createLogger(result.config.logLevel);
  for (const notice of result.notices) logger.warn(notice);
  const running = await startBouncer(result.config, { logger });
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  cli().catch((err: unknown) => {
    console.error('Bouncer failed to start:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
