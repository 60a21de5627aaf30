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
/**
 * How long a complete reading of a chat's member list (every page, `member-prefetch.ts`) answers a
 * miss: an Entra id it does not have, when Teams' membersAdded since were applied, is "not a
 * member" without a member lookup. Short, as a membersAdded Teams never delivered would otherwise
 * hide a newcomer: after it, a miss is looked up again (and the list is read again).
 */
export const COMPLETE_LISTING_FRESH_MS = 5 * 60_000;
/** After a failed read of a chat's member list: no new attempt within this, so a failing Bot Connector is not asked on every command. */
export const LIST_RETRY_MS = 60_000;
/** Entra ids kept at most across the chats' complete member listings (a chat's listing weighs its members; the oldest go first). */
const MAX_LISTED_IDS = 50_000;
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
  /** Chats whose last reading failed (for LIST_RETRY_MS) or stopped at the page cap (for LISTED_TTL_MS). */
  private readonly inVain: TtlCache<true>;
  /** The Entra ids of each chat's last complete listing, with the members Teams reported added (and not removed) since. */
  private readonly complete: TtlCache<Set<string>>;
  /** The listings being read, by chat: the Entra ids added and removed while they read (`null`: one added had no Entra id). */
  private readonly reading = new Map<string, { added: Set<string>; removed: Set<string> } | null>();

  constructor(now: () => number = Date.now) {
    this.byChatId = new TtlCache(MEMBER_TTL_MS, MAX_RECORDS, now);
    this.byUserId = new TtlCache(MEMBER_TTL_MS, MAX_RECORDS, now);
    this.listed = new TtlCache(LISTED_TTL_MS, 10_000, now);
    this.inVain = new TtlCache(LISTED_TTL_MS, 10_000, now);
    this.complete = new TtlCache<Set<string>>(COMPLETE_LISTING_FRESH_MS, MAX_LISTED_IDS, now, (ids) => ids.size);
  }

  /** A member by chat id: their record, null when known not to be a member, undefined when not known. */
  user(conversationId: string, chatId: string): ChatUser | null | undefined {
    return this.byChatId.get(key(conversationId, chatId));
  }

  /**
   * A member's chat id by Entra object id: null when known not to be a member (a lookup's 404, or
   * absent from a complete listing of the chat under COMPLETE_LISTING_FRESH_MS old), undefined
   * when not known.
   */
  chatIdOf(conversationId: string, userId: string): string | null | undefined {
    const id = userId.toLowerCase();
    const known = this.byUserId.get(key(conversationId, id));
    if (known !== undefined) return known;
    const listing = this.complete.get(conversationId);
    // In the listing but no longer in the records (evicted): not known, looked up.
    return listing && !listing.has(id) ? null : undefined;
  }

  /** Whether the chat's members are known whole (a complete listing under COMPLETE_LISTING_FRESH_MS old). */
  knowsAll(conversationId: string): boolean {
    return this.complete.get(conversationId) !== undefined;
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

  /**
   * Teams reported these people added to the chat (membersAdded): whatever said they were not
   * members is forgotten, a newcomer with both ids is reachable by Entra id at once, and the chat's
   * complete listing (and the one being read) counts them in. One without an Entra id makes the
   * listing no longer complete: misses are looked up again.
   */
  added(conversationId: string, members: ReadonlyArray<{ id?: string; aadObjectId?: string }>): void {
    const listing = this.complete.get(conversationId);
    const reading = this.reading.get(conversationId);
    for (const m of members) {
      if (m.id && this.byChatId.get(key(conversationId, m.id)) === null) this.byChatId.delete(key(conversationId, m.id));
      const userId = m.aadObjectId?.toLowerCase();
      if (!userId) {
        this.complete.delete(conversationId);
        if (reading !== undefined) this.reading.set(conversationId, null);
        continue;
      }
      if (m.id) this.byUserId.set(key(conversationId, userId), m.id);
      else if (this.byUserId.get(key(conversationId, userId)) === null) this.byUserId.delete(key(conversationId, userId));
      listing?.add(userId);
      reading?.added.add(userId);
      reading?.removed.delete(userId);
    }
  }

  /** Teams reported these people removed from the chat (membersRemoved): no longer members, here or in the chat's listings. */
  removed(conversationId: string, members: ReadonlyArray<{ id?: string; aadObjectId?: string }>): void {
    const listing = this.complete.get(conversationId);
    const reading = this.reading.get(conversationId);
    for (const m of members) {
      const userId = m.aadObjectId?.toLowerCase() ?? (m.id ? this.byChatId.get(key(conversationId, m.id))?.userId : undefined);
      if (m.id) this.byChatId.delete(key(conversationId, m.id));
      if (!userId) continue;
      this.byUserId.delete(key(conversationId, userId));
      listing?.delete(userId);
      reading?.added.delete(userId);
      reading?.removed.add(userId);
    }
  }

  /** A listing of the chat's members begins: what Teams reports added or removed while it reads is kept for its end. */
  listingStarted(conversationId: string): void {
    this.reading.set(conversationId, { added: new Set(), removed: new Set() });
  }

  /**
   * A listing ended. `complete` (every page read): the Entra ids it found, with those added and
   * without those removed while it read, answer misses for COMPLETE_LISTING_FRESH_MS. Otherwise
   * (a page cap, a failure) whatever complete listing there was stays as it is.
   */
  listingEnded(conversationId: string, complete: Set<string> | undefined): void {
    const reading = this.reading.get(conversationId);
    this.reading.delete(conversationId);
    if (!complete || reading === null || reading === undefined) return;
    for (const id of reading.added) complete.add(id);
    for (const id of reading.removed) complete.delete(id);
    this.complete.set(conversationId, complete);
  }

  /** Whether the chat's member list was read lately (or its reading failed lately): no new reading is due. */
  isListed(conversationId: string): boolean {
    return this.listed.get(conversationId) !== undefined;
  }

  /**
   * Whether reading the chat's member list now would let a miss be answered without a lookup: its
   * members are not known whole, and no reading lately failed (LIST_RETRY_MS) or stopped at the page
   * cap (LISTED_TTL_MS: the chat is too big to be read whole).
   */
  wholeListingDue(conversationId: string): boolean {
    return !this.knowsAll(conversationId) && this.inVain.get(conversationId) === undefined;
  }

  /** The chat's member list was read whole, read in part (the page cap), or reading it failed: not again for a while. */
  markListed(conversationId: string, result: 'whole' | 'partial' | 'failed'): void {
    const ttl = result === 'failed' ? LIST_RETRY_MS : LISTED_TTL_MS;
    this.listed.set(conversationId, true, ttl);
    if (result === 'whole') this.inVain.delete(conversationId);
    else this.inVain.set(conversationId, true, ttl);
  }
}
