import { z } from 'zod';
import { CALL_SID_PATTERN, CONFERENCE_SID_PATTERN } from '../../app/domain/ids.js';

// What Bouncer reads of the SDK's resources, checked: the SDK copies the JSON as it comes.

// https://www.twilio.com/docs/voice/api/conference-resource#conference-properties
export const conferenceSchema = z
  .object({
    sid: z.string().regex(CONFERENCE_SID_PATTERN),
    status: z.string().min(1),
    friendlyName: z.string().nullish(),
    dateCreated: z.date(),
  })
  .loose();

export type TwilioConference = z.infer<typeof conferenceSchema>;

// https://www.twilio.com/docs/voice/api/conference-participant-resource#participant-properties
export const participantSchema = z
  .object({ callSid: z.string().regex(CALL_SID_PATTERN), label: z.string().nullish() })
  .loose();

// https://www.twilio.com/docs/voice/api/call-resource#call-properties
export const callSchema = z
  .object({ direction: z.string().nullish(), from: z.string().nullish(), to: z.string().nullish() })
  .loose();
