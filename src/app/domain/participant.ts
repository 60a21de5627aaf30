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
  /** Participant label (Twilio), when one was given. */
  label?: string;
  /** Phone numbers the participant is calling from or to (E.164), when known. */
  phoneNumbers?: string[];
}

/**
 * Roster order: by display name (participants without one first), then participant id; strings
 * compared by code point, as SQL stores compare text (SQLite BINARY, PostgreSQL "C"). JavaScript's
 * `<` compares UTF-16 units instead, which differs above U+FFFF.
 */
export function compareRosterOrder(a: Participant, b: Participant): number {
  if (a.displayName !== b.displayName) {
    if (a.displayName === undefined) return -1;
    if (b.displayName === undefined) return 1;
    return compareCodePoints(a.displayName, b.displayName);
  }
  return compareCodePoints(a.participantId, b.participantId);
}

function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * A calling backend's name ('teams', 'twilio', …). The list of provider modules
 * (src/providers/index.ts) is the only place that knows which exist; core never compares them.
 */
export type ProviderKind = string;

/**
 * Where a chat channel sends later messages for a chat (Teams: its service URL). Opaque to core
 * and the store: only the channel that made it reads it.
 */
export type ReplyAddress = string;

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
  /** Where notices about this call go in the bound chat. */
  replyAddress?: ReplyAddress;
  createdAt: string;
  updatedAt: string;
}

export type CallState = 'establishing' | 'established' | 'terminated';

/** The binding when its call is still live (not terminated). */
export function liveBinding(binding: CallBinding | undefined): CallBinding | undefined {
  return binding && binding.state !== 'terminated' ? binding : undefined;
}
