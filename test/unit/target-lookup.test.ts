import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Participant } from '../../src/app/domain/participant.js';
import type { TargetRef } from '../../src/app/moderation/requests.js';
import { lookUpTarget, participantMatcher } from '../../src/app/moderation/steps/resolve-target.js';
import type { ChatUser } from '../../src/app/ports/chat-directory.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

/**
 * The indexed lookup of a kick's target must find exactly what the matcher finds over the whole
 * roster, in the same order: mentions by Entra id (users only), by a label naming the person (any
 * kind, ignoring case) or by one of their numbers (not users); labels exactly; numbers; ids. Many
 * seeded rosters and targets, made to collide (shared ids, labels differing in case, applications
 * with a user's id, a person on several devices), are compared.
 */

/** mulberry32: a small seeded PRNG, so one seed gives the same rosters. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const IDS = ['AAAA-0001', 'aaaa-0001', 'bbbb-0002', 'CCCC-0003'];
const NAMES = ['Mallory', 'MALLORY', 'mallory@contoso.com', 'Élodie Ünal', 'élodie ünal', 'Guest 3', 'guest 3', 'aaaa-0001', 'İpek'];
const PHONES = ['+15550000001', '+15550000002', '+15550000003'];
const KINDS: Participant['kind'][] = ['user', 'guest', 'phone', 'application', 'unknown'];

let store: SqliteStore;
beforeEach(() => {
  store = SqliteStore.open(':memory:');
});
afterEach(async () => {
  await store.close();
});

describe('lookUpTarget (indexed) finds what participantMatcher finds over the roster', () => {
  it('for 300 seeded rosters and 12 targets each', async () => {
    const random = prng(12);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const maybe = <T,>(x: T): T | undefined => (random() < 0.5 ? x : undefined);
    let matched = 0;
    let several = 0;
    for (let round = 0; round < 300; round++) {
      const callId = `call-${round}`;
      const roster: Participant[] = Array.from({ length: 1 + Math.floor(random() * 14) }, (_, i) => ({
        callId,
        participantId: `p${i}-${pick(['x', 'Y', 'é'])}`,
        kind: pick(KINDS),
        identityId: maybe(pick(IDS)),
        displayName: maybe(pick(NAMES)),
        isInLobby: random() < 0.2,
        label: maybe(pick(NAMES)),
        phoneNumbers: random() < 0.5 ? [] : [pick(PHONES), ...(random() < 0.3 ? [pick(PHONES)] : [])].filter((n, j, all) => all.indexOf(n) === j),
      }));
      await store.roster.upsert(callId, roster);
      const whole = await store.roster.list(callId);

      for (let t = 0; t < 12; t++) {
        const target: TargetRef = pick<TargetRef>([
          { kind: 'mention', chatId: '29:someone' },
          { kind: 'user', userId: pick(IDS) },
          { kind: 'phone', number: pick(PHONES) },
          { kind: 'label', label: pick(NAMES) },
          { kind: 'participant', participantId: pick(roster).participantId },
          { kind: 'participant', participantId: 'nobody' },
        ]);
        const user: ChatUser | undefined =
          random() < 0.1 ? undefined : { userId: maybe(pick(IDS)), displayName: maybe(pick(NAMES)), userPrincipalName: maybe(pick(NAMES)) };
        const phones = random() < 0.5 ? [] : [pick(PHONES), pick(PHONES)];

        const expected = whole.filter(participantMatcher(target, user, phones));
        const found = await lookUpTarget(store.roster, callId, target, user, phones);
        expect(found, JSON.stringify({ round, target, user, phones })).toEqual(expected);
        if (expected.length > 0) matched++;
        if (expected.length > 1) several++;
      }
    }
    // The rosters were made to collide: most targets name somebody, many several people.
    expect(matched).toBeGreaterThan(1_200);
    expect(several).toBeGreaterThan(300);
  });

  it('finds every device of one person, and neither an application with their id nor a user by a number', async () => {
    const person = 'AAAA-0001';
    await store.roster.upsert('call-1', [
      { callId: 'call-1', participantId: 'laptop', kind: 'user', identityId: person.toLowerCase(), displayName: 'Mallory', isInLobby: false },
      { callId: 'call-1', participantId: 'mobile', kind: 'user', identityId: person, displayName: 'Mallory', isInLobby: false },
      { callId: 'call-1', participantId: 'bot', kind: 'application', identityId: person, displayName: 'Bot', isInLobby: false },
      { callId: 'call-1', participantId: 'desk', kind: 'user', identityId: 'someone-else', isInLobby: false, phoneNumbers: ['+15550000001'] },
      { callId: 'call-1', participantId: 'CA1', kind: 'phone', isInLobby: false, phoneNumbers: ['+15550000001'] },
    ]);

    const found = await lookUpTarget(store.roster, 'call-1', { kind: 'user', userId: person }, { userId: person }, ['+15550000001']);
    expect(found.map((p) => p.participantId)).toEqual(['CA1', 'laptop', 'mobile']);
  });
});
