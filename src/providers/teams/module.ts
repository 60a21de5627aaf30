import { ClientSecretCredential } from '@azure/identity';
import { z } from 'zod';
import { BouncerError } from '../../app/domain/errors.js';
import { defineProvider } from '../provider-module.js';
import { CallNotificationHandler } from './call-notifications.js';
import { callsRoute } from './calls-route.js';
import { configureTeams, teamsEnv, type TeamsConfig } from './config.js';
import { GraphClient } from './graph-client.js';
import { CallsTokenVerifier } from './notification-auth.js';
import { TeamsCallProvider } from './teams-call-provider.js';
import { GraphUserPhones } from './user-phones.js';

/** Instance discovery only knows Microsoft's own clouds. */
const PUBLIC_AUTHORITY_HOST = 'https://login.microsoftonline.com';

/** Teams meeting calls through Microsoft Graph: joins the chat's meeting, roster from call notifications. */
export const teamsProvider = defineProvider<'teams', TeamsConfig>({
  kind: 'teams',
  healthKey: 'graph',
  joinsMeetings: true,
  labels: {
    product: 'Teams calls',
    calls: 'Teams calls',
    callNoun: 'Teams call',
    callInSentence: () => "this meeting's call",
    callFact: () => 'Teams meeting call',
  },
  env: teamsEnv,
  configure: configureTeams,
  setUp(config, deps) {
    const { store, events, clock, logger } = deps;
    // Notifications can be verified as soon as the client id (their audience) is known, even
    // before Graph itself can be called; without it every notification is refused.
    const verifier = config.clientId
      ? new CallsTokenVerifier({
          openIdMetadataUrl: config.callsOpenIdMetadataUrl,
          issuer: config.callsTokenIssuer,
          audience: config.clientId,
          fetch: deps.fetch,
          timeoutMs: config.timeoutMs,
        })
      : undefined;
    const handler = new CallNotificationHandler({ store, events, clock, logger });
    const routes = [callsRoute({ verifier, handler, logger, maxBodyBytes: config.callsMaxBodyBytes })];
    const { credentials } = config;
    if (!credentials) return { missing: ['GRAPH_TENANT_ID', 'GRAPH_CLIENT_ID', 'GRAPH_CLIENT_SECRET'], routes };

    let credential: ClientSecretCredential;
    try {
      credential = new ClientSecretCredential(credentials.tenantId, credentials.clientId, credentials.clientSecret, {
        authorityHost: config.authorityHost,
        disableInstanceDiscovery: config.authorityHost !== PUBLIC_AUTHORITY_HOST,
      });
    } catch (err) {
      // @azure/identity refuses some settings the environment schema lets through (an http authority host).
      throw new BouncerError('CONFIG_INVALID', 'the Graph credential cannot be built from AZURE_AUTHORITY_HOST and GRAPH_*', { cause: err });
    }
    const graph = new GraphClient({
      baseUrl: config.baseUrl,
      credential,
      logger,
      fetch: deps.fetch,
      timeoutMs: config.timeoutMs,
      // One outbound scheduler for this tenant and app.
      retry: { logger, concurrency: config.concurrency },
    });
    return {
      provider: new TeamsCallProvider(graph, logger, credentials.tenantId),
      phones: new GraphUserPhones(graph),
      missing: [],
      routes,
      warmUp: () => graph.warmUp(),
    };
  },
  bindSyntax: {
    usage: '<Teams meeting link>',
    summary: 'to another meeting by its join link',
    parse(text) {
      return /^https:\/\/\S+$/i.test(text) ? { kind: 'link', provider: 'teams', url: text } : undefined;
    },
  },
  webhookCall: {
    field: 'teamsCallId',
    schema: z.object({ teamsCallId: z.string().min(1).max(128).describe("Bouncer's Graph call id for a Teams meeting it has joined.") }).strict(),
  },
});
