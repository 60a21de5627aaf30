import twilio from 'twilio';
import { z } from 'zod';
import { ACCOUNT_SID_PATTERN, CALL_SID_PATTERN, CONFERENCE_SID_PATTERN } from '../../app/domain/ids.js';
import type { Participant } from '../../app/domain/participant.js';
import type { CallStateEvents } from '../../app/moderation/call-events.js';
import type { Clock, Logger } from '../../app/ports/runtime.js';
import type { Store } from '../../app/ports/store.js';
import { noticeOfUrl, TWILIO_ANNOUNCE_PATH, type Announcements } from './announcements.js';
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
    // Sent on all events: orders one conference's callbacks (they may arrive late, out of order or replayed).
    SequenceNumber: z.string().regex(/^\d{1,15}$/).optional(),
    // Sent on announcement-end and announcement-fail: the announcement's URL (Bouncer's, for its notices).
    AnnounceUrl: z.string().optional(),
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

/** How many conferences' sequence numbers are kept (the oldest-touched are forgotten first). */
const MAX_TRACKED_CONFERENCES = 10_000;
/** How many participants' sequence numbers are kept per conference. */
const MAX_TRACKED_PARTICIPANTS = 1_000;

interface ConferenceOrder {
  /** The highest SequenceNumber applied for this conference (any event). */
  max: number;
  /** The SequenceNumber of the applied conference-end, if any. */
  endedAt?: number;
  /** The last SequenceNumber applied per participant (CallSid). */
  participants: Map<string, number>;
}

/**
 * Orders one conference's callbacks by Twilio's SequenceNumber, so that a late or replayed
 * callback (still validly signed: Twilio's signature has no time window) cannot undo newer state:
 * a conference-end older than any event already applied does not end the binding, and a
 * participant event older than that participant's last applied event, or than the conference's
 * end, is ignored. Kept in memory and bounded, per instance: behind one URL, an instance may not
 * have seen newer events, so a conference-end is also checked with Twilio before it ends a binding.
 */
export class ConferenceSequence {
  private readonly conferences = new Map<string, ConferenceOrder>();

  /** True when the event is newer than the state it would change. Unsequenced events pass. */
  isFresh(e: ConferenceEvent): boolean {
    if (e.SequenceNumber === undefined) return true;
    const seq = Number(e.SequenceNumber);
    const order = this.conferences.get(e.ConferenceSid);
    if (!order) return true;
    if (e.StatusCallbackEvent === 'conference-end') return seq > order.max;
    if (order.endedAt !== undefined && seq <= order.endedAt) return false;
    return e.CallSid ? seq > (order.participants.get(e.CallSid) ?? -1) : seq > order.max;
  }

  /** Records an applied event (after it was applied, so a failed one can be delivered again). */
  applied(e: ConferenceEvent): void {
    if (e.SequenceNumber === undefined) return;
    const seq = Number(e.SequenceNumber);
    const order = this.conferences.get(e.ConferenceSid) ?? { max: -1, participants: new Map<string, number>() };
    order.max = Math.max(order.max, seq);
    if (e.StatusCallbackEvent === 'conference-end') order.endedAt = seq;
    if (e.CallSid) {
      order.participants.delete(e.CallSid);
      order.participants.set(e.CallSid, seq);
      if (order.participants.size > MAX_TRACKED_PARTICIPANTS) order.participants.delete(order.participants.keys().next().value!);
    }
    this.conferences.delete(e.ConferenceSid);
    this.conferences.set(e.ConferenceSid, order);
    if (this.conferences.size > MAX_TRACKED_CONFERENCES) this.conferences.delete(this.conferences.keys().next().value!);
  }
}

/**
 * Keeps the conference roster from Twilio's conference status callbacks, so that a kick by label
 * or number costs one API call: participant-join (with the caller's number), participant-leave,
 * conference-end (the bindings end). Callbacks older than what was already applied for the
 * conference (by SequenceNumber) are ignored: see `ConferenceSequence`.
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
      /** Announcements Bouncer waits for: told when Twilio finished (or failed) playing one. */
      announcements?: Announcements;
    },
  ) {}

  private readonly sequence = new ConferenceSequence();

  async handle(e: ConferenceEvent): Promise<void> {
    if (e.AccountSid !== this.deps.accountSid) {
      this.deps.logger.warn({ accountSid: e.AccountSid }, 'conference event for another account ignored');
      return;
    }
    if (!this.sequence.isFresh(e)) {
      this.deps.logger.warn(
        { event: e.StatusCallbackEvent, conferenceSid: e.ConferenceSid, sequenceNumber: e.SequenceNumber },
        'conference event older than the state already applied ignored',
      );
      return;
    }
    const { store } = this.deps;
    switch (e.StatusCallbackEvent) {
      case 'participant-join': {
        if (!e.CallSid) return;
        const joined: Participant = {
          callId: e.ConferenceSid,
          participantId: e.CallSid,
          kind: 'phone',
          label: e.ParticipantLabel || undefined,
          isInLobby: false,
          phoneNumbers: await this.numbers(e.CallSid),
        };
        await store.roster.upsert(e.ConferenceSid, [joined]);
        // Answered once what it set off is done (a banned caller is removed).
        await this.deps.events.participantsSeen({ provider: 'twilio', callId: e.ConferenceSid, callName: e.FriendlyName || undefined, participants: [joined] });
        break;
      }
      case 'participant-leave':
        if (e.CallSid) await store.roster.remove(e.ConferenceSid, [e.CallSid]);
        break;
      case 'conference-end': {
        // The order above is this instance's; another one behind the same URL may have applied newer
        // events. Twilio itself says whether the conference is still running: a stale end of a live
        // conference ends nothing.
        if (await this.stillInProgress(e.ConferenceSid)) {
          this.deps.logger.warn({ conferenceSid: e.ConferenceSid, sequenceNumber: e.SequenceNumber }, 'conference-end for a conference Twilio says is in progress ignored');
          return;
        }
        await store.bindings.setCallState(e.ConferenceSid, 'terminated', this.deps.clock.now().toISOString());
        this.deps.events.emit(e.ConferenceSid, 'terminated');
        break;
      }
      case 'announcement-end':
      case 'announcement-fail': {
        const ref = e.AnnounceUrl ? announcedNotice(e.AnnounceUrl) : undefined;
        if (ref) await this.deps.announcements?.ended(ref.caseId, e.StatusCallbackEvent === 'announcement-fail');
        break;
      }
      default:
        this.deps.logger.debug({ event: e.StatusCallbackEvent, conferenceSid: e.ConferenceSid }, 'conference event ignored');
    }
    this.sequence.applied(e);
  }

  /** Whether Twilio reports the conference in progress; false when it cannot tell (the end then applies). */
  private async stillInProgress(conferenceSid: string): Promise<boolean> {
    try {
      return (await this.deps.provider.findCall(conferenceSid)).kind === 'found';
    } catch (err) {
      this.deps.logger.warn({ err, conferenceSid }, 'could not ask Twilio whether the conference ended; applying its end');
      return false;
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

/** The notice an announcement's URL names, when it is Bouncer's announce route. */
function announcedNotice(announceUrl: string): ReturnType<typeof noticeOfUrl> {
  try {
    const url = new URL(announceUrl);
    return url.pathname === TWILIO_ANNOUNCE_PATH ? noticeOfUrl(url.search.slice(1)) : undefined;
  } catch {
    return undefined;
  }
}
