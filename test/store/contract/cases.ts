import { describe, expect, it } from 'vitest';
import type { Store } from '../../../src/app/ports/store.js';
import { freshStore, ids, newCase, participant } from './fixtures.js';

const T0 = '2026-11-22T10:00:00.000Z';
const DAY_LATER = '2026-11-23T10:00:00.000Z';

/** The behaviour of every CaseStore. `open` returns a fresh, empty store for each test. */
export function runCasesContract(name: string, open: () => Promise<Store>): void {
  describe(`CaseStore contract: ${name}`, () => {
    const store = freshStore(open);
    const cases = () => store().cases;

    it('lists pending cases opened at or before a time, oldest first, with their call and participants', async () => {
      const old = await cases().open(newCase({ requestId: 'old', createdAt: '2026-11-22T09:00:00.000Z', callId: 'c1', participantIds: ['p1'] }));
      await cases().open(newCase({ requestId: 'done', createdAt: '2026-11-22T09:30:00.000Z' }), { outcome: 'removed' }, '2026-11-22T09:30:01.000Z');
      const edge = await cases().open(newCase({ requestId: 'edge', createdAt: '2026-11-22T10:00:00.000Z' }));
      await cases().open(newCase({ requestId: 'new', createdAt: '2026-11-22T11:00:00.000Z' }));

      const pending = await cases().listPending('2026-11-22T10:00:00.000Z', 10);
      expect(pending.map((c) => c.id)).toEqual([old, edge]);
      expect(pending[0]).toMatchObject({ status: 'pending', callId: 'c1', participantIds: ['p1'] });
      expect(await cases().listPending('2026-11-22T10:00:00.000Z', 1)).toHaveLength(1);
    });

    it('returns undefined for an unknown case', async () => {
      expect(await cases().get(987654)).toBeUndefined();
    });

    it('opens a pending case with increasing ids', async () => {
      const first = await cases().open(newCase({ requestId: 'r1' }));
      const second = await cases().open(newCase({ requestId: 'r2' }));

      expect(second).toBeGreaterThan(first);
      expect(await cases().get(first)).toEqual({
        id: first,
        createdAt: '2026-11-22T10:00:00.000Z',
        completedAt: undefined,
        status: 'pending',
        source: 'chat',
        action: 'kick',
        requestId: 'r1',
        conversationId: '19:meeting_abc@thread.v2',
        callId: undefined,
        actorUserId: 'actor-user',
        actorChatId: '29:actor',
        actorName: 'Alice',
        targetUserId: undefined,
        targetChatId: '29:mallory',
        targetName: 'Mallory',
        participantIds: [],
        reason: 'spam',
        outcome: undefined,
        detail: {},
      });
    });

    it('close completes a pending case and merges its detail', async () => {
      const id = await cases().open(newCase({ detail: { via: 'chat', attempt: 1 } }));
      await cases().close(
        id,
        { outcome: 'removed', callId: 'call-1', participantIds: ['p1', 'p2'], detail: { attempt: 2, requestId: 'graph-1' } },
        '2026-11-22T10:00:03.000Z',
      );

      expect(await cases().get(id)).toMatchObject({
        id,
        status: 'completed',
        completedAt: '2026-11-22T10:00:03.000Z',
        outcome: 'removed',
        callId: 'call-1',
        participantIds: ['p1', 'p2'],
        detail: { via: 'chat', attempt: 2, requestId: 'graph-1' },
      });
    });

    it('close keeps the call id and participants opened with when the result has none', async () => {
      const id = await cases().open(newCase({ callId: 'call-1', participantIds: ['p1'] }));
      await cases().close(id, { outcome: 'target_not_found' }, '2026-11-22T10:00:03.000Z');

      expect(await cases().get(id)).toMatchObject({
        status: 'completed',
        outcome: 'target_not_found',
        callId: 'call-1',
        participantIds: ['p1'],
        detail: {},
      });
    });

    it('closing a case twice throws STORE_FAILED and keeps the first result', async () => {
      const id = await cases().open(newCase());
      await cases().close(id, { outcome: 'removed' }, '2026-11-22T10:00:03.000Z');

      await expect(cases().close(id, { outcome: 'already_gone' }, '2026-11-22T10:00:09.000Z')).rejects.toMatchObject({
        code: 'STORE_FAILED',
      });
      expect(await cases().get(id)).toMatchObject({ outcome: 'removed', completedAt: '2026-11-22T10:00:03.000Z' });
    });

    it('closing an unknown case throws STORE_FAILED', async () => {
      await expect(cases().close(987654, { outcome: 'removed' }, '2026-11-22T10:00:03.000Z')).rejects.toMatchObject({
        code: 'STORE_FAILED',
      });
    });

    it('close with writes also removes the roster rows and keeps the answer under every key', async () => {
      await store().roster.upsert('call-1', [participant('p1'), participant('p2'), participant('p3')]);
      for (const key of ['webhook-id:m1', 'idempotency-key:k1', 'webhook-id:other']) await store().idempotency.claim(key, 'h', T0, DAY_LATER);
      const id = await cases().open(newCase({ callId: 'call-1', participantIds: ['p1', 'p2'] }));
      const answer = { status: 200, body: { caseId: id, outcome: 'removed' } };

      await cases().close(id, { outcome: 'removed', detail: { requestId: 'graph-1' } }, '2026-11-22T10:00:03.000Z', {
        rosterRemoved: { callId: 'call-1', participantIds: ['p1', 'p2', 'not-there'] },
        idempotency: { keys: ['webhook-id:m1', 'idempotency-key:k1'], response: answer },
      });

      expect(await cases().get(id)).toMatchObject({ status: 'completed', outcome: 'removed', detail: { requestId: 'graph-1' } });
      expect(ids(await store().roster.list('call-1'))).toEqual(['p3']);
      expect(await store().idempotency.get('webhook-id:m1')).toMatchObject({ state: 'done', response: answer });
      expect(await store().idempotency.get('idempotency-key:k1')).toMatchObject({ state: 'done', response: answer });
      expect(await store().idempotency.get('webhook-id:other')).toMatchObject({ state: 'pending', response: undefined });
    });

    it('close with keys and no response gives the pending keys up (a retryable answer is never kept); a done key stays', async () => {
      await store().idempotency.claim('webhook-id:retry', 'h', T0, DAY_LATER);
      await store().idempotency.claim('webhook-id:done', 'h', T0, DAY_LATER);
      await store().idempotency.complete('webhook-id:done', { status: 200, body: { caseId: 1 } });
      const id = await cases().open(newCase());

      await cases().close(id, { outcome: 'upstream_failed' }, '2026-11-22T10:00:03.000Z', { idempotency: { keys: ['webhook-id:retry', 'webhook-id:done'] } });

      expect(await cases().get(id)).toMatchObject({ status: 'completed', outcome: 'upstream_failed' });
      expect(await store().idempotency.get('webhook-id:retry')).toBeUndefined();
      expect(await store().idempotency.get('webhook-id:done')).toMatchObject({ state: 'done', response: { status: 200, body: { caseId: 1 } } });
      expect(await store().idempotency.claim('webhook-id:retry', 'h', T0, DAY_LATER)).toBeUndefined();
    });

    it('close with writes of a case that is not pending throws STORE_FAILED and writes nothing', async () => {
      await store().roster.upsert('call-1', [participant('p1')]);
      await store().idempotency.claim('webhook-id:late', 'h', T0, DAY_LATER);
      const id = await cases().open(newCase({ callId: 'call-1', participantIds: ['p1'] }));
      // Completed elsewhere first (reconciliation, another instance).
      await cases().close(id, { outcome: 'interrupted' }, '2026-11-22T10:00:02.000Z');

      await expect(
        cases().close(id, { outcome: 'removed' }, '2026-11-22T10:00:03.000Z', {
          rosterRemoved: { callId: 'call-1', participantIds: ['p1'] },
          idempotency: { keys: ['webhook-id:late'], response: { status: 200, body: {} } },
        }),
      ).rejects.toMatchObject({ code: 'STORE_FAILED' });
      await expect(
        cases().close(987654, { outcome: 'upstream_failed' }, '2026-11-22T10:00:03.000Z', { idempotency: { keys: ['webhook-id:late'] } }),
      ).rejects.toMatchObject({ code: 'STORE_FAILED' });

      expect(await cases().get(id)).toMatchObject({ outcome: 'interrupted' });
      expect(ids(await store().roster.list('call-1'))).toEqual(['p1']);
      expect(await store().idempotency.get('webhook-id:late')).toMatchObject({ state: 'pending', response: undefined });
    });

    it('open with a result records a completed case in one step', async () => {
      const id = await cases().open(
        newCase({ detail: { via: 'chat' } }),
        { outcome: 'denied', detail: { reason: 'not_permitted' } },
        '2026-11-22T10:00:01.000Z',
      );

      expect(await cases().get(id)).toMatchObject({
        status: 'completed',
        createdAt: '2026-11-22T10:00:00.000Z',
        completedAt: '2026-11-22T10:00:01.000Z',
        outcome: 'denied',
        detail: { via: 'chat', reason: 'not_permitted' },
      });
      await expect(cases().close(id, { outcome: 'removed' }, '2026-11-22T10:00:02.000Z')).rejects.toThrow();
    });

    it('open with a result and no time completes it at its creation time', async () => {
      const id = await cases().open(newCase(), { outcome: 'not_bound', callId: 'call-9', participantIds: ['x'] });

      expect(await cases().get(id)).toMatchObject({
        status: 'completed',
        completedAt: '2026-11-22T10:00:00.000Z',
        callId: 'call-9',
        participantIds: ['x'],
      });
    });

    it('round-trips every source and action', async () => {
      const id1 = await cases().open(newCase({ source: 'webhook', action: 'bind' }));
      const id2 = await cases().open(newCase({ source: 'admin', action: 'unbind' }));
      const id3 = await cases().open(newCase({ source: 'card', action: 'kick' }));

      expect(await cases().get(id1)).toMatchObject({ source: 'webhook', action: 'bind' });
      expect(await cases().get(id2)).toMatchObject({ source: 'admin', action: 'unbind' });
      expect(await cases().get(id3)).toMatchObject({ source: 'card', action: 'kick' });
    });

    it('list filters by conversation, newest first, limited', async () => {
      const a1 = await cases().open(newCase({ conversationId: 'conv-a', requestId: 'a1' }));
      const b1 = await cases().open(newCase({ conversationId: 'conv-b', requestId: 'b1' }));
      const a2 = await cases().open(newCase({ conversationId: 'conv-a', requestId: 'a2' }));
      const a3 = await cases().open(newCase({ conversationId: 'conv-a', requestId: 'a3' }));

      expect((await cases().list({ conversationId: 'conv-a', limit: 10 })).map((c) => c.id)).toEqual([a3, a2, a1]);
      expect((await cases().list({ conversationId: 'conv-a', limit: 2 })).map((c) => c.id)).toEqual([a3, a2]);
      expect((await cases().list({ conversationId: 'conv-b', limit: 10 })).map((c) => c.id)).toEqual([b1]);
      expect(await cases().list({ conversationId: 'conv-none', limit: 10 })).toEqual([]);
      expect((await cases().list({ limit: 3 })).map((c) => c.id)).toEqual([a3, a2, b1]);
    });
  });
}
