import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallBinding, Participant } from '../../src/core/participant.js';
import type { NewCase, Store } from '../../src/core/ports.js';

/** A binding with sensible values; override what the test is about. */
export function binding(overrides: Partial<CallBinding> = {}): CallBinding {
  return {
    conversationId: '19:meeting_abc@thread.v2',
    provider: 'teams',
    callId: 'call-1',
    state: 'establishing',
    meetingId: 'meeting-1',
    joinUrl: 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0',
    tenantId: 'tenant-1',
    serviceUrl: 'https://smba.trafficmanager.net/amer/',
    createdAt: '2026-11-22T10:00:00.000Z',
    updatedAt: '2026-11-22T10:00:00.000Z',
    ...overrides,
  };
}

/** A roster participant with sensible values. */
export function participant(participantId: string, overrides: Partial<Participant> = {}): Participant {
  return {
    callId: 'call-1',
    participantId,
    kind: 'user',
    identityId: `user-${participantId}`,
    displayName: `Person ${participantId}`,
    tenantId: 'tenant-1',
    isInLobby: false,
    phoneNumbers: [],
    ...overrides,
  };
}

/** A kick request as the moderation service would open it. */
export function newCase(overrides: Partial<NewCase> = {}): NewCase {
  return {
    createdAt: '2026-11-22T10:00:00.000Z',
    source: 'chat',
    action: 'kick',
    requestId: 'request-1',
    conversationId: '19:meeting_abc@thread.v2',
    actorUserId: 'actor-user',
    actorChatId: '29:actor',
    actorName: 'Alice',
    targetChatId: '29:mallory',
    targetName: 'Mallory',
    reason: 'spam',
    ...overrides,
  };
}

const ids = (list: Participant[]) => list.map((p) => p.participantId).sort();

/**
 * The behaviour every Store implementation must have (DESIGN.md: one behavioural suite per port).
 * `open` returns a fresh, empty store for each test; the suite closes it afterwards.
 */
