import type { Outcome } from '../domain/outcome.js';
import type { ReplyAddress } from '../domain/participant.js';

/** Something the chat bound to a call should hear about, though it did not ask. */
export type ChatNotice =
  /** An automated system removed someone from the chat's call. */
  | { kind: 'system_removal'; outcome: Extract<Outcome, { kind: 'removed' }>; system: string; reason?: string }
  /** Bouncer removed a banned person who joined the chat's call (`banCaseId`: the case of the ban). */
  | { kind: 'ban_enforced'; outcome: Extract<Outcome, { kind: 'removed' }>; banCaseId: number; everywhere: boolean }
  /** More removals of banned people than the chat was told of one by one, over the last `seconds`. */
  | { kind: 'ban_enforced_summary'; count: number; seconds: number };

/** Where a notice goes: a chat, through the channel that made its reply address. */
export interface NoticeAddress {
  conversationId: string;
  replyAddress: ReplyAddress;
  tenantId?: string;
}

/** Proactive messages to a chat. Failures are the notifier's to log: the action itself is done. */
export interface ChatNotifier {
  notify(to: NoticeAddress, notice: ChatNotice): Promise<void>;
}
