import { describe, expect, it } from 'vitest';
import { ChatMembers, COMPLETE_LISTING_FRESH_MS, LIST_RETRY_MS, LISTED_TTL_MS, MEMBER_TTL_MS, NOT_A_MEMBER_TTL_MS } from '../../src/channels/teams/chat-members.js';

const CHAT = '19:meeting_x@thread.v2';
const OTHER = '19:other@thread.v2';
const MALLORY = { id: '29:mallory', name: 'Mallory', aadObjectId: '0A0A0A0A-0000-4000-8000-000000000004', userPrincipalName: 'mallory@contoso.com' };

function clocked(): { members: ChatMembers; advance(ms: number): void } {
  let now = 1_000_000;
  return { members: new ChatMembers(() => now), advance: (ms) => (now += ms) };
}

describe('ChatMembers', () => {
  it('knows a member both ways, per chat, Entra ids in lower case; unknown is undefined', () => {
    const { members } = clocked();
    expect(members.remember(CHAT, MALLORY)).toEqual({ userId: MALLORY.aadObjectId.toLowerCase(), displayName: 'Mallory', userPrincipalName: 'mallory@contoso.com' });
    expect(members.user(CHAT, '29:mallory')).toMatchObject({ userId: MALLORY.aadObjectId.toLowerCase() });
    expect(members.chatIdOf(CHAT, MALLORY.aadObjectId)).toBe('29:mallory');
    expect(members.chatIdOf(CHAT, MALLORY.aadObjectId.toLowerCase())).toBe('29:mallory');
    // Another chat knows nothing of her.
    expect(members.user(OTHER, '29:mallory')).toBeUndefined();
    expect(members.chatIdOf(OTHER, MALLORY.aadObjectId)).toBeUndefined();
  });

  it('takes the email as the UPN when Teams gives no UPN', () => {
    const { members } = clocked();
    expect(members.remember(CHAT, { id: '29:g', name: 'G', email: 'g@contoso.com' })).toEqual({ userId: undefined, displayName: 'G', userPrincipalName: 'g@contoso.com' });
  });

  it('keeps a member for MEMBER_TTL_MS', () => {
    const { members, advance } = clocked();
    members.remember(CHAT, MALLORY);
    advance(MEMBER_TTL_MS - 1);
    expect(members.chatIdOf(CHAT, MALLORY.aadObjectId)).toBe('29:mallory');
    advance(1);
    expect(members.chatIdOf(CHAT, MALLORY.aadObjectId)).toBeUndefined();
    expect(members.user(CHAT, '29:mallory')).toBeUndefined();
  });

  it('remembers "not a member" for NOT_A_MEMBER_TTL_MS only, and forgets it when Teams reports them added', () => {
    const { members, advance } = clocked();
    members.notAMember(CHAT, { userId: MALLORY.aadObjectId });
    members.notAMember(CHAT, { chatId: '29:mallory' });
    expect(members.chatIdOf(CHAT, MALLORY.aadObjectId)).toBeNull();
    expect(members.user(CHAT, '29:mallory')).toBeNull();
    advance(NOT_A_MEMBER_TTL_MS);
    expect(members.chatIdOf(CHAT, MALLORY.aadObjectId)).toBeUndefined();
    expect(members.user(CHAT, '29:mallory')).toBeUndefined();

    members.notAMember(CHAT, { userId: MALLORY.aadObjectId });
    members.notAMember(CHAT, { chatId: '29:mallory' });
    members.added(CHAT, [{ id: '29:mallory', aadObjectId: MALLORY.aadObjectId }]);
    // Reported added with both ids: reachable by Entra id at once; their record is still looked up.
    expect(members.chatIdOf(CHAT, MALLORY.aadObjectId)).toBe('29:mallory');
    expect(members.user(CHAT, '29:mallory')).toBeUndefined();
  });

  it('membersAdded does not forget what is known of a member', () => {
    const { members } = clocked();
    members.remember(CHAT, MALLORY);
    members.added(CHAT, [{ id: '29:mallory', aadObjectId: MALLORY.aadObjectId }]);
    expect(members.chatIdOf(CHAT, MALLORY.aadObjectId)).toBe('29:mallory');
  });

  it('a listing counts for LISTED_TTL_MS, a failed one for LIST_RETRY_MS', () => {
    const { members, advance } = clocked();
    expect(members.isListed(CHAT)).toBe(false);
    members.markListed(CHAT, 'whole');
    members.markListed(OTHER, 'failed');
    advance(LIST_RETRY_MS);
    expect(members.isListed(CHAT)).toBe(true);
    expect(members.isListed(OTHER)).toBe(false);
    advance(LISTED_TTL_MS - LIST_RETRY_MS);
    expect(members.isListed(CHAT)).toBe(false);
  });

  describe('a complete listing answers misses', () => {
    const NOBODY = 'ffffffff-0000-4000-8000-00000000000f';
    /** A listing of CHAT that read every page: Mallory only. */
    function listed(members: ChatMembers, complete = true): void {
      members.listingStarted(CHAT);
      const user = members.remember(CHAT, MALLORY);
      members.listingEnded(CHAT, complete ? new Set([user.userId!]) : undefined);
      members.markListed(CHAT, complete ? 'whole' : 'partial');
    }

    it('an Entra id the complete listing lacks is "not a member" for COMPLETE_LISTING_FRESH_MS, then not known', () => {
      const { members, advance } = clocked();
      expect(members.chatIdOf(CHAT, NOBODY)).toBeUndefined();
      listed(members);
      expect(members.knowsAll(CHAT)).toBe(true);
      expect(members.chatIdOf(CHAT, NOBODY)).toBeNull();
      expect(members.chatIdOf(CHAT, MALLORY.aadObjectId)).toBe('29:mallory');
      expect(members.chatIdOf(OTHER, NOBODY)).toBeUndefined();
      advance(COMPLETE_LISTING_FRESH_MS - 1);
      expect(members.chatIdOf(CHAT, NOBODY)).toBeNull();
      advance(1);
      // Stale: looked up again, and a whole listing is due again.
      expect(members.knowsAll(CHAT)).toBe(false);
      expect(members.chatIdOf(CHAT, NOBODY)).toBeUndefined();
      expect(members.wholeListingDue(CHAT)).toBe(true);
      expect(members.chatIdOf(CHAT, MALLORY.aadObjectId)).toBe('29:mallory');
    });

    it('a listing that stopped at the page cap answers nothing, and is not due again for LISTED_TTL_MS', () => {
      const { members, advance } = clocked();
      listed(members, false);
      expect(members.knowsAll(CHAT)).toBe(false);
      expect(members.chatIdOf(CHAT, NOBODY)).toBeUndefined();
      expect(members.wholeListingDue(CHAT)).toBe(false);
      advance(LISTED_TTL_MS);
      expect(members.wholeListingDue(CHAT)).toBe(true);
      // A failed one is due again after LIST_RETRY_MS.
      members.markListed(CHAT, 'failed');
      expect(members.wholeListingDue(CHAT)).toBe(false);
      advance(LIST_RETRY_MS);
      expect(members.wholeListingDue(CHAT)).toBe(true);
    });

    it('membersAdded after the listing makes the newcomer reachable; one without an Entra id ends what the listing answers', () => {
      const { members } = clocked();
      listed(members);
      expect(members.chatIdOf(CHAT, NOBODY)).toBeNull();
      members.added(CHAT, [{ id: '29:newcomer', aadObjectId: NOBODY }]);
      expect(members.chatIdOf(CHAT, NOBODY)).toBe('29:newcomer');
      expect(members.knowsAll(CHAT)).toBe(true);
      members.added(CHAT, [{ id: '29:no-entra-id' }]);
      expect(members.knowsAll(CHAT)).toBe(false);
      expect(members.chatIdOf(CHAT, 'eeeeeeee-0000-4000-8000-00000000000e')).toBeUndefined();
    });

    it('members added or removed while a listing reads count in its end; membersRemoved makes them "not a member"', () => {
      const { members } = clocked();
      members.listingStarted(CHAT);
      const mallory = members.remember(CHAT, MALLORY).userId!;
      // Read before Teams said she left, and before the newcomer joined.
      members.removed(CHAT, [{ id: '29:mallory', aadObjectId: MALLORY.aadObjectId }]);
      members.added(CHAT, [{ id: '29:newcomer', aadObjectId: NOBODY }]);
      members.listingEnded(CHAT, new Set([mallory]));
      expect(members.knowsAll(CHAT)).toBe(true);
      expect(members.chatIdOf(CHAT, MALLORY.aadObjectId)).toBeNull();
      expect(members.user(CHAT, '29:mallory')).toBeUndefined();
      expect(members.chatIdOf(CHAT, NOBODY)).toBe('29:newcomer');
      // Removed by chat id only: found by the record's Entra id.
      members.remember(CHAT, { id: '29:x', aadObjectId: 'dddddddd-0000-4000-8000-00000000000d' });
      members.removed(CHAT, [{ id: '29:x' }]);
      expect(members.chatIdOf(CHAT, 'dddddddd-0000-4000-8000-00000000000d')).toBeNull();
    });
  });
});
