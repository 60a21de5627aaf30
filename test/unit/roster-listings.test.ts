import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Participant } from '../../src/app/domain/participant.js';
import { LISTING_FRESH_MS, RosterListings } from '../../src/app/moderation/steps/roster-listings.js';
import type { CallProvider } from '../../src/app/ports/call-provider.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

/**
 * The listings a roster miss makes: one at a time per call, shared; none while the last is fresh;
 * a failed one shared by its waiters and not remembered. The integration side (one Graph list for
 * a burst of kicks) is in test/integration/kick-roster-miss.test.ts.
 */

const person = (id: string): Participant => ({ callId: 'c1', participantId: id, kind: 'user', identityId: id, displayName: id, isInLobby: false });

/** A provider whose listing answers when the test says so, counting the listings it was asked for. */
function listingProvider() {
  const asked: string[] = [];
  let answer: { resolve: (ps: Participant[]) => void; reject: (err: Error) => void } | undefined;
  const provider = {
    listParticipants(callId: string) {
      asked.push(callId);
      return new Promise<Participant[]>((resolve, reject) => (answer = { resolve, reject }));
    },
  } as unknown as CallProvider;
  const until = async () => {
    while (!answer) await new Promise((r) => setImmediate(r));
    const a = answer;
    answer = undefined;
    return a;
  };
  return { provider, asked, until };
}

let store: SqliteStore;
let now: number;
let listings: RosterListings;
beforeEach(() => {
  store = SqliteStore.open(':memory:');
  now = Date.UTC(2026, 0, 1);
  listings = new RosterListings({ now: () => new Date(now) });
});
afterEach(async () => {
  await store.close();
});

describe('RosterListings', () => {
  it('concurrent misses in a call share one listing; the roster holds it', async () => {
    const { provider, asked, until } = listingProvider();
    const all = Promise.all([1, 2, 3].map(() => listings.refresh(provider, store.roster, 'c1')));
    (await until()).resolve([person('a'), person('b')]);
    const lists = await all;
    expect(asked).toEqual(['c1']);
    expect(lists.map((l) => l?.map((p) => p.participantId))).toEqual(Array(3).fill(['a', 'b']));
    expect((await store.roster.list('c1')).map((p) => p.participantId)).toEqual(['a', 'b']);
  });

  it('trusts a listing for LISTING_FRESH_MS from when it was asked for, per call', async () => {
    const { provider, asked, until } = listingProvider();
    const first = listings.refresh(provider, store.roster, 'c1');
    (await until()).resolve([person('a')]);
    await first;
    now += LISTING_FRESH_MS - 1;
    expect(await listings.refresh(provider, store.roster, 'c1')).toBeUndefined();
    const other = listings.refresh(provider, store.roster, 'c2');
    (await until()).resolve([]);
    expect(await other).toEqual([]);
    now += 1;
    const again = listings.refresh(provider, store.roster, 'c1');
    (await until()).resolve([person('b')]);
    expect((await again)?.map((p) => p.participantId)).toEqual(['b']);
    expect(asked).toEqual(['c1', 'c2', 'c1']);
  });

  it('a failed listing fails every miss that shared it and is not remembered', async () => {
    const { provider, asked, until } = listingProvider();
    const both = [listings.refresh(provider, store.roster, 'c1'), listings.refresh(provider, store.roster, 'c1')];
    (await until()).reject(new Error('graph down'));
    for (const p of both) await expect(p).rejects.toThrow('graph down');
    const next = listings.refresh(provider, store.roster, 'c1');
    (await until()).resolve([person('a')]);
    expect((await next)?.length).toBe(1);
    expect(asked).toEqual(['c1', 'c1']);
  });
});