export function runStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('ping resolves', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    describe('bindings', () => {
      it('returns undefined for an unknown conversation or call', async () => {
        expect(await store.getBinding('19:nobody@thread.v2')).toBeUndefined();
        expect(await store.findBindingByCallId('no-such-call')).toBeUndefined();
      });

      it('round-trips a binding with every field', async () => {
        const b = binding();
        await store.saveBinding(b);

        expect(await store.getBinding(b.conversationId)).toEqual(b);
      });

      it('round-trips a binding without its optional fields', async () => {
        const b: CallBinding = {
          conversationId: '19:minimal@thread.v2',
          provider: 'teams',
          callId: 'call-min',
          state: 'established',
          createdAt: '2026-11-22T10:00:00.000Z',
          updatedAt: '2026-11-22T10:00:00.000Z',
        };
        await store.saveBinding(b);

        expect(await store.getBinding(b.conversationId)).toEqual(b);
      });

      it('replaces the binding of the same conversation (upsert)', async () => {
        await store.saveBinding(binding());
        const rebound = binding({
          callId: 'call-2',
          state: 'established',
          meetingId: undefined,
          updatedAt: '2026-11-22T11:00:00.000Z',
        });
        await store.saveBinding(rebound);

        expect(await store.getBinding(rebound.conversationId)).toEqual(rebound);
        expect(await store.findBindingByCallId('call-1')).toBeUndefined();
      });

      it('finds a binding by its call id', async () => {
        await store.saveBinding(binding({ conversationId: '19:a@thread.v2', callId: 'call-a' }));
        await store.saveBinding(binding({ conversationId: '19:b@thread.v2', callId: 'call-b' }));

        expect((await store.findBindingByCallId('call-b'))?.conversationId).toBe('19:b@thread.v2');
      });

      it('setCallState updates the state and returns the binding', async () => {
        await store.saveBinding(binding());
        const updated = await store.setCallState('call-1', 'established', '2026-11-22T10:00:05.000Z');

        const expected = binding({ state: 'established', updatedAt: '2026-11-22T10:00:05.000Z' });
        expect(updated).toEqual(expected);
        expect(await store.getBinding(expected.conversationId)).toEqual(expected);
      });

      it('setCallState returns undefined for an unknown call', async () => {
        await store.saveBinding(binding());

        expect(await store.setCallState('no-such-call', 'established', '2026-11-22T10:00:05.000Z')).toBeUndefined();
        expect((await store.getBinding(binding().conversationId))?.state).toBe('establishing');
      });

      it("setCallState 'terminated' clears that call's roster only", async () => {
        await store.saveBinding(binding());
        await store.upsertParticipants('call-1', [participant('p1'), participant('p2')]);
        await store.upsertParticipants('call-2', [participant('q1', { callId: 'call-2' })]);

        const ended = await store.setCallState('call-1', 'terminated', '2026-11-22T12:00:00.000Z');

        expect(ended?.state).toBe('terminated');
        expect(await store.listRoster('call-1')).toEqual([]);
        expect(ids(await store.listRoster('call-2'))).toEqual(['q1']);
      });

      it("setCallState 'established' keeps the roster", async () => {
        await store.saveBinding(binding());
        await store.upsertParticipants('call-1', [participant('p1')]);
        await store.setCallState('call-1', 'established', '2026-11-22T10:00:05.000Z');

        expect(ids(await store.listRoster('call-1'))).toEqual(['p1']);
      });
    });

    describe('roster', () => {
      it('is empty for an unknown call', async () => {
        expect(await store.listRoster('no-such-call')).toEqual([]);
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
        await store.upsertParticipants('call-1', [participant('p1'), guest, caller]);

        const roster = await store.listRoster('call-1');
        expect(roster).toHaveLength(3);
        expect(roster).toEqual(expect.arrayContaining([participant('p1'), guest, caller]));
      });

      it('upsert updates a known participant and adds new ones', async () => {
        await store.upsertParticipants('call-1', [participant('p1', { isInLobby: true })]);
        await store.upsertParticipants('call-1', [participant('p1', { isInLobby: false }), participant('p2')]);

        const roster = await store.listRoster('call-1');
        expect(ids(roster)).toEqual(['p1', 'p2']);
        expect(roster.find((p) => p.participantId === 'p1')?.isInLobby).toBe(false);
      });

      it('keeps a label and phone numbers when a later upsert has none', async () => {
        await store.upsertParticipants('call-1', [participant('CA1', { kind: 'phone', label: 'Guest 3', phoneNumbers: ['+15551234567'] })]);
        await store.upsertParticipants('call-1', [participant('CA1', { kind: 'phone' })]);

        expect(await store.listRoster('call-1')).toEqual([
          participant('CA1', { kind: 'phone', label: 'Guest 3', phoneNumbers: ['+15551234567'] }),
        ]);
      });

      it('keeps a display name when a later upsert has none', async () => {
        await store.upsertParticipants('call-1', [participant('p1', { displayName: 'Mallory' })]);
        await store.upsertParticipants('call-1', [participant('p1', { displayName: undefined, isInLobby: true })]);

        expect(await store.listRoster('call-1')).toEqual([participant('p1', { displayName: 'Mallory', isInLobby: true })]);
      });

      it('keeps rosters of different calls apart, even for the same participant id', async () => {
        await store.upsertParticipants('call-1', [participant('p1', { displayName: 'In call 1' })]);
        await store.upsertParticipants('call-2', [participant('p1', { callId: 'call-2', displayName: 'In call 2' })]);

        expect((await store.listRoster('call-1')).map((p) => [p.callId, p.displayName])).toEqual([['call-1', 'In call 1']]);
        expect((await store.listRoster('call-2')).map((p) => [p.callId, p.displayName])).toEqual([['call-2', 'In call 2']]);
      });

      it('removes participants, ignoring unknown ids', async () => {
        await store.upsertParticipants('call-1', [participant('p1'), participant('p2'), participant('p3')]);
        await store.removeParticipants('call-1', ['p1', 'p3', 'never-there']);

        expect(ids(await store.listRoster('call-1'))).toEqual(['p2']);
      });

      it('replaceRoster drops everyone not in the new list', async () => {
        await store.upsertParticipants('call-1', [participant('p1'), participant('p2')]);
        await store.upsertParticipants('call-2', [participant('q1', { callId: 'call-2' })]);
        await store.replaceRoster('call-1', [participant('p2'), participant('p3')]);

        expect(ids(await store.listRoster('call-1'))).toEqual(['p2', 'p3']);
        expect(ids(await store.listRoster('call-2'))).toEqual(['q1']);
      });

      it('replaceRoster with an empty list empties the roster', async () => {
        await store.upsertParticipants('call-1', [participant('p1')]);
        await store.replaceRoster('call-1', []);

        expect(await store.listRoster('call-1')).toEqual([]);
      });
    });

    describe('audit cases', () => {
      it('returns undefined for an unknown case', async () => {
        expect(await store.getCase(987654)).toBeUndefined();
      });

      it('opens a pending case with increasing ids', async () => {
        const first = await store.openCase(newCase({ requestId: 'r1' }));
        const second = await store.openCase(newCase({ requestId: 'r2' }));

        expect(second).toBeGreaterThan(first);
        expect(await store.getCase(first)).toEqual({
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

      it('closeCase completes a pending case and merges its detail', async () => {
        const id = await store.openCase(newCase({ detail: { via: 'chat', attempt: 1 } }));
        await store.closeCase(
          id,
          { outcome: 'removed', callId: 'call-1', participantIds: ['p1', 'p2'], detail: { attempt: 2, requestId: 'graph-1' } },
          '2026-11-22T10:00:03.000Z',
        );

        expect(await store.getCase(id)).toMatchObject({
          id,
          status: 'completed',
          completedAt: '2026-11-22T10:00:03.000Z',
          outcome: 'removed',
          callId: 'call-1',
          participantIds: ['p1', 'p2'],
          detail: { via: 'chat', attempt: 2, requestId: 'graph-1' },
        });
      });

      it('closeCase keeps the call id and participants opened with when the result has none', async () => {
        const id = await store.openCase(newCase({ callId: 'call-1', participantIds: ['p1'] }));
        await store.closeCase(id, { outcome: 'target_not_found' }, '2026-11-22T10:00:03.000Z');

        expect(await store.getCase(id)).toMatchObject({
          status: 'completed',
          outcome: 'target_not_found',
          callId: 'call-1',
          participantIds: ['p1'],
          detail: {},
        });
      });

      it('closing a case twice throws and keeps the first result', async () => {
        const id = await store.openCase(newCase());
        await store.closeCase(id, { outcome: 'removed' }, '2026-11-22T10:00:03.000Z');

        await expect(store.closeCase(id, { outcome: 'already_gone' }, '2026-11-22T10:00:09.000Z')).rejects.toThrow();
        expect(await store.getCase(id)).toMatchObject({ outcome: 'removed', completedAt: '2026-11-22T10:00:03.000Z' });
      });

      it('closing an unknown case throws', async () => {
        await expect(store.closeCase(987654, { outcome: 'removed' }, '2026-11-22T10:00:03.000Z')).rejects.toThrow();
      });

      it('openCase with a result records a completed case in one step', async () => {
        const id = await store.openCase(
          newCase({ detail: { via: 'chat' } }),
          { outcome: 'denied', detail: { reason: 'not_permitted' } },
          '2026-11-22T10:00:01.000Z',
        );

        expect(await store.getCase(id)).toMatchObject({
          status: 'completed',
          createdAt: '2026-11-22T10:00:00.000Z',
          completedAt: '2026-11-22T10:00:01.000Z',
          outcome: 'denied',
          detail: { via: 'chat', reason: 'not_permitted' },
        });
        await expect(store.closeCase(id, { outcome: 'removed' }, '2026-11-22T10:00:02.000Z')).rejects.toThrow();
      });

      it('openCase with a result and no time completes it at its creation time', async () => {
        const id = await store.openCase(newCase(), { outcome: 'not_bound', callId: 'call-9', participantIds: ['x'] });

        expect(await store.getCase(id)).toMatchObject({
          status: 'completed',
          completedAt: '2026-11-22T10:00:00.000Z',
          callId: 'call-9',
          participantIds: ['x'],
        });
      });

      it('listCases filters by conversation, newest first, limited', async () => {
        const a1 = await store.openCase(newCase({ conversationId: 'conv-a', requestId: 'a1' }));
        const b1 = await store.openCase(newCase({ conversationId: 'conv-b', requestId: 'b1' }));
        const a2 = await store.openCase(newCase({ conversationId: 'conv-a', requestId: 'a2' }));
        const a3 = await store.openCase(newCase({ conversationId: 'conv-a', requestId: 'a3' }));

        expect((await store.listCases({ conversationId: 'conv-a', limit: 10 })).map((c) => c.id)).toEqual([a3, a2, a1]);
        expect((await store.listCases({ conversationId: 'conv-a', limit: 2 })).map((c) => c.id)).toEqual([a3, a2]);
        expect((await store.listCases({ conversationId: 'conv-b', limit: 10 })).map((c) => c.id)).toEqual([b1]);
        expect(await store.listCases({ conversationId: 'conv-none', limit: 10 })).toEqual([]);
        expect((await store.listCases({ limit: 3 })).map((c) => c.id)).toEqual([a3, a2, b1]);
      });
    });

    describe('idempotency keys', () => {
      const T0 = '2026-11-22T10:00:00.000Z';
      const DAY_LATER = '2026-11-23T10:00:00.000Z';

      it('the first claim owns the key; later claims see it pending, then done with the response', async () => {
        expect(await store.claimIdempotencyKey('msg_1', 'hash-a', T0, DAY_LATER)).toBeUndefined();
        expect(await store.claimIdempotencyKey('msg_1', 'hash-b', T0, DAY_LATER)).toMatchObject({
          key: 'msg_1',
          requestHash: 'hash-a',
          state: 'pending',
        });
        await store.completeIdempotencyKey('msg_1', { status: 200, body: { caseId: 7, outcome: 'removed' } });
        expect(await store.claimIdempotencyKey('msg_1', 'hash-a', T0, DAY_LATER)).toEqual({
          key: 'msg_1',
          requestHash: 'hash-a',
          state: 'done',
          response: { status: 200, body: { caseId: 7, outcome: 'removed' } },
          createdAt: T0,
          expiresAt: DAY_LATER,
        });
      });

      it('a released key can be claimed again; a done key cannot be released', async () => {
        await store.claimIdempotencyKey('msg_2', 'h', T0, DAY_LATER);
        await store.releaseIdempotencyKey('msg_2');
        expect(await store.getIdempotencyKey('msg_2')).toBeUndefined();
        expect(await store.claimIdempotencyKey('msg_2', 'h', T0, DAY_LATER)).toBeUndefined();
        await store.completeIdempotencyKey('msg_2', { status: 404, body: { type: 'x' } });
        await store.releaseIdempotencyKey('msg_2');
        expect((await store.getIdempotencyKey('msg_2'))?.state).toBe('done');
      });

      it('expired keys are purged when a key is claimed', async () => {
        await store.claimIdempotencyKey('old', 'h', T0, '2026-11-22T11:00:00.000Z');
        expect(await store.claimIdempotencyKey('new', 'h', '2026-11-22T12:00:00.000Z', DAY_LATER)).toBeUndefined();
        expect(await store.getIdempotencyKey('old')).toBeUndefined();
        expect(await store.claimIdempotencyKey('old', 'h2', '2026-11-22T12:00:00.000Z', DAY_LATER)).toBeUndefined();
      });
    });
  });
}
