import { TeamsInfo, type CloudAdapter } from 'botbuilder';
import { awaitWithin } from '../../app/domain/deadline.js';
import type { Logger } from '../../app/ports/runtime.js';
import type { ChatMembers } from './chat-members.js';
import { groupChatReference } from './reply-address.js';
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
 * (`GET /v3/conversations/{id}/pagedmembers?pageSize=&continuationToken=`, TeamsInfo.getPagedMembers;
 * https://learn.microsoft.com/microsoftteams/platform/bots/how-to/get-teams-context#fetch-the-roster-or-user-profile)
 * into `ChatMembers`, in the background: never on a request's path, nothing waits for it, and a
 * failure is only logged (a kick of someone not known yet looks them up, as it always did). One
 * listing per chat at a time; a chat read lately is not read again, unless Teams reported members
 * added (`refresh`), which reads it again once the current listing ends.
 */
export class MemberPrefetch {
  private readonly running = new Map<string, { again: boolean }>();

  constructor(
    private readonly deps: {
      adapter: CloudAdapter;
      appId: string;
      members: ChatMembers;
      /** UPSTREAM_TIMEOUT_MS: each page's deadline. */
      timeoutMs: number;
      logger: Logger;
      /** Where the listing is tracked, so that a shutdown waits for it (bounded by LISTING_DEADLINE_MS). */
      background: { track(work: Promise<unknown>): void };
    },
  ) {}

  /** Starts reading the chat's members, unless it was read lately (`refresh`: read it anyway) or is being read. */
  start(chat: ChatToList, why: string, refresh = false): void {
    const { conversationId } = chat;
    const current = this.running.get(conversationId);
    if (current) {
      if (refresh) current.again = true;
      return;
    }
    if (!refresh && this.deps.members.isListed(conversationId)) return;
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
    const { adapter, appId, members, timeoutMs, logger } = this.deps;
    const { conversationId } = chat;
    const startedAt = Date.now();
    const deadline = startedAt + LISTING_DEADLINE_MS;
    const reference = groupChatReference(appId, chat);
    let listed = 0;
    let pages = 0;
    /** Whether members were left unread (a next page, or past MAX_LISTED_MEMBERS). */
    let more = false;
    // A failure inside the callback would go to the adapter's onTurnError (which answers the
    // chat): it is kept here and thrown after.
    let failure: unknown;
    try {
      const reading = adapter.continueConversationAsync(appId, reference, async (context) => {
        try {
          let token: string | undefined;
          do {
            const left = deadline - Date.now();
            const page = await awaitWithin(TeamsInfo.getPagedMembers(context, MEMBER_PAGE_SIZE, token), Math.min(timeoutMs, left), 'teams', 'Teams member list');
            pages += 1;
            const accounts = page.members ?? [];
            const room = MAX_LISTED_MEMBERS - listed;
            for (const account of accounts.slice(0, room)) {
              if (typeof account?.id !== 'string' || !account.id) continue;
              members.remember(conversationId, account);
              listed += 1;
            }
            token = page.continuationToken || undefined;
            more = !!token || accounts.length > room;
          } while (token && pages < MAX_MEMBER_PAGES && listed < MAX_LISTED_MEMBERS && Date.now() < deadline);
        } catch (err) {
          failure = err;
        }
      });
      await awaitWithin(reading, LISTING_DEADLINE_MS, 'teams', 'Teams member list');
      if (failure) throw failure;
      members.markListed(conversationId, true);
      logger.debug({ conversationId, why, members: listed, pages, whole: !more, ms: Date.now() - startedAt }, 'chat members listed');
    } catch (err) {
      members.markListed(conversationId, false);
      logger.warn({ err: teamsFailure('member list', err), conversationId, why, members: listed, pages }, 'could not list the chat members');
    }
  }
}
