import { describe, expect, it } from 'vitest';
import type { ModLogChannel, Store } from '../../../src/app/ports/store.js';
import { freshStore, newCase, REPLY_ADDRESS } from './fixtures.js';

/** The behaviour every store gives `/cases @person` and `/reason`: cases by target, and a reason's history. */
export function runCaseToolsContract(name: string, open: () => Promise<Store>): void {
  describe(`CaseStore contract (case tools): ${name}`, () => {
    const store = freshStore(open);
    const cases = () => store().cases;

    it('lists the cases against a person by user id (any case) or chat id, newest first, across chats', async () => {
      const a = await cases().open(newCase({ targetUserId: 'AAAA-1111', targetChatId: '29:mallory', conversationId: '19:one@thread.v2' }));
      const b = await cases().open(newCase({ targetUserId: undefined, targetChatId: '29:mallory', conversationId: '19:two@thread.v2' }), { outcome: 'removed' });
      await cases().open(newCase({ targetUserId: 'bbbb-2222', targetChatId: '29:bob' }));
      const c = await cases().open(newCase({ targetUserId: 'aaaa-1111', targetChatId: undefined, conversationId: undefined }));

      expect((await cases().listByTarget({ userId: 'aaaa-1111', chatId: '29:mallory', limit: 10 })).map((x) => x.id)).toEqual([c, b, a]);
      expect((await cases().listByTarget({ userId: 'AAAA-1111', limit: 10 })).map((x) => x.id)).toEqual([c, a]);
      expect((await cases().listByTarget({ chatId: '29:mallory', limit: 10 })).map((x) => x.id)).toEqual([b, a]);
      expect((await cases().listByTarget({ userId: 'aaaa-1111', chatId: '29:mallory', limit: 2 })).map((x) => x.id)).toEqual([c, b]);
      expect(await cases().listByTarget({ limit: 10 })).toEqual([]);
      // Target user ids are kept lower case.
      expect((await cases().get(a))?.targetUserId).toBe('aaaa-1111');
    });

    it('edits a reason, keeping every earlier one in order', async () => {
      const id = await cases().open(newCase({ reason: 'spam' }), { outcome: 'removed' });
      expect(await cases().editReason(id, { reason: 'spamming links', editedAt: '2026-11-22T11:00:00.000Z', editedBy: 'OLIVIA', editedByName: 'Olivia', editCaseId: 900 })).toEqual({
        found: true,
        previous: 'spam',
      });
      expect(await cases().editReason(id, { reason: 'phishing links', editedAt: '2026-11-22T12:00:00.000Z', editCaseId: 901 })).toEqual({
        found: true,
        previous: 'spamming links',
      });
      expect((await cases().get(id))?.reason).toBe('phishing links');
      expect(await cases().reasonEdits(id)).toEqual([
        { caseId: id, previous: 'spam', reason: 'spamming links', editedAt: '2026-11-22T11:00:00.000Z', editedBy: 'olivia', editedByName: 'Olivia', editCaseId: 900 },
        { caseId: id, previous: 'spamming links', reason: 'phishing links', editedAt: '2026-11-22T12:00:00.000Z', editedBy: undefined, editedByName: undefined, editCaseId: 901 },
      ]);
    });

    it('edits a case that had no reason, and says so', async () => {
      const id = await cases().open(newCase({ reason: undefined }));
      expect(await cases().editReason(id, { reason: 'late', editedAt: '2026-11-22T11:00:00.000Z', editCaseId: 5 })).toEqual({ found: true });
      expect(await cases().reasonEdits(id)).toMatchObject([{ previous: undefined, reason: 'late' }]);
    });

    it('does not edit an unknown case', async () => {
      expect(await cases().editReason(987654, { reason: 'x', editedAt: '2026-11-22T11:00:00.000Z', editCaseId: 5 })).toEqual({ found: false });
      expect(await cases().reasonEdits(987654)).toEqual([]);
    });

    it('numbers concurrent edits of one case in turn', async () => {
      const id = await cases().open(newCase({ reason: 'r0' }));
      await Promise.all(
        [1, 2, 3, 4].map((n) => cases().editReason(id, { reason: `r${n}`, editedAt: `2026-11-22T11:00:0${n}.000Z`, editCaseId: 100 + n })),
      );
      const edits = await cases().reasonEdits(id);
      expect(edits).toHaveLength(4);
      // Each edit replaced the one before it: the history is a chain from the original.
      expect(edits[0]!.previous).toBe('r0');
      for (let i = 1; i < edits.length; i++) expect(edits[i]!.previous).toBe(edits[i - 1]!.reason);
      expect((await cases().get(id))?.reason).toBe(edits.at(-1)!.reason);
    });
  });

  describe(`ModLogStore contract: ${name}`, () => {
    const store = freshStore(open);
    const modlog = () => store().modlog;
    const channel = (conversationId: string, overrides: Partial<ModLogChannel> = {}): ModLogChannel => ({
      conversationId,
      replyAddress: REPLY_ADDRESS,
      tenantId: 'tenant-1',
      addedBy: 'admin-1',
      addedAt: '2026-11-22T10:00:00.000Z',
      ...overrides,
    });

    it('adds a channel once, updating its address, and lists channels in the order they were added', async () => {
      expect(await modlog().list()).toEqual([]);
      expect(await modlog().add(channel('19:ops@thread.v2', { addedBy: 'ADMIN-1' }))).toBe(true);
      expect(await modlog().add(channel('19:audit@thread.v2', { addedAt: '2026-11-22T11:00:00.000Z', tenantId: undefined }))).toBe(true);
      expect(await modlog().add(channel('19:ops@thread.v2', { replyAddress: '{"serviceUrl":"https://new.example/"}', addedAt: '2026-11-22T12:00:00.000Z', tenantId: undefined }))).toBe(false);
      expect(await modlog().list()).toEqual([
        channel('19:ops@thread.v2', { replyAddress: '{"serviceUrl":"https://new.example/"}' }),
        channel('19:audit@thread.v2', { addedAt: '2026-11-22T11:00:00.000Z', tenantId: undefined }),
      ]);
    });

    it('removes a channel, and says false for a chat that was not one', async () => {
      await modlog().add(channel('19:ops@thread.v2'));
      expect(await modlog().remove('19:ops@thread.v2')).toBe(true);
      expect(await modlog().remove('19:ops@thread.v2')).toBe(false);
      expect(await modlog().list()).toEqual([]);
    });
  });
}
