import type { Request, Response } from 'restify';
import type { Logger } from '../core/ports.js';
import { conferenceEventSchema, verifyTwilioSignature, type ConferenceEventHandler } from '../providers/twilio/conference-events.js';

export const TWILIO_EVENTS_PATH = '/api/twilio/conference-events';

/**
 * POST /api/twilio/conference-events: Twilio conference status callbacks. Verified against the
 * public URL (PUBLIC_BASE_URL + path + query) with the auth token before anything is applied;
 * a bad or missing signature gets 403.
 */
export function twilioEventsRoute(deps: {
  authToken?: string;
  publicBaseUrl?: string;
  handler?: ConferenceEventHandler;
  logger: Logger;
}) {
  return async (req: Request, res: Response): Promise<void> => {
    const raw = typeof req.body === 'string' ? req.body : String(req.body ?? '');
    const params = Object.fromEntries(new URLSearchParams(raw));
    const query = req.getQuery();
    const url = `${deps.publicBaseUrl ?? ''}${TWILIO_EVENTS_PATH}${query ? `?${query}` : ''}`;
    const signature = req.header('x-twilio-signature') || undefined;
    if (!deps.authToken || !deps.publicBaseUrl || !deps.handler || !verifyTwilioSignature(deps.authToken, signature, url, params)) {
      deps.logger.warn({ ip: req.socket.remoteAddress, signed: !!signature }, 'rejected Twilio callback');
      res.send(403, { error: 'forbidden' });
      return;
    }
    const parsed = conferenceEventSchema.safeParse(params);
    if (!parsed.success) {
      deps.logger.warn({ issues: parsed.error.issues.slice(0, 5) }, 'malformed Twilio callback');
      res.send(400, { error: 'invalid callback' });
      return;
    }
    await deps.handler.handle(parsed.data);
    res.send(204);
  };
}
