import type { Logger } from '../../app/ports/runtime.js';
import { httpProblem } from '../../http/problem.js';
import type { HttpAnswer, RawRoute } from '../../http/route.js';
import { conferenceEventSchema, type ConferenceEventHandler } from './conference-events.js';
import { signedTwilioForm } from './signed-form.js';

export const TWILIO_EVENTS_PATH = '/api/twilio/conference-events';
const MAX_BODY_BYTES = 512 * 1024;

/**
 * POST /api/twilio/conference-events: Twilio conference status callbacks. Verified against the
 * public URL (PUBLIC_BASE_URL + path + query) with the auth token before anything is applied.
 * Answers 204 once applied; 403 forbidden for a bad or missing signature, or when Twilio (its auth
 * token) or PUBLIC_BASE_URL is not configured; 400 invalid-body; all as problem+json.
 */
export function twilioEventsRoute(deps: {
  authToken?: string;
  publicBaseUrl?: string;
  handler?: ConferenceEventHandler;
  logger: Logger;
}): RawRoute {
  return {
    kind: 'raw',
    method: 'POST',
    path: TWILIO_EVENTS_PATH,
    maxBodyBytes: MAX_BODY_BYTES,
    async handle(input): Promise<HttpAnswer> {
      const params = deps.handler ? signedTwilioForm(input, TWILIO_EVENTS_PATH, deps) : undefined;
      if (!deps.handler || !params) {
        deps.logger.warn({ ip: input.remoteAddress, signed: !!input.header('x-twilio-signature') }, 'rejected Twilio callback');
        return httpProblem('forbidden');
      }
      const parsed = conferenceEventSchema.safeParse(params);
      if (!parsed.success) {
        deps.logger.warn({ issues: parsed.error.issues.slice(0, 5) }, 'malformed Twilio callback');
        return httpProblem('invalid-body', { detail: 'The body is not a Twilio conference status callback.' });
      }
      await deps.handler.handle(parsed.data);
      return { status: 204 };
    },
  };
}
