import twilio from 'twilio';
import { z } from 'zod';
import { ACCOUNT_SID_PATTERN, CALL_SID_PATTERN, CONFERENCE_SID_PATTERN } from '../../app/domain/ids.js';
import type { CallStateEvents } from '../../app/moderation/call-events.js';
import type { Clock, Logger } from '../../app/ports/runtime.js';
import type { Store } from '../../app/ports/store.js';
import type { TwilioConferenceProvider } from './conference-provider.js';

/**
 * The parameters Bouncer reads from a conference status callback, each one named as Twilio's
 * "Request Parameters" table names it (the label is `ParticipantLabel`, not `Label`).
 * https://www.twilio.com/docs/voice/twiml/conference#attributes-status-callback-parameters
 */
export const conferenceEventSchema = z
  .object({
    AccountSid: z.string().regex(ACCOUNT_SID_PATTERN),
    ConferenceSid: z.string().regex(CONFERENCE_SID_PATTERN),
    FriendlyName: z.string().optional(),
    StatusCallbackEvent: z.string().min(1),
    CallSid: z.string().regex(CALL_SID_PATTERN).optional(),
    // Sent on join, leave, mute, hold, modify, speaker; whether it is omitted when no label was set is undocumented.
    ParticipantLabel: z.string().optional(),
  })
  .loose();

export type ConferenceEvent = z.infer<typeof conferenceEventSchema>;

/**
 * Twilio signs each callback with the account's auth token over the full public URL plus the
 * sorted form parameters (X-Twilio-Signature). The twilio package's helper compares in constant
 * time. Twilio's scheme has no timestamp, so there is no time window to enforce.
 */
export function verifyTwilioSignature(authToken: string, signature: string | undefined, url: string, params: Record<string, string>): boolean {
  if (!signature) return false;
  return twilio.validateRequest(authToken, signature, url, params);
}

/**
 * Keeps the conference roster from Twilio's conference status callbacks, so that a kick by label
 * or number costs one API call: participant-join (with the caller's number), participant-leave,
 * conference-end (the bindings end).
 */
export class ConferenceEventHandler {
  constructor(
    private readonly deps: {
      accountSid: string;
      provider: TwilioConferenceProvider;
      store: Store;
      events: CallStateEvents;
      clock: Clock;
      logger: Logger;
    },
  ) {}

  async handle(e: ConferenceEvent): Promise<void> {
    if (e.AccountSid !== this.deps.accountSid) {
      this.deps.logger.warn({ accountSid: e.AccountSid }, 'conference event for another account ignored');
      return;
    }
    const { store } = this.deps;
    switch (e.StatusCallbackEvent) {
      case 'participant-join':
        if (!e.CallSid) return;
        await store.roster.upsert(e.ConferenceSid, [
          {
            callId: e.ConferenceSid,
            participantId: e.CallSid,
            kind: 'phone',
            label: e.ParticipantLabel || undefined,
            isInLobby: false,
            phoneNumbers: await this.numbers(e.CallSid),
          },
        ]);
        break;
      case 'participant-leave':
        if (e.CallSid) await store.roster.remove(e.ConferenceSid, [e.CallSid]);
        break;
      case 'conference-end': {
        await store.bindings.setCallState(e.ConferenceSid, 'terminated', this.deps.clock.now().toISOString());
        this.deps.events.emit(e.ConferenceSid, 'terminated');
        break;
      }
      default:
        this.deps.logger.debug({ event: e.StatusCallbackEvent, conferenceSid: e.ConferenceSid }, 'conference event ignored');
    }
  }

  private async numbers(callSid: string): Promise<string[]> {
    try {
      return await this.deps.provider.phoneNumbersOf(callSid);
    } catch (err) {
      // The participant is still recorded (kickable by label or CallSid); only the number is missing.
      this.deps.logger.warn({ err, callSid }, 'could not read the caller number');
      return [];
    }
  }
}
