import { describe, expect, it } from 'vitest';
import { ChatMembers, LIST_RETRY_MS, LISTED_TTL_MS, MEMBER_TTL_MS, NOT_A_MEMBER_TTL_MS } from '../../src/channels/teams/chat-members.js';

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
    expect(members.chatIdOf(CHAT, MALLORY.aadObjectId)).toBeUndefined();
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
    members.markListed(CHAT, true);
    members.markListed(OTHER, false);
    advance(LIST_RETRY_MS);
    expect(members.isListed(CHAT)).toBe(true);
    expect(members.isListed(OTHER)).toBe(false);
    advance(LISTED_TTL_MS - LIST_RETRY_MS);
    expect(members.isListed(CHAT)).toBe(false);
  });
});
