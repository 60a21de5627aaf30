import { z } from 'zod';
import { defineProvider } from '../provider-module.js';
import { findNotice } from '../../app/moderation/steps/notify-participant.js';
import { Announcements } from './announcements.js';
import { ConferenceEventHandler } from './conference-events.js';
import { TwilioConferenceProvider } from './conference-provider.js';
import { configureTwilio, twilioEnv, type TwilioConfig } from './config.js';
import { createTwilioClient } from './twilio-client.js';
import { twilioAnnounceRoutes } from './twilio-announce-route.js';
import { twilioEventsRoute } from './twilio-events-route.js';
import { twilioVoiceRoute } from './voice-route.js';

/** Twilio phone conferences: removal, mute and announcements by CallSid or label, roster from conference status callbacks, an optional voice webhook that turns banned callers away. */
export const twilioProvider = defineProvider<'twilio', TwilioConfig>({
  kind: 'twilio',
  healthKey: 'twilio',
  joinsMeetings: false,
  labels: {
    product: 'Twilio',
    calls: 'Twilio conferences',
    callNoun: 'Twilio conference',
    callInSentence: ({ callName }, escape) => (callName ? `the phone conference **${escape(callName)}**` : 'the phone conference'),
    callFact: ({ callName, callId }) => `Twilio: ${callName ?? callId}`,
  },
  env: twilioEnv,
  configure: configureTwilio,
  setUp(config, deps) {
    const { store, events, clock, logger, publicBaseUrl } = deps;
    const { account } = config;
    if (!account) {
      // The callback route still answers, refusing everything (403).
      return {
        missing: ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN (or TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET)'],
        routes: [twilioEventsRoute({ publicBaseUrl, logger }), twilioVoiceRoute({ publicBaseUrl, logger }), ...twilioAnnounceRoutes({ publicBaseUrl, logger })],
      };
    }
    // Shared by the provider (which waits for its announcements), the announce route and the callbacks.
    const announcements = new Announcements({ store, clock, logger });
    const provider = new TwilioConferenceProvider({
      client: createTwilioClient({ ...account, baseUrl: config.baseUrl, timeoutMs: config.timeoutMs }),
      logger,
      conferenceChats: config.conferenceChats,
      // Announcements are fetched from Bouncer, which verifies Twilio's signature with the auth token.
      publicBaseUrl: account.authToken ? publicBaseUrl : undefined,
      announcements,
      // One outbound scheduler for this account.
      retry: { logger, concurrency: config.concurrency },
    });
    const handler = new ConferenceEventHandler({ accountSid: account.accountSid, provider, store, events, clock, logger, announcements });
    return {
      provider,
      missing: [],
      routes: [
        twilioEventsRoute({ authToken: account.authToken, publicBaseUrl, handler, logger }),
        twilioVoiceRoute({ accountSid: account.accountSid, authToken: account.authToken, publicBaseUrl, admission: deps.admission, logger }),
        ...twilioAnnounceRoutes({
          authToken: account.authToken,
          publicBaseUrl,
          findNotice: (caseId, token) => findNotice(store, caseId, token),
          announcements,
          logger,
        }),
      ],
    };
  },
  bindSyntax: {
    usage: 'twilio <ConferenceSid | conference name>',
    summary: 'to a Twilio conference',
    parse(text) {
      const m = /^twilio\s+(.+)$/i.exec(text);
      return m ? { kind: 'named', provider: 'twilio', idOrName: m[1]!.trim() } : undefined;
    },
  },
  webhookCall: {
    field: 'twilioConference',
    schema: z
      .object({ twilioConference: z.string().min(1).max(256).describe('A Twilio ConferenceSid, or a friendly name (resolved to the in-progress conference).') })
      .strict(),
  },
});
