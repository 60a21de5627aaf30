import { describe, expect, it } from 'vitest';
import type { Participant } from '../../../src/app/domain/participant.js';
import type { Store } from '../../../src/app/ports/store.js';
import { freshStore, ids, participant } from './fixtures.js';

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
  });
}
