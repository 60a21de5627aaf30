/** One participant of a call, as Bouncer keeps it in the roster (provider-neutral). */
export interface Participant {
  callId: string;
  participantId: string;
  kind: 'user' | 'guest' | 'phone' | 'application' | 'unknown';
  /** Entra object id for users; the app id for applications; the guest/phone id otherwise. */
  identityId?: string;
  displayName?: string;
  tenantId?: string;
  isInLobby: boolean;
  /** Twilio participant label, when one was given. */
  label?: string;
  /** Phone numbers the participant is calling from or to (E.164), when known. */
  phoneNumbers?: string[];
}

/** The calling backends Bouncer knows. */
export type ProviderKind = 'teams' | 'twilio';

/** How a chat is bound to a call. */
export interface CallBinding {
  conversationId: string;
  provider: ProviderKind;
  /** Teams: the bot's own call leg id. Twilio: the ConferenceSid. */
  callId: string;
  /** A human name for the call (Twilio: the conference's friendly name). */
  callName?: string;
  /** Entra id of the meeting's organizer (Teams), who may moderate from any chat bound to it. */
  organizerUserId?: string;
  state: CallState;
  meetingId?: string;
  joinUrl?: string;
  tenantId?: string;
  /** Where replies and proactive messages go (Bot Framework service URL). */
  serviceUrl?: string;
  createdAt: string;
  updatedAt: string;
}

export type CallState = 'establishing' | 'established' | 'terminated';
