import { describe, expect, it } from 'vitest';
import { reconcilePendingCases } from '../../src/app/moderation/steps/reconcile.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const AT = '2026-11-23T10:00:00.000Z';

describe('reconciling a ban cut off mid-way', () => {
  it('completes it as banned when its ban was stored (it stands), else as interrupted (nothing was done)', async () => {
    const store = SqliteStore.open(':memory:');
    try {
      const pending = () =>
        store.cases.open({ createdAt: AT, source: 'chat', action: 'ban', requestId: 'r', conversationId: '19:chat@thread.v2', callId: 'call-1', participantIds: ['p1'] });
      const stored = await pending();
      await store.bans.add({ caseId: stored, scope: '19:chat@thread.v2', identities: [{ kind: 'user', value: 'u-1' }], createdAt: AT });
      const cutOff = await pending();

      const completed = await reconcilePendingCases({ store, clock: { now: () => new Date(AT) }, logger: quiet, providers: [] }, AT);
      expect(completed).toBe(2);
      expect(await store.cases.get(stored)).toMatchObject({ status: 'completed', outcome: 'banned', detail: { reconciled: true } });
      expect(await store.cases.get(cutOff)).toMatchObject({ status: 'completed', outcome: 'interrupted' });
    } finally {
      await store.close();
    }
  });
});
