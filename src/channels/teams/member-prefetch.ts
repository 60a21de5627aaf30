import type { Logger } from '../../app/ports/runtime.js';
import type { BotConnector } from './bot-connector.js';
import type { ChatMembers } from './chat-members.js';
import { teamsFailure } from './teams-directory.js';

/** Members asked for per page: Teams' largest page (it takes 50 to 500). */
export const MEMBER_PAGE_SIZE = 500;
/** Pages read at most per listing: with MAX_LISTED_MEMBERS, a chat of up to 5,000 members is known whole. */
export const MAX_MEMBER_PAGES = 10;
/** Members kept at most per listing (Teams answers a chat's whole roster in one page, however big). */
export const MAX_LISTED_MEMBERS = MAX_MEMBER_PAGES * MEMBER_PAGE_SIZE;
/** A whole listing stops after this, whatever is left to read (each page also has the Bot Connector deadline). */
export const LISTING_DEADLINE_MS = 30_000;

/** The chat whose members are read, and the Bot Connector that serves it. */
export interface ChatToList {
  conversationId: string;
  serviceUrl: string;
  tenantId?: string;
}

/**
 * Reads a chat's members from the Bot Connector's paged member list
 * (`GET /v3/conversations/{id}/pagedmembers?pageSize=&continuationToken=`, `BotConnector.pagedMembers`:
 * sent directly, each page with the Bot Connector's deadline and retries, no proactive turn)
 * into `ChatMembers`, in the background: never on a request's path, nothing waits for it, and a
 * failure is only logged (a kick of someone not known yet looks them up, as it always did). One
 * listing per chat at a time; a chat read lately is not read again, unless Teams reported members
 * added (`refresh`), which reads it again once the current listing ends, or a notice found the
 * chat's members not known whole (`whole`: read unless a reading lately failed or hit the page cap).
 * A listing that read every page answers misses for COMPLETE_LISTING_FRESH_MS (`chat-members.ts`).
 */
export class MemberPrefetch {
  private readonly running = new Map<string, { again: boolean }>();

  constructor(
    private readonly deps: {
      connector: BotConnector;
      members: ChatMembers;
      /** UPSTREAM_TIMEOUT_MS: each page's deadline. */
      timeoutMs: number;
      logger: Logger;
      /** Where the listing is tracked, so that a shutdown waits for it (bounded by LISTING_DEADLINE_MS). */
      background: { track(work: Promise<unknown>): void };
    },
  ) {}

  /**
   * Starts reading the chat's members, unless it is being read, or was read lately (`refresh`: read
   * it anyway; `whole`: unless its members are known whole, or reading them lately failed or hit the page cap).
   */
  start(chat: ChatToList, why: string, when: 'unless-listed' | 'refresh' | 'whole' = 'unless-listed'): void {
    const { conversationId } = chat;
    const current = this.running.get(conversationId);
    if (current) {
      if (when === 'refresh') current.again = true;
      return;
    }
    const { members } = this.deps;
    if (when === 'unless-listed' && members.isListed(conversationId)) return;
    if (when === 'whole' && !members.wholeListingDue(conversationId)) return;
    const state = { again: false };
    this.running.set(conversationId, state);
    const work = (async () => {
      try {
        do {
          state.again = false;
          await this.list(chat, why);
        } while (state.again);
      } finally {
        this.running.delete(conversationId);
      }
    })();
    this.deps.background.track(work);
  }

  private async list(chat: ChatToList, why: string): Promise<void> {
    const { connector, members, timeoutMs, logger } = this.deps;
    const { conversationId } = chat;
    const startedAt = Date.now();
    const deadline = startedAt + LISTING_DEADLINE_MS;
    /** The Entra ids read: with every page read, the chat's members whole. */
    const found = new Set<string>();
    let listed = 0;
    let pages = 0;
    /** Whether members were left unread (a next page, or past MAX_LISTED_MEMBERS). */
    let more = false;
    members.listingStarted(conversationId);
    try {
      let token: string | undefined;
      do {
        // Each page within the Bot Connector's deadline, and within what is left of the listing's.
        const page = await connector.pagedMembers(chat, MEMBER_PAGE_SIZE, token, Math.min(Date.now() + timeoutMs, deadline));
        pages += 1;
        const room = MAX_LISTED_MEMBERS - listed;
        for (const account of page.members.slice(0, room)) {
          const user = members.remember(conversationId, account);
          if (user.userId) found.add(user.userId);
          listed += 1;
        }
        token = page.continuationToken;
        more = !!token || page.members.length > room;
      } while (token && pages < MAX_MEMBER_PAGES && listed < MAX_LISTED_MEMBERS && Date.now() < deadline);
      members.listingEnded(conversationId, more ? undefined : found);
      members.markListed(conversationId, more ? 'partial' : 'whole');
      logger.debug({ conversationId, why, members: listed, pages, whole: !more, ms: Date.now() - startedAt }, 'chat members listed');
    } catch (err) {
      members.listingEnded(conversationId, undefined);
      members.markListed(conversationId, 'failed');
      logger.warn({ err: teamsFailure('member list', err), conversationId, why, members: listed, pages }, 'could not list the chat members');
    }
  }
}
