import { describe, expect, it } from 'vitest';
import type { NamedModerator, Store } from '../../../src/app/ports/store.js';
import { freshStore } from './fixtures.js';

const CHAT = '19:meeting_abc@thread.v2';
const moderator = (userId: string, overrides: Partial<NamedModerator> = {}): NamedModerator => ({
  conversationId: CHAT,
  userId,
  displayName: `Person ${userId}`,
  addedBy: 'organizer-1',
  addedAt: '2026-11-23T10:00:00.000Z',
  ...overrides,
});

/** The behaviour of every ModeratorStore. `open` returns a fresh, empty store for each test. */
export function runModeratorsContract(name: string, open: () => Promise<Store>): void {
  describe(`ModeratorStore contract: ${name}`, () => {
    const store = freshStore(open);
    const moderators = () => store().moderators;

    it('names a moderator once, and says whether anything changed', async () => {
      expect(await moderators().add(moderator('u-1'))).toBe(true);
      expect(await moderators().add(moderator('u-1', { displayName: 'Again' }))).toBe(false);
      expect(await moderators().list(CHAT)).toEqual([moderator('u-1')]);
    });

    it('matches user ids in any case, and keeps them lower case', async () => {
      await moderators().add(moderator('AAAA-Bbbb', { addedBy: 'ORG-1' }));
      expect(await moderators().has(CHAT, 'aaaa-bbbb')).toBe(true);
      expect(await moderators().has(CHAT, 'AAAA-BBBB')).toBe(true);
      expect(await moderators().list(CHAT)).toMatchObject([{ userId: 'aaaa-bbbb', addedBy: 'org-1' }]);
      expect(await moderators().remove(CHAT, 'AaAa-bBbB')).toBe(true);
      expect(await moderators().has(CHAT, 'aaaa-bbbb')).toBe(false);
    });

    it('keeps each chat apart', async () => {
      await moderators().add(moderator('u-1'));
      expect(await moderators().has('19:other@thread.v2', 'u-1')).toBe(false);
      expect(await moderators().list('19:other@thread.v2')).toEqual([]);
      expect(await moderators().remove('19:other@thread.v2', 'u-1')).toBe(false);
      expect(await moderators().has(CHAT, 'u-1')).toBe(true);
    });

    it('lists in the order they were named, with optional fields absent', async () => {
      await moderators().add(moderator('u-2', { addedAt: '2026-11-23T11:00:00.000Z' }));
      await moderators().add({ conversationId: CHAT, userId: 'u-1', addedAt: '2026-11-23T10:00:00.000Z' });
      expect(await moderators().list(CHAT)).toEqual([
        { conversationId: CHAT, userId: 'u-1', displayName: undefined, addedBy: undefined, addedAt: '2026-11-23T10:00:00.000Z' },
        moderator('u-2', { addedAt: '2026-11-23T11:00:00.000Z' }),
      ]);
    });

    it('remove says false for someone who was not named', async () => {
      expect(await moderators().remove(CHAT, 'nobody')).toBe(false);
    });
  });
}
