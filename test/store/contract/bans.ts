import { describe, expect, it } from 'vitest';
import { BAN_EVERYWHERE, type NewBan, type Store } from '../../../src/app/ports/store.js';
import { freshStore } from './fixtures.js';

const CHAT = '19:meeting_abc@thread.v2';
const OTHER = '19:other@thread.v2';
const T0 = '2026-11-23T10:00:00.000Z';
const LATER = '2026-11-23T11:00:00.000Z';
const EXPIRY = '2026-11-23T12:00:00.000Z';
const AFTER_EXPIRY = '2026-11-23T12:00:00.001Z';

const ban = (caseId: number, overrides: Partial<NewBan> = {}): NewBan => ({
  caseId,
  scope: CHAT,
  identities: [{ kind: 'user', value: 'u-mallory' }],
  targetName: 'Mallory',
  reason: 'spam',
  createdBy: 'u-olivia',
  createdByName: 'Olivia',
  createdAt: T0,
  ...overrides,
});
const user = (value: string) => ({ kind: 'user' as const, value });
const phone = (value: string) => ({ kind: 'phone' as const, value });
const label = (value: string) => ({ kind: 'label' as const, value });

/** The behaviour of every BanStore. `open` returns a fresh, empty store for each test. */
export function runBansContract(name: string, open: () => Promise<Store>): void {
  describe(`BanStore contract: ${name}`, () => {
    const store = freshStore(open);
    const bans = () => store().bans;

    it('round-trips a ban with every field, and one without its optional fields', async () => {
      const full = ban(1, { identities: [user('u-mallory'), phone('+15550000001'), label('Guest #3')], expiresAt: EXPIRY });
      await bans().add(full);
      await bans().add({ caseId: 2, scope: BAN_EVERYWHERE, identities: [phone('+15550000002')], createdAt: T0 });
      expect(await bans().get(1)).toEqual({ ...full, liftedAt: undefined, liftedBy: undefined, liftCaseId: undefined });
      expect(await bans().get(2)).toEqual({
        caseId: 2,
        scope: BAN_EVERYWHERE,
        identities: [phone('+15550000002')],
        targetName: undefined,
        reason: undefined,
        createdBy: undefined,
        createdByName: undefined,
        createdAt: T0,
        expiresAt: undefined,
        liftedAt: undefined,
        liftedBy: undefined,
        liftCaseId: undefined,
      });
      expect(await bans().get(3)).toBeUndefined();
    });

    it('refuses a second ban with the same case number', async () => {
      await bans().add(ban(1));
      await expect(bans().add(ban(1, { scope: OTHER }))).rejects.toMatchObject({ code: 'STORE_FAILED' });
      expect((await bans().get(1))?.scope).toBe(CHAT);
    });

    it('finds active bans by scope and any identity; user ids in any case, kept lower case', async () => {
      await bans().add(ban(1, { identities: [user('AAAA-Bbbb'), phone('+15550000001')], createdBy: 'U-OLIVIA' }));
      await bans().add(ban(2, { identities: [label('Guest #3')], createdAt: LATER }));
      expect(await bans().get(1)).toMatchObject({ identities: [user('aaaa-bbbb'), phone('+15550000001')], createdBy: 'u-olivia' });

      const found = (ids: Parameters<ReturnType<typeof bans>['findActive']>[1]) => bans().findActive([CHAT], ids, LATER).then((l) => l.map((b) => b.caseId));
      expect(await found([user('aaaa-BBBB')])).toEqual([1]);
      expect(await found([phone('+15550000001')])).toEqual([1]);
      expect(await found([label('Guest #3')])).toEqual([2]);
      // Oldest first, each ban once however many of its identities match.
      expect(await found([label('Guest #3'), user('aaaa-bbbb'), phone('+15550000001')])).toEqual([1, 2]);
      // Labels and numbers match exactly; an identity of another kind with the same value does not.
      expect(await found([label('guest #3'), phone('+15550000009'), label('+15550000001'), user('Guest #3')])).toEqual([]);
      expect(await bans().findActive([CHAT], [], LATER)).toEqual([]);
      expect(await bans().findActive([], [user('aaaa-bbbb')], LATER)).toEqual([]);
    });

    it('keeps scopes apart: a chat, another chat, everywhere', async () => {
      await bans().add(ban(1, { scope: CHAT }));
      await bans().add(ban(2, { scope: BAN_EVERYWHERE }));
      await bans().add(ban(3, { scope: OTHER }));
      const found = (scopes: string[]) => bans().findActive(scopes, [user('u-mallory')], LATER).then((l) => l.map((b) => b.caseId));
      expect(await found([CHAT])).toEqual([1]);
      expect(await found([CHAT, BAN_EVERYWHERE])).toEqual([1, 2]);
      expect(await found([BAN_EVERYWHERE])).toEqual([2]);
      expect(await found(['19:nobody@thread.v2'])).toEqual([]);
    });

    it('a ban expires at its expiry time (active strictly before it)', async () => {
      await bans().add(ban(1, { expiresAt: EXPIRY }));
      expect(await bans().findActive([CHAT], [user('u-mallory')], '2026-11-23T11:59:59.999Z')).toHaveLength(1);
      expect(await bans().findActive([CHAT], [user('u-mallory')], EXPIRY)).toEqual([]);
      expect(await bans().listActive([CHAT], AFTER_EXPIRY, 10)).toEqual([]);
      // Expired: nothing to lift.
      expect(await bans().lift(1, { at: AFTER_EXPIRY })).toBe(false);
      expect((await bans().get(1))?.liftedAt).toBeUndefined();
    });

    it('lifts an active ban once, saying who and by which case', async () => {
      await bans().add(ban(1));
      expect(await bans().lift(1, { at: LATER, by: 'U-ADMIN', caseId: 7 })).toBe(true);
      expect(await bans().get(1)).toMatchObject({ liftedAt: LATER, liftedBy: 'u-admin', liftCaseId: 7 });
      expect(await bans().findActive([CHAT], [user('u-mallory')], LATER)).toEqual([]);
      expect(await bans().listActive([CHAT], LATER, 10)).toEqual([]);
      expect(await bans().lift(1, { at: LATER, by: 'someone-else', caseId: 8 })).toBe(false);
      expect(await bans().get(1)).toMatchObject({ liftedBy: 'u-admin', liftCaseId: 7 });
      expect(await bans().lift(99, { at: LATER })).toBe(false);
    });

    it('lists the active bans of the scopes asked for, newest first, at most `limit`', async () => {
      await bans().add(ban(1, { createdAt: '2026-11-23T10:01:00.000Z' }));
      await bans().add(ban(2, { scope: BAN_EVERYWHERE, createdAt: '2026-11-23T10:02:00.000Z' }));
      await bans().add(ban(3, { scope: OTHER, createdAt: '2026-11-23T10:03:00.000Z' }));
      await bans().add(ban(4, { createdAt: '2026-11-23T10:04:00.000Z', expiresAt: '2026-11-23T10:30:00.000Z' }));
      await bans().add(ban(5, { createdAt: '2026-11-23T10:04:00.000Z' }));
      const listed = (at: string, limit = 10) => bans().listActive([CHAT, BAN_EVERYWHERE], at, limit).then((l) => l.map((b) => b.caseId));
      expect(await listed('2026-11-23T10:10:00.000Z')).toEqual([5, 4, 2, 1]);
      expect(await listed(LATER)).toEqual([5, 2, 1]);
      expect(await listed(LATER, 2)).toEqual([5, 2]);
      expect(await bans().listActive([], LATER, 10)).toEqual([]);
    });
  });
}
