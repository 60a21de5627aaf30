import type { ProviderKind } from '../domain/participant.js';

/**
 * Whether someone may join a call, asked by a backend before it lets them in (Twilio's voice
 * webhook answers a call before it joins the conference). Implemented by the app (the bans and lockdowns).
 */
export interface CallAdmission {
  /**
   * False when an active ban names the caller for this call (a ban of a chat the call belongs to,
   * bound to it by id or name, or configured for it, or a ban everywhere), or the call is locked
   * down and its backend has no lobby to hold them (a Twilio conference).
   */
  admits(call: { provider: ProviderKind; callId?: string; callName?: string }, caller: { phoneNumber?: string }): Promise<boolean>;
}
