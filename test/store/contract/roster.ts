import { describe, expect, it } from 'vitest';
import type { Participant } from '../../../src/app/domain/participant.js';
import type { Store } from '../../../src/app/ports/store.js';
import { binding, freshStore, ids, participant } from './fixtures.js';

/** The behaviour of every RosterStore. `open` returns a fresh, empty store for each test. */
export function runRosterContract(name: string, open: () => Promise<Store>): void {
  describe(`RosterStore contract: ${name}`, () => {
    const store = freshStore(open);
    const roster = () => store().roster;

    it('is empty for an unknown call', async () => {
      expect(await roster().list('no-such-call')).toEqual([]);
    });

    it('round-trips participants with every field', async () => {
      const guest = participant('p2', {
        kind: 'guest',
        identityId: undefined,
        tenantId: undefined,
        displayName: 'Visitor',
        isInLobby: true,
      });
      const caller = participant('CA1', {
        kind: 'phone',
        identityId: undefined,
        tenantId: undefined,
        displayName: undefined,
        label: 'Guest #3 ✓',
        phoneNumbers: ['+15551234567'],
      });
      await roster().upsert('call-1', [participant('p1'), guest, caller]);

      const list = await roster().list('call-1');
      expect(list).toHaveLength(3);
      expect(list).toEqual(expect.arrayContaining([participant('p1'), guest, caller]));
    });

    it('round-trips every participant kind', async () => {
      const kinds: Participant['kind'][] = ['user', 'guest', 'phone', 'application', 'unknown'];
      await roster().upsert(
        'call-1',
        kinds.map((kind) => participant(kind, { kind })),
      );

      expect((await roster().list('call-1')).map((p) => p.kind).sort()).toEqual([...kinds].sort());
    });

    it('lists by display name, then participant id', async () => {
      await roster().upsert('call-1', [
        participant('p3', { displayName: 'Bob' }),
        participant('p2', { displayName: 'Alice' }),
        participant('p1', { displayName: 'Bob' }),
      ]);

      expect((await roster().list('call-1')).map((p) => p.participantId)).toEqual(['p2', 'p1', 'p3']);
    });

    it('upsert updates a known participant and adds new ones', async () => {
      await roster().upsert('call-1', [participant('p1', { isInLobby: true })]);
      await roster().upsert('call-1', [participant('p1', { isInLobby: false }), participant('p2')]);

      const list = await roster().list('call-1');
      expect(ids(list)).toEqual(['p1', 'p2']);
      expect(list.find((p) => p.participantId === 'p1')?.isInLobby).toBe(false);
    });

    it('keeps a label and phone numbers when a later upsert has none', async () => {
      await roster().upsert('call-1', [participant('CA1', { kind: 'phone', label: 'Guest 3', phoneNumbers: ['+15551234567'] })]);
      await roster().upsert('call-1', [participant('CA1', { kind: 'phone' })]);

      expect(await roster().list('call-1')).toEqual([
        participant('CA1', { kind: 'phone', label: 'Guest 3', phoneNumbers: ['+15551234567'] }),
      ]);
    });

    it('keeps a display name when a later upsert has none', async () => {
      await roster().upsert('call-1', [participant('p1', { displayName: 'Mallory' })]);
      await roster().upsert('call-1', [participant('p1', { displayName: undefined, isInLobby: true })]);

      expect(await roster().list('call-1')).toEqual([participant('p1', { displayName: 'Mallory', isInLobby: true })]);
    });

    it('keeps rosters of different calls apart, even for the same participant id', async () => {
      await roster().upsert('call-1', [participant('p1', { displayName: 'In call 1' })]);
      await roster().upsert('call-2', [participant('p1', { callId: 'call-2', displayName: 'In call 2' })]);

      expect((await roster().list('call-1')).map((p) => [p.callId, p.displayName])).toEqual([['call-1', 'In call 1']]);
      expect((await roster().list('call-2')).map((p) => [p.callId, p.displayName])).toEqual([['call-2', 'In call 2']]);
    });

    it('removes participants, ignoring unknown ids', async () => {
      await roster().upsert('call-1', [participant('p1'), participant('p2'), participant('p3')]);
      await roster().remove('call-1', ['p1', 'p3', 'never-there']);

      expect(ids(await roster().list('call-1'))).toEqual(['p2']);
    });

    it('replace drops everyone not in the new list', async () => {
      await roster().upsert('call-1', [participant('p1'), participant('p2')]);
      await roster().upsert('call-2', [participant('q1', { callId: 'call-2' })]);
      await roster().replace('call-1', [participant('p2'), participant('p3')]);

      expect(ids(await roster().list('call-1'))).toEqual(['p2', 'p3']);
      expect(ids(await roster().list('call-2'))).toEqual(['q1']);
    });

    it('replace with an empty list empties the roster', async () => {
      await roster().upsert('call-1', [participant('p1')]);
      await roster().replace('call-1', []);

      expect(await roster().list('call-1')).toEqual([]);
    });

    it('replace that fails part-way leaves the old roster whole', async () => {
      await roster().upsert('call-1', [participant('p1'), participant('p2')]);
      // A participant without an id cannot be stored; it comes after one that can.
      const broken = participant('p9', { participantId: null as unknown as string });

      await expect(roster().replace('call-1', [participant('p3'), broken])).rejects.toThrow();
      expect(await roster().list('call-1')).toEqual([participant('p1'), participant('p2')]);
    });

    it('upsert that fails part-way stores none of the list', async () => {
      await roster().upsert('call-1', [participant('p1')]);
      const broken = participant('p9', { participantId: null as unknown as string });

      await expect(roster().upsert('call-1', [participant('p2'), broken])).rejects.toThrow();
      expect(await roster().list('call-1')).toEqual([participant('p1')]);
    });

    describe('count and page', () => {
      const people = () => [
        participant('p3', { displayName: 'Carol' }),
        participant('p1', { displayName: 'Alice' }),
        participant('bot', { kind: 'application', displayName: 'Bouncer' }),
        participant('p2', { displayName: 'Bob' }),
        participant('p0', { displayName: undefined, kind: 'phone', label: 'caller' }),
      ];

      it('counts every participant of the call, or leaves out kinds', async () => {
        await roster().upsert('call-1', people());
        await roster().upsert('call-2', [participant('q1', { callId: 'call-2' })]);

        expect(await roster().count('call-1')).toBe(5);
        expect(await roster().count('call-1', { excludeKinds: ['application'] })).toBe(4);
        expect(await roster().count('call-1', { excludeKinds: ['application', 'phone'] })).toBe(3);
        expect(await roster().count('call-2')).toBe(1);
        expect(await roster().count('no-such-call')).toBe(0);
      });

      it('pages in roster order (no name first), from an offset, at most a limit, leaving out kinds', async () => {
        await roster().upsert('call-1', people());

        expect((await roster().page('call-1', { offset: 0, limit: 10 })).map((p) => p.participantId)).toEqual(['p0', 'p1', 'p2', 'bot', 'p3']);
        expect((await roster().page('call-1', { offset: 0, limit: 2, excludeKinds: ['application'] })).map((p) => p.participantId)).toEqual([
          'p0',
          'p1',
        ]);
        expect((await roster().page('call-1', { offset: 2, limit: 2, excludeKinds: ['application'] })).map((p) => p.participantId)).toEqual([
          'p2',
          'p3',
        ]);
        expect(await roster().page('call-1', { offset: 4, limit: 2, excludeKinds: ['application'] })).toEqual([]);
        expect(await roster().page('call-1', { offset: 0, limit: 0 })).toEqual([]);
        // Whole participants, as list gives them.
        expect(await roster().page('call-1', { offset: 0, limit: 5 })).toEqual(await roster().list('call-1'));
      });

      it('refuses a negative or fractional offset or limit', async () => {
        await expect(roster().page('call-1', { offset: -1, limit: 1 })).rejects.toThrow();
        await expect(roster().page('call-1', { offset: 0, limit: 1.5 })).rejects.toThrow();
      });
    });

    describe('indexed lookups', () => {
      it('findByParticipantId finds one participant of that call, or nothing', async () => {
        await roster().upsert('call-1', [participant('p1'), participant('p2')]);
        await roster().upsert('call-2', [participant('q1', { callId: 'call-2' })]);

        expect(await roster().findByParticipantId('call-1', 'p2')).toEqual(participant('p2'));
        expect(await roster().findByParticipantId('call-1', 'q1')).toBeUndefined();
        expect(await roster().findByParticipantId('call-1', 'P2')).toBeUndefined();
      });

      it('findByIdentity compares ids case-insensitively and finds every endpoint, of any kind, in roster order', async () => {
        const id = 'AbCd-0001';
        await roster().upsert('call-1', [
          participant('laptop', { identityId: id, displayName: 'Mallory' }),
          participant('phone-app', { identityId: id.toLowerCase(), displayName: 'Mallory (mobile)' }),
          participant('bot', { kind: 'application', identityId: id.toUpperCase(), displayName: 'A bot' }),
          participant('other', { identityId: 'someone-else' }),
        ]);
        await roster().upsert('call-2', [participant('q1', { callId: 'call-2', identityId: id })]);

        expect((await roster().findByIdentity('call-1', 'abcd-0001')).map((p) => p.participantId)).toEqual(['bot', 'laptop', 'phone-app']);
        expect((await roster().findByIdentity('call-1', 'ABCD-0001')).map((p) => p.participantId)).toEqual(['bot', 'laptop', 'phone-app']);
        // The stored id is returned as it was written.
        expect((await roster().findByIdentity('call-1', id))[1]).toEqual(participant('laptop', { identityId: id, displayName: 'Mallory' }));
        expect(await roster().findByIdentity('call-1', 'nobody')).toEqual([]);
      });

      it('findByIdentity follows a participant whose identity changes', async () => {
        await roster().upsert('call-1', [participant('p1', { identityId: 'old-id' })]);
        await roster().upsert('call-1', [participant('p1', { identityId: 'new-id' })]);

        expect(await roster().findByIdentity('call-1', 'old-id')).toEqual([]);
        expect(ids(await roster().findByIdentity('call-1', 'new-id'))).toEqual(['p1']);
      });

      it('findByLabel matches exactly, or ignoring case with full Unicode lower-casing', async () => {
        await roster().upsert('call-1', [
          participant('CA1', { kind: 'phone', identityId: undefined, label: 'Guest 3' }),
          participant('CA2', { kind: 'phone', identityId: undefined, label: 'guest 3' }),
          participant('CA3', { kind: 'phone', identityId: undefined, label: 'ÉLODIE Ünal' }),
          participant('p4', { label: undefined }),
        ]);

        expect(ids(await roster().findByLabel('call-1', 'Guest 3'))).toEqual(['CA1']);
        expect(ids(await roster().findByLabel('call-1', 'GUEST 3'))).toEqual([]);
        expect(ids(await roster().findByLabel('call-1', 'GUEST 3', { ignoreCase: true }))).toEqual(['CA1', 'CA2']);
        expect(ids(await roster().findByLabel('call-1', 'élodie ünal', { ignoreCase: true }))).toEqual(['CA3']);
        expect(ids(await roster().findByLabel('call-1', 'élodie ünal'))).toEqual([]);
        expect(ids(await roster().findByLabel('call-2', 'Guest 3'))).toEqual([]);
      });

      it('findByLabel still finds a label kept by a later upsert without one', async () => {
        await roster().upsert('call-1', [participant('CA1', { kind: 'phone', label: 'Guest 3' })]);
        await roster().upsert('call-1', [participant('CA1', { kind: 'phone' })]);

        expect(ids(await roster().findByLabel('call-1', 'Guest 3'))).toEqual(['CA1']);
        expect(ids(await roster().findByLabel('call-1', 'guest 3', { ignoreCase: true }))).toEqual(['CA1']);
      });

      it('findByPhone finds every participant calling from a number, by any of its numbers, in roster order', async () => {
        await roster().upsert('call-1', [
          participant('CA2', { kind: 'phone', displayName: 'B', phoneNumbers: ['+15550000001'] }),
          participant('CA1', { kind: 'phone', displayName: 'A', phoneNumbers: ['+15550000002', '+15550000001'] }),
          participant('CA3', { kind: 'phone', displayName: 'C', phoneNumbers: ['+15550000003'] }),
        ]);
        await roster().upsert('call-2', [participant('q1', { callId: 'call-2', phoneNumbers: ['+15550000001'] })]);

        expect((await roster().findByPhone('call-1', '+15550000001')).map((p) => p.participantId)).toEqual(['CA1', 'CA2']);
        expect(await roster().findByPhone('call-1', '+15550000002')).toEqual([
          participant('CA1', { kind: 'phone', displayName: 'A', phoneNumbers: ['+15550000002', '+15550000001'] }),
        ]);
        expect(await roster().findByPhone('call-1', '+15559999999')).toEqual([]);
      });

      it('findByPhone keeps numbers an upsert without numbers keeps, and forgets numbers an upsert replaces', async () => {
        await roster().upsert('call-1', [participant('CA1', { kind: 'phone', phoneNumbers: ['+15550000001'] })]);
        await roster().upsert('call-1', [participant('CA1', { kind: 'phone' })]);
        expect(ids(await roster().findByPhone('call-1', '+15550000001'))).toEqual(['CA1']);

        await roster().upsert('call-1', [participant('CA1', { kind: 'phone', phoneNumbers: ['+15550000002'] })]);
        expect(await roster().findByPhone('call-1', '+15550000001')).toEqual([]);
        expect(ids(await roster().findByPhone('call-1', '+15550000002'))).toEqual(['CA1']);
      });

      it('a participant removed, replaced away or ended with its call is found by no lookup', async () => {
        const caller = (id: string, callId = 'call-1') =>
          participant(id, { callId, kind: 'phone', identityId: `who-${id}`, label: `label-${id}`, phoneNumbers: [`+1555000000${id.at(-1)}`] });
        await roster().upsert('call-1', [caller('CA1'), caller('CA2')]);
        await roster().remove('call-1', ['CA1']);
        await roster().replace('call-1', [participant('p9')]);
        await store().bindings.save(binding({ callId: 'call-3' }));
        await roster().upsert('call-3', [caller('CA3', 'call-3')]);
        await store().bindings.setCallState('call-3', 'terminated', '2026-11-22T12:00:00.000Z');

        for (const [callId, id] of [
          ['call-1', 'CA1'],
          ['call-1', 'CA2'],
          ['call-3', 'CA3'],
        ] as const) {
          expect(await roster().findByParticipantId(callId, id)).toBeUndefined();
          expect(await roster().findByIdentity(callId, `who-${id}`)).toEqual([]);
          expect(await roster().findByLabel(callId, `label-${id}`)).toEqual([]);
          expect(await roster().findByPhone(callId, `+1555000000${id.at(-1)}`)).toEqual([]);
        }
        expect(ids(await roster().list('call-1'))).toEqual(['p9']);
      });
    });

    describe('sync', () => {
      it('makes the roster exactly the list, leaving other calls alone', async () => {
        await roster().upsert('call-1', [participant('p1'), participant('p2'), participant('p3')]);
        await roster().upsert('call-2', [participant('q1', { callId: 'call-2' })]);
        await roster().sync('call-1', [participant('p2', { isInLobby: true }), participant('p4')]);

        expect(await roster().list('call-1')).toEqual([participant('p2', { isInLobby: true }), participant('p4')]);
        expect(ids(await roster().list('call-2'))).toEqual(['q1']);
      });

      it('keeps the display name, label and numbers known of a participant still there', async () => {
        await roster().upsert('call-1', [participant('CA1', { kind: 'phone', displayName: 'Zoe', label: 'Guest 3', phoneNumbers: ['+15551234567'] })]);
        await roster().sync('call-1', [participant('CA1', { kind: 'phone', displayName: undefined })]);

        expect(await roster().list('call-1')).toEqual([
          participant('CA1', { kind: 'phone', displayName: 'Zoe', label: 'Guest 3', phoneNumbers: ['+15551234567'] }),
        ]);
        expect(ids(await roster().findByPhone('call-1', '+15551234567'))).toEqual(['CA1']);
        expect(ids(await roster().findByLabel('call-1', 'Guest 3'))).toEqual(['CA1']);
      });

      it('with an empty list empties the roster', async () => {
        await roster().upsert('call-1', [participant('p1')]);
        await roster().sync('call-1', []);

        expect(await roster().list('call-1')).toEqual([]);
      });

      it('takes thousands at once: everyone written, every leaver removed, every lookup right', async () => {
        const many = (from: number, to: number) =>
          Array.from({ length: to - from }, (_, i) => {
            const n = from + i;
            return participant(`p${String(n).padStart(5, '0')}`, { displayName: `Person ${n}`, identityId: `user-${n}`, phoneNumbers: [`+1555${String(n).padStart(7, '0')}`] });
          });
        await roster().sync('call-1', many(0, 2_000));
        expect(await roster().count('call-1')).toBe(2_000);

        // 1,200 leave and 300 join, in one full roster.
        await roster().sync('call-1', many(1_200, 2_300));
        expect(await roster().count('call-1')).toBe(1_100);
        expect(ids(await roster().page('call-1', { offset: 0, limit: 1 }))).toEqual(['p01200']);
        expect(await roster().findByIdentity('call-1', 'user-5')).toEqual([]);
        expect(await roster().findByPhone('call-1', '+15550000005')).toEqual([]);
        expect(ids(await roster().findByIdentity('call-1', 'USER-2299'))).toEqual(['p02299']);
        expect(ids(await roster().findByPhone('call-1', '+15550001500'))).toEqual(['p01500']);
      });

      it('syncs of one call called together end as the last one says', async () => {
        const big = Array.from({ length: 1_500 }, (_, i) => participant(`a${i}`));
        await Promise.all([
          roster().sync('call-1', big),
          roster().sync('call-1', [participant('b1'), participant('b2')]),
          roster().sync('call-1', [participant('c1')]),
        ]);

        expect(ids(await roster().list('call-1'))).toEqual(['c1']);
      });
    });
  });
}
