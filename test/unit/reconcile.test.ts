import os from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Participant } from '../../src/app/domain/participant.js';
import { reconcilePendingCases } from '../../src/app/moderation/steps/reconcile.js';
import type { CallProvider } from '../../src/app/ports/call-provider.js';
import type { Store } from '../../src/app/ports/store.js';
import { createLogger } from '../../src/logger.js';
import { openStore } from '../../src/store/open-store.js';

// Issue 15 item 4: reconciliation runs on every instance; two instances never reconcile the same case twice.
describe('reconcilePendingCases on several instances at once', () => {
  let store: Store;
  beforeEach(async () => {
    store = await openStore(':memory:', os.tmpdir());
  });
  afterEach(async () => {
    await store.close();
  });

  it('each pending case is claimed by one reconciler: listed once, closed once', async () => {
    let listings = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const provider = {
      kind: 'teams',
      capabilities: { removeByLabel: false, phoneCallers: false, meetingNotifications: false },
      async listParticipants(): Promise<Participant[]> {
        listings++;
        await gate;
        return [];
      },
      async removeParticipant() {
        return 'removed' as const;
      },
    } satisfies CallProvider;
    await store.bindings.save({ conversationId: '19:c@thread.v2', provider: 'teams', callId: 'call-1', state: 'established', createdAt: '2026-11-23T09:00:00.000Z', updatedAt: '2026-11-23T09:00:00.000Z' });
    const id = await store.cases.open({ createdAt: '2026-11-23T09:00:00.000Z', source: 'chat', action: 'kick', requestId: 'r-1', callId: 'call-1', participantIds: ['p-1'] });
    const deps = { store, clock: { now: () => new Date('2026-11-23T10:00:00Z') }, logger: createLogger('silent'), providers: [{ kind: 'teams', joinsMeetings: true, provider, missing: [] }] };

    const first = reconcilePendingCases(deps, '2026-11-23T09:30:00.000Z');
    const second = reconcilePendingCases(deps, '2026-11-23T09:30:00.000Z');
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    expect((await first) + (await second)).toBe(1);
    expect(listings).toBe(1);
    expect(await store.cases.get(id)).toMatchObject({ status: 'completed', outcome: 'removed', detail: { reconciled: true } });
  });

  it('a case that cannot be reconciled now (its call cannot be listed) is released for the next round', async () => {
    let fail = true;
    const provider = {
      kind: 'teams',
      capabilities: { removeByLabel: false, phoneCallers: false, meetingNotifications: false },
      async listParticipants(): Promise<Participant[]> {
        if (fail) throw new Error('Graph is down');
        return [{ callId: 'call-1', participantId: 'p-1', kind: 'user', isInLobby: false }];
      },
      async removeParticipant() {
        return 'removed' as const;
      },
    } satisfies CallProvider;
    await store.bindings.save({ conversationId: '19:c@thread.v2', provider: 'teams', callId: 'call-1', state: 'established', createdAt: '2026-11-23T09:00:00.000Z', updatedAt: '2026-11-23T09:00:00.000Z' });
    const id = await store.cases.open({ createdAt: '2026-11-23T09:00:00.000Z', source: 'chat', action: 'kick', requestId: 'r-1', callId: 'call-1', participantIds: ['p-1'] });
    const deps = { store, clock: { now: () => new Date('2026-11-23T10:00:00Z') }, logger: createLogger('silent'), providers: [{ kind: 'teams', joinsMeetings: true, provider, missing: [] }] };

    expect(await reconcilePendingCases(deps, '2026-11-23T09:30:00.000Z')).toBe(0);
    fail = false;
    expect(await reconcilePendingCases(deps, '2026-11-23T09:30:00.000Z')).toBe(1);
    expect(await store.cases.get(id)).toMatchObject({ status: 'completed', outcome: 'interrupted' });
  });
});
