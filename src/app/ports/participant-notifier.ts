import type { NoticeContent } from '../domain/notice.js';
import type { NotReachableReason } from '../domain/outcome.js';
import type { ReplyAddress } from '../domain/participant.js';
import type { NoticeRef } from './call-provider.js';

export type { NotReachableReason };

/** A private notice to one person, as a channel delivers it: what it says, and how it is fetched back. */
export interface PrivateNotice extends NoticeContent {
  /** Where Bouncer serves it back (its notice page: Moderation.notice). */
  ref: NoticeRef;
}

/** One person in the meeting of a chat, to notify privately. */
export interface MeetingNoticeTarget {
  conversationId: string;
  /** The chat's reply address (the channel that made it reads it). */
  replyAddress: ReplyAddress;
  tenantId?: string;
  /** The meeting as the chat's channel names it (Teams: `channelData.meeting.id`). */
  meetingId: string;
  /** The person's chat id (Teams `29:…`), when the request named them by mention. */
  chatId?: string;
  /** The person's directory id (Entra object id), to find their chat id otherwise. */
  userId?: string;
}


/** What became of a notice that did not throw: delivered, or the person cannot be reached (nothing was sent). */
export type NoticeDelivery = { sent: true } | { sent: false; reason: NotReachableReason };

/**
 * Private notices to one person in a chat's meeting (Teams: a targeted in-meeting notification,
 * sent by the chat channel). Each call has a deadline. A person who cannot be reached resolves
 * `{ sent: false }` (no error, nothing logged as a failure); a notice that was not delivered for
 * any other reason (5xx, a timeout, a refused notification) throws an outage (UpstreamError), so
 * that the caller can record it.
 */
export interface ParticipantNotifier {
  notifyInMeeting(to: MeetingNoticeTarget, notice: PrivateNotice): Promise<NoticeDelivery>;
}
