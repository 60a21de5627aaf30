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
}

/** How a chat is bound to a call. */
export interface CallBinding {
  conversationId: string;
  provider: 'teams';
  callId: string;
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
