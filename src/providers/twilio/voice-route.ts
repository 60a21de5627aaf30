import { z } from 'zod';
import { ACCOUNT_SID_PATTERN, CALL_SID_PATTERN, isE164 } from '../../app/domain/ids.js';
import type { CallAdmission } from '../../app/ports/call-admission.js';
import type { Logger } from '../../app/ports/runtime.js';
import { httpProblem } from '../../http/problem.js';
import type { HttpAnswer, RawRoute } from '../../http/route.js';
import { signedTwilioForm } from './signed-form.js';
import { TWILIO_EVENTS_PATH } from './twilio-events-route.js';

export const TWILIO_VOICE_PATH = '/api/twilio/voice';
const MAX_BODY_BYTES = 64 * 1024;
const MAX_CONFERENCE_NAME = 256;

/**
 * The parameters Bouncer reads from Twilio's voice request (an incoming call to a number whose
 * voice URL is this route). https://www.twilio.com/docs/voice/twiml#request-parameters
 */
const voiceRequestSchema = z
  .object({
    AccountSid: z.string().regex(ACCOUNT_SID_PATTERN),
    CallSid: z.string().regex(CALL_SID_PATTERN),
    // The caller's number (E.164), or a client or SIP address, or a word for a withheld number.
    From: z.string().optional(),
  })
  .loose();

/**
 * POST /api/twilio/voice?conference=<name>: the optional voice webhook for numbers whose voice URL
 * points at Bouncer. A caller a ban names (by number: the conference's chats' bans, or everywhere),
 * and every caller while the conference is locked down (`/lockdown`), is answered `<Reject/>`: the call is not answered, so not billed. Everyone else is put into the
 * conference, with the status callbacks Bouncer keeps its roster from (join, leave, end). Verified
 * as the conference events are (X-Twilio-Signature over the public URL with its query); 403
 * forbidden when not signed by this account, or Twilio is not configured; 400 invalid-body
 * without a conference name. If the bans cannot be read, the caller is let in (and a ban is still
 * enforced when they join).
 */
export function twilioVoiceRoute(deps: {
  accountSid?: string;
  authToken?: string;
  publicBaseUrl?: string;
  admission?: CallAdmission;
  logger: Logger;
}): RawRoute {
  return {
    kind: 'raw',
    method: 'POST',
    path: TWILIO_VOICE_PATH,
    maxBodyBytes: MAX_BODY_BYTES,
    async handle(input): Promise<HttpAnswer> {
      const params = signedTwilioForm(input, TWILIO_VOICE_PATH, deps);
      if (!params || !deps.accountSid || !deps.admission) {
        deps.logger.warn({ ip: input.remoteAddress, signed: !!input.header('x-twilio-signature') }, 'rejected Twilio voice request');
        return httpProblem('forbidden');
      }
      const parsed = voiceRequestSchema.safeParse(params);
      if (!parsed.success) {
        deps.logger.warn({ issues: parsed.error.issues.slice(0, 5) }, 'malformed Twilio voice request');
        return httpProblem('invalid-body', { detail: 'The body is not a Twilio voice request.' });
      }
      if (parsed.data.AccountSid !== deps.accountSid) {
        deps.logger.warn({ accountSid: parsed.data.AccountSid }, 'Twilio voice request for another account refused');
        return httpProblem('forbidden');
      }
      const conference = new URLSearchParams(input.query).get('conference')?.trim();
      if (!conference || conference.length > MAX_CONFERENCE_NAME) {
        return httpProblem('invalid-body', { detail: `The voice URL must name the conference: ${TWILIO_VOICE_PATH}?conference=<name> (at most ${MAX_CONFERENCE_NAME} characters).` });
      }
      const from = parsed.data.From;
      let admitted = true;
      try {
        admitted = await deps.admission.admits({ provider: 'twilio', callName: conference }, { phoneNumber: from && isE164(from) ? from : undefined });
      } catch (err) {
        deps.logger.error({ err, callSid: parsed.data.CallSid }, 'could not read the bans; letting the caller in');
      }
      if (!admitted) deps.logger.info({ callSid: parsed.data.CallSid, conference }, 'rejected a caller (banned, or the conference is locked down)');
      return twiml(admitted ? dialConference(conference, `${deps.publicBaseUrl}${TWILIO_EVENTS_PATH}`) : '<Reject/>');
    },
  };
}

/** TwiML that puts the call into the conference, with the status callbacks the roster is kept from. */
function dialConference(name: string, statusCallback: string): string {
  return (
    `<Dial><Conference statusCallback="${xml(statusCallback)}" statusCallbackEvent="join leave end" statusCallbackMethod="POST">` +
    `${xml(name)}</Conference></Dial>`
  );
}

function twiml(verbs: string): HttpAnswer {
  return { status: 200, text: { contentType: 'text/xml', content: `<?xml version="1.0" encoding="UTF-8"?><Response>${verbs}</Response>` } };
}

/** Text for XML content and attribute values. */
function xml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
