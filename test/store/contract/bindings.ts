import { describe, expect, it } from 'vitest';
import type { CallBinding } from '../../../src/app/domain/participant.js';
import type { Store } from '../../../src/app/ports/store.js';
import { binding, freshStore, ids, participant } from './fixtures.js';

/** The behaviour of every BindingStore. `open` returns a fresh, empty store for each test. */
export function runBindingsContract(name: string, open: () => Promise<Store>): void {
  describe(`BindingStore contract: ${name}`, () => {
    const store = freshStore(open);
    const bindings = () => store().bindings;

    it('returns undefined for an unknown conversation or call', async () => {
      expect(await bindings().get('19:nobody@thread.v2')).toBeUndefined();
      expect(await bindings().findByCallId('no-such-call')).toBeUndefined();
    });

    it('round-trips a binding with every field', async () => {
      const b = binding({ callName: 'Weekly sync', organizerUserId: 'organizer-1' });
      await bindings().save(b);

      expect(await bindings().get(b.conversationId)).toEqual(b);
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
      await bindings().save(b);

      expect(await bindings().get(b.conversationId)).toEqual(b);
    });

    it.each([
      ['a Teams address', '{"serviceUrl":"https://smba.trafficmanager.net/emea/"}'],
      ['JSON with spaces and non-ASCII text', '{ "serviceUrl": "https://x.example/ü/", "extra": [1, 2] }'],
      ['text that is not JSON', 'opaque:reply/address?x=1'],
      ['an empty string', ''],
    ])('round-trips the reply address unchanged: %s', async (_what, replyAddress) => {
      await bindings().save(binding({ replyAddress }));

      expect((await bindings().get(binding().conversationId))?.replyAddress).toBe(replyAddress);
    });

    it('replaces the binding of the same conversation (upsert)', async () => {
      await bindings().save(binding());
      const rebound = binding({
        callId: 'call-2',
        state: 'established',
        meetingId: undefined,
        replyAddress: undefined,
        updatedAt: '2026-11-22T11:00:00.000Z',
      });
      await bindings().save(rebound);

      expect(await bindings().get(rebound.conversationId)).toEqual(rebound);
      expect(await bindings().findByCallId('call-1')).toBeUndefined();
    });

    it('finds a binding by its call id', async () => {
      await bindings().save(binding({ conversationId: '19:a@thread.v2', callId: 'call-a' }));
      await bindings().save(binding({ conversationId: '19:b@thread.v2', callId: 'call-b' }));

      expect((await bindings().findByCallId('call-b'))?.conversationId).toBe('19:b@thread.v2');
    });

    it('finds the most recently updated binding when several chats hold the call', async () => {
      await bindings().save(binding({ conversationId: '19:old@thread.v2', updatedAt: '2026-11-22T10:00:00.000Z' }));
      await bindings().save(binding({ conversationId: '19:new@thread.v2', updatedAt: '2026-11-22T10:05:00.000Z' }));
      await bindings().save(binding({ conversationId: '19:mid@thread.v2', updatedAt: '2026-11-22T10:02:00.000Z' }));

      expect((await bindings().findByCallId('call-1'))?.conversationId).toBe('19:new@thread.v2');
    });

    it('lists every binding of a call, most recently updated first, whatever its state', async () => {
      await bindings().save(binding({ conversationId: '19:old@thread.v2', updatedAt: '2026-11-22T10:00:00.000Z', state: 'terminated' }));
      await bindings().save(binding({ conversationId: '19:new@thread.v2', updatedAt: '2026-11-22T10:05:00.000Z' }));
      await bindings().save(binding({ conversationId: '19:other@thread.v2', callId: 'call-2' }));

      expect((await bindings().listByCallId('call-1')).map((b) => b.conversationId)).toEqual(['19:new@thread.v2', '19:old@thread.v2']);
      expect(await bindings().listByCallId('call-1')).toContainEqual(binding({ conversationId: '19:old@thread.v2', state: 'terminated' }));
      expect(await bindings().listByCallId('no-such-call')).toEqual([]);
    });

    it("lists a provider's bindings by exact call name, whatever their call id or state", async () => {
      const bridge = (conversationId: string, overrides: Partial<CallBinding> = {}) =>
        binding({ conversationId, provider: 'twilio', callName: 'Support bridge', meetingId: undefined, joinUrl: undefined, ...overrides });
      await bindings().save(bridge('19:a@thread.v2', { callId: 'CF-yesterday', state: 'terminated', updatedAt: '2026-11-21T10:00:00.000Z' }));
      await bindings().save(bridge('19:b@thread.v2', { callId: 'CF-today', state: 'established' }));
      await bindings().save(bridge('19:c@thread.v2', { callName: 'support bridge' }));
      await bindings().save(bridge('19:d@thread.v2', { provider: 'teams' }));

      expect((await bindings().listByCallName('twilio', 'Support bridge')).map((b) => b.conversationId)).toEqual(['19:b@thread.v2', '19:a@thread.v2']);
      expect(await bindings().listByCallName('twilio', 'Nothing')).toEqual([]);
    });

    it('listLive lists the bindings whose call is not terminated, most recently updated first, at most the limit', async () => {
      await bindings().save(binding({ conversationId: '19:a@thread.v2', callId: 'call-a', state: 'established', updatedAt: '2026-11-22T10:00:00.000Z' }));
      await bindings().save(binding({ conversationId: '19:b@thread.v2', callId: 'call-b', state: 'establishing', updatedAt: '2026-11-22T10:02:00.000Z' }));
      await bindings().save(binding({ conversationId: '19:c@thread.v2', callId: 'call-c', state: 'terminated', updatedAt: '2026-11-22T10:03:00.000Z' }));
      await bindings().save(binding({ conversationId: '19:d@thread.v2', callId: 'call-a', state: 'established', updatedAt: '2026-11-22T10:01:00.000Z' }));

      expect((await bindings().listLive(10)).map((b) => b.conversationId)).toEqual(['19:b@thread.v2', '19:d@thread.v2', '19:a@thread.v2']);
      expect((await bindings().listLive(2)).map((b) => b.conversationId)).toEqual(['19:b@thread.v2', '19:d@thread.v2']);
      await bindings().setCallState('call-b', 'terminated', '2026-11-22T10:04:00.000Z');
      expect((await bindings().listLive(10)).map((b) => b.callId)).toEqual(['call-a', 'call-a']);
    });

    it('setCallState updates the state and returns the binding', async () => {
      await bindings().save(binding());
      const updated = await bindings().setCallState('call-1', 'established', '2026-11-22T10:00:05.000Z');

      const expected = binding({ state: 'established', updatedAt: '2026-11-22T10:00:05.000Z' });
      expect(updated).toEqual(expected);
      expect(await bindings().get(expected.conversationId)).toEqual(expected);
    });

    it('setCallState updates every binding of the call and returns the most recently updated one', async () => {
      await bindings().save(binding({ conversationId: '19:old@thread.v2', updatedAt: '2026-11-22T10:00:00.000Z' }));
      await bindings().save(binding({ conversationId: '19:new@thread.v2', updatedAt: '2026-11-22T10:05:00.000Z' }));
      await bindings().save(binding({ conversationId: '19:other@thread.v2', callId: 'call-2' }));

      const updated = await bindings().setCallState('call-1', 'established', '2026-11-22T10:06:00.000Z');

      expect(updated).toEqual(
        binding({ conversationId: '19:new@thread.v2', state: 'established', updatedAt: '2026-11-22T10:06:00.000Z' }),
      );
      expect(await bindings().get('19:old@thread.v2')).toMatchObject({ state: 'established', updatedAt: '2026-11-22T10:06:00.000Z' });
      expect(await bindings().get('19:other@thread.v2')).toMatchObject({ state: 'establishing', updatedAt: '2026-11-22T10:00:00.000Z' });
    });

    it('setCallState returns undefined for an unknown call', async () => {
      await bindings().save(binding());

      expect(await bindings().setCallState('no-such-call', 'established', '2026-11-22T10:00:05.000Z')).toBeUndefined();
      expect((await bindings().get(binding().conversationId))?.state).toBe('establishing');
    });

    it("setCallState 'terminated' clears that call's roster only", async () => {
      await bindings().save(binding());
      await store().roster.upsert('call-1', [participant('p1'), participant('p2')]);
      await store().roster.upsert('call-2', [participant('q1', { callId: 'call-2' })]);

      const ended = await bindings().setCallState('call-1', 'terminated', '2026-11-22T12:00:00.000Z');

      expect(ended?.state).toBe('terminated');
      expect(await bindings().get(binding().conversationId)).toEqual(
        binding({ state: 'terminated', updatedAt: '2026-11-22T12:00:00.000Z' }),
      );
      expect(await store().roster.list('call-1')).toEqual([]);
      expect(ids(await store().roster.list('call-2'))).toEqual(['q1']);
    });

    it("setCallState 'terminated' clears the roster of a call no chat is bound to", async () => {
      await store().roster.upsert('call-9', [participant('p1', { callId: 'call-9' })]);

      expect(await bindings().setCallState('call-9', 'terminated', '2026-11-22T12:00:00.000Z')).toBeUndefined();
      expect(await store().roster.list('call-9')).toEqual([]);
    });

    it("setCallState 'established' keeps the roster", async () => {
      await bindings().save(binding());
      await store().roster.upsert('call-1', [participant('p1')]);
      await bindings().setCallState('call-1', 'established', '2026-11-22T10:00:05.000Z');

      expect(ids(await store().roster.list('call-1'))).toEqual(['p1']);
    });

    describe('a call state only moves forward', () => {
      it("a binding saved 'establishing' after its call's 'established' notification starts established", async () => {
        // The notification was handled (here or on another instance) before the join saved its binding.
        expect(await bindings().setCallState('call-1', 'established', '2026-11-22T10:00:01.000Z')).toBeUndefined();
        await bindings().save(binding());

        expect(await bindings().get(binding().conversationId)).toEqual(binding({ state: 'established' }));
        expect((await bindings().findByCallId('call-1'))?.state).toBe('established');
      });

      it("a binding saved 'establishing' after its call ended starts terminated", async () => {
        await bindings().setCallState('call-1', 'established', '2026-11-22T10:00:01.000Z');
        await bindings().setCallState('call-1', 'terminated', '2026-11-22T10:00:02.000Z');
        await bindings().save(binding());

        expect((await bindings().get(binding().conversationId))?.state).toBe('terminated');
      });

      it("another call's notification, or none, leaves an 'establishing' save as it is", async () => {
        await bindings().setCallState('call-2', 'established', '2026-11-22T10:00:01.000Z');
        await bindings().save(binding());

        expect((await bindings().get(binding().conversationId))?.state).toBe('establishing');
      });

      it("saving 'establishing' again never takes back the chat's established binding to the same call", async () => {
        await bindings().save(binding());
        await bindings().setCallState('call-1', 'established', '2026-11-22T10:00:01.000Z');
        await bindings().save(binding({ updatedAt: '2026-11-22T10:00:02.000Z' }));

        expect(await bindings().get(binding().conversationId)).toMatchObject({ state: 'established', updatedAt: '2026-11-22T10:00:02.000Z' });
      });

      it('a late notification never takes a binding back', async () => {
        await bindings().save(binding());
        await bindings().setCallState('call-1', 'terminated', '2026-11-22T10:00:02.000Z');
        const late = await bindings().setCallState('call-1', 'established', '2026-11-22T10:00:03.000Z');

        expect(late).toEqual(binding({ state: 'terminated', updatedAt: '2026-11-22T10:00:02.000Z' }));
        expect(await bindings().get(binding().conversationId)).toEqual(binding({ state: 'terminated', updatedAt: '2026-11-22T10:00:02.000Z' }));
        // Nor the call's own record: a binding saved now starts terminated.
        await bindings().save(binding({ conversationId: '19:other@thread.v2' }));
        expect((await bindings().get('19:other@thread.v2'))?.state).toBe('terminated');
      });

      it("an explicit 'established' save (a /bind after an /unbind of the same call) is kept", async () => {
        await bindings().save(binding({ state: 'established' }));
        await bindings().save(binding({ state: 'terminated', updatedAt: '2026-11-22T10:01:00.000Z' }));
        await bindings().save(binding({ state: 'established', updatedAt: '2026-11-22T10:02:00.000Z' }));

        expect((await bindings().get(binding().conversationId))?.state).toBe('established');
      });

      it("a notification and a save racing each other always end 'established'", async () => {
        const rounds = Array.from({ length: 20 }, (_, i) => i);
        await Promise.all(
          rounds.map(async (i) => {
            const b = binding({ conversationId: `19:race-${i}@thread.v2`, callId: `call-race-${i}` });
            const steps = [bindings().save(b), bindings().setCallState(b.callId, 'established', '2026-11-22T10:00:01.000Z')];
            await Promise.all(i % 2 === 0 ? steps : steps.reverse());
          }),
        );

        const states = await Promise.all(rounds.map(async (i) => (await bindings().get(`19:race-${i}@thread.v2`))?.state));
        expect(states).toEqual(rounds.map(() => 'established'));
      });
    });

    describe('pruning call states', () => {
      // Retention as Bouncer runs it: ended calls' states kept a day, any state untouched a week.
      const NOW = Date.parse('2026-11-30T12:00:00.000Z');
      const ago = (hours: number) => new Date(NOW - hours * 3_600_000).toISOString();
      const prune = () => bindings().pruneCallStates(ago(24), ago(7 * 24));
      /** What a binding saved 'establishing' now for `callId` starts as: the call's recorded state, if kept. */
      const recordedState = async (callId: string) => {
        const conversationId = `19:probe-${callId}@thread.v2`;
        await bindings().save(binding({ conversationId, callId, updatedAt: new Date(NOW).toISOString() }));
        return (await bindings().get(conversationId))?.state;
      };

      it("forgets an ended call's state after a day, and keeps a younger one", async () => {
        await bindings().setCallState('ended-old', 'terminated', ago(25));
        await bindings().setCallState('ended-new', 'terminated', ago(23));

        expect(await prune()).toBe(1);
        // Forgotten: nothing is known of the old call any more (its next save is taken as it comes).
        expect(await recordedState('ended-old')).toBe('establishing');
        expect(await recordedState('ended-new')).toBe('terminated');
      });

      it('forgets any state untouched for a week, and keeps a live call notified within it', async () => {
        await bindings().setCallState('live-idle', 'established', ago(7 * 24 + 1));
        await bindings().setCallState('live-quiet', 'established', ago(6 * 24));
        await bindings().setCallState('joining-idle', 'establishing', ago(8 * 24));

        expect(await prune()).toBe(2);
        expect(await recordedState('live-idle')).toBe('establishing');
        expect(await recordedState('joining-idle')).toBe('establishing');
        expect(await recordedState('live-quiet')).toBe('established');
      });

      it('never forgets the state of a call a live binding holds, however old; a terminated binding does not hold it', async () => {
        const old = ago(30 * 24);
        await bindings().save(binding({ conversationId: '19:bound@thread.v2', callId: 'bound-call', state: 'established', createdAt: old, updatedAt: old }));
        await bindings().setCallState('bound-call', 'established', old);
        await bindings().save(binding({ conversationId: '19:joining@thread.v2', callId: 'joining-call', createdAt: old, updatedAt: old }));
        await bindings().save(binding({ conversationId: '19:ended@thread.v2', callId: 'ended-call', state: 'established', createdAt: old, updatedAt: old }));
        await bindings().setCallState('ended-call', 'terminated', old);

        expect(await prune()).toBe(1);
        expect(await recordedState('bound-call')).toBe('established');
        expect((await bindings().get('19:bound@thread.v2'))?.state).toBe('established');
        expect((await bindings().get('19:joining@thread.v2'))?.state).toBe('establishing');
        // The ended call's state is gone; its binding (the chat's history) is not.
        expect(await bindings().get('19:ended@thread.v2')).toMatchObject({ callId: 'ended-call', state: 'terminated' });
        expect(await recordedState('ended-call')).toBe('establishing');
        expect(await prune()).toBe(0);
      });

      it('deletes in batches until nothing is due: 1,001 ended calls (two full batches and one)', async () => {
        for (let i = 0; i < 1001; i++) await bindings().setCallState(`bulk-${i}`, 'terminated', ago(48));
        await bindings().setCallState('bulk-young', 'terminated', ago(1));

        expect(await prune()).toBe(1001);
        expect(await prune()).toBe(0);
        expect(await recordedState('bulk-0')).toBe('establishing');
        expect(await recordedState('bulk-1000')).toBe('establishing');
        expect(await recordedState('bulk-young')).toBe('terminated');
      });
    });
  });
}
