import type { ChatUser } from '../../app/ports/chat-directory.js';
import { TtlCache } from './ttl-cache.js';

/**
 * How long a chat member's record is kept: a member's chat id (`29:…`) and Entra object id never
 * change for this app, so a day-long meeting is covered; names rarely change.
 */
export const MEMBER_TTL_MS = 12 * 60 * 60_000;
/**
 * How long "not a member" is remembered: a burst of webhook kicks of people outside the chat makes
 * one failing lookup, not one each; short, as people join chats (and Teams' membersAdded forgets it).
 */
export const NOT_A_MEMBER_TTL_MS = 60_000;
/** How long a chat's member list, once read, is not read again but when Teams reports members added. */
export const LISTED_TTL_MS = 60 * 60_000;
/** After a failed read of a chat's member list: no new attempt within this, so a failing Bot Connector is not asked on every command. */
export const LIST_RETRY_MS = 60_000;
/** Records kept across chats (each way): a few of the biggest listings (5,000 members each, `member-prefetch.ts`). */
const MAX_RECORDS = 50_000;

/** A member as the Bot Connector describes one (TeamsChannelAccount: a member lookup or a page of the member list). */
export interface MemberAccount {
  id: string;
  name?: string;
  aadObjectId?: string;
  userPrincipalName?: string;
  email?: string;
}

const key = (conversationId: string, id: string) => `${conversationId}|${id}`;

/**
 * What Bouncer knows of the members of the Teams chats it is in, by chat id and by Entra object id,
 * shared by the turns' directory lookups and the participant notifier: filled by member lookups and
 * by reading a chat's member list ahead (`member-prefetch.ts`), so a kick of a known member asks
 * the Bot Connector nothing. `undefined` from a lookup means "not known": ask Teams.
 */
export class ChatMembers {
  private readonly byChatId: TtlCache<ChatUser | null>;
  private readonly byUserId: TtlCache<string | null>;
  private readonly listed: TtlCache<true>;

  constructor(now: () => number = Date.now) {
    this.byChatId = new TtlCache(MEMBER_TTL_MS, MAX_RECORDS, now);
    this.byUserId = new TtlCache(MEMBER_TTL_MS, MAX_RECORDS, now);
    this.listed = new TtlCache(LISTED_TTL_MS, 10_000, now);
  }

  /** A member by chat id: their record, null when known not to be a member, undefined when not known. */
  user(conversationId: string, chatId: string): ChatUser | null | undefined {
    return this.byChatId.get(key(conversationId, chatId));
  }

  /** A member's chat id by Entra object id: null when known not to be a member, undefined when not known. */
  chatIdOf(conversationId: string, userId: string): string | null | undefined {
    return this.byUserId.get(key(conversationId, userId.toLowerCase()));
  }

  /** Remembers a member Teams described; returns their record. */
  remember(conversationId: string, account: MemberAccount): ChatUser {
    const user: ChatUser = {
      userId: account.aadObjectId?.toLowerCase(),
      displayName: account.name,
      userPrincipalName: account.userPrincipalName ?? account.email,
    };
    this.byChatId.set(key(conversationId, account.id), user);
    if (user.userId) this.byUserId.set(key(conversationId, user.userId), account.id);
    return user;
  }

  /** Teams answered that nobody with this id is a member of the chat: remembered for a short time. */
  notAMember(conversationId: string, id: { chatId: string } | { userId: string }): void {
    if ('chatId' in id) this.byChatId.set(key(conversationId, id.chatId), null, NOT_A_MEMBER_TTL_MS);
    else this.byUserId.set(key(conversationId, id.userId.toLowerCase()), null, NOT_A_MEMBER_TTL_MS);
  }

  /** Teams reported these people added to the chat: whatever said they were not members is forgotten. */
  added(conversationId: string, members: ReadonlyArray<{ id?: string; aadObjectId?: string }>): void {
    for (const m of members) {
      if (m.id && this.byChatId.get(key(conversationId, m.id)) === null) this.byChatId.delete(key(conversationId, m.id));
      const userId = m.aadObjectId?.toLowerCase();
      if (userId && this.byUserId.get(key(conversationId, userId)) === null) this.byUserId.delete(key(conversationId, userId));
    }
  }

  /** Whether the chat's member list was read lately (or its reading failed lately): no new reading is due. */
  isListed(conversationId: string): boolean {
    return this.listed.get(conversationId) !== undefined;
  }

  /** The chat's member list was read (`ok`), or reading it failed: either way, not again for a while. */
  markListed(conversationId: string, ok: boolean): void {
    this.listed.set(conversationId, true, ok ? LISTED_TTL_MS : LIST_RETRY_MS);
  }
}
