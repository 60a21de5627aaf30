import type { Outcome, OutcomeKind } from '../domain/outcome.js';
import type { ReplyAddress } from '../domain/participant.js';
import type { AuditCase } from './store.js';

/** A removal an automated system (a webhook's signer) asked for. */
export interface SystemRemoval {
  outcome: Extract<Outcome, { kind: 'removed' }>;
  system: string;
  reason?: string;
}

/** Something the chat bound to a call should hear about, though it did not ask. */
export type ChatNotice =
  /** An automated system removed someone from the chat's call. */
  | ({ kind: 'system_removal' } & SystemRemoval)
  /** Several removals automated systems asked for, told together (each one named). */
  | { kind: 'system_removals'; removals: readonly SystemRemoval[] }
  /** An automated system banned, unbanned, muted or unmuted someone in the chat's calls (the webhook API). */
  | { kind: 'system_action'; outcome: Extract<Outcome, { kind: 'banned' | 'unbanned' | 'muted' | 'unmuted' }>; system: string; reason?: string }
  /** Bouncer removed a banned person who joined the chat's call (`banCaseId`: the case of the ban). */
  | { kind: 'ban_enforced'; outcome: Extract<Outcome, { kind: 'removed' }>; banCaseId: number; everywhere: boolean }
  /** Raid mode: `joins` joins within `windowMs` set off a lockdown of the chat's call; `outcome` is what came of it. */
  | { kind: 'raid'; trigger: { joins: number; windowMs: number }; outcome: Outcome }
  /** More removals of banned people than the chat was told of one by one, over the last `seconds`. */
  | { kind: 'ban_enforced_summary'; count: number; seconds: number }
  /**
   * To a mod-log channel: cases completed in any chat since the last post, oldest first, at most a
   * few in full; the rest summed up in `more`.
   */
  | { kind: 'modlog'; cases: AuditCase[]; more?: ModLogSummary };

/** Cases a mod-log post sums up instead of showing each: how many, their numbers' range, and what they came to. */
export interface ModLogSummary {
  count: number;
  firstCaseId: number;
  lastCaseId: number;
  /** How many came to each outcome. */
  outcomes: Partial<Record<OutcomeKind, number>>;
}

/** Where a notice goes: a chat, through the channel that made its reply address. */
export interface NoticeAddress {
  conversationId: string;
  replyAddress: ReplyAddress;
  tenantId?: string;
}

/** Proactive messages to a chat. Failures are the notifier's to log: the action itself is done. */
export interface ChatNotifier {
  /** Sends the notice; resolves false when it did not arrive (logged), never rejects. Each send has a deadline. */
  notify(to: NoticeAddress, notice: ChatNotice): Promise<boolean>;
}
