import { describe, expect, it } from 'vitest';
import type { Store } from '../../../src/app/ports/store.js';
import { freshStore } from './fixtures.js';

const T0 = '2026-11-22T10:00:00.000Z';
const DAY_LATER = '2026-11-23T10:00:00.000Z';

/** The behaviour of every IdempotencyStore. `open` returns a fresh, empty store for each test. */
export function runIdempotencyContract(name: string, open: () => Promise<Store>): void {
  describe(`IdempotencyStore contract: ${name}`, () => {
    const store = freshStore(open);
    const keys = () => store().idempotency;

    it('the first claim owns the key; later claims see it pending, then done with the response', async () => {
      expect(await keys().claim('msg_1', 'hash-a', T0, DAY_LATER)).toBeUndefined();
      expect(await keys().claim('msg_1', 'hash-b', T0, DAY_LATER)).toMatchObject({
        key: 'msg_1',
        requestHash: 'hash-a',
        state: 'pending',
      });
      await keys().complete('msg_1', { status: 200, body: { caseId: 7, outcome: 'removed' } });
      expect(await keys().claim('msg_1', 'hash-a', T0, DAY_LATER)).toEqual({
        key: 'msg_1',
        requestHash: 'hash-a',
        state: 'done',
        response: { status: 200, body: { caseId: 7, outcome: 'removed' } },
        createdAt: T0,
        expiresAt: DAY_LATER,
      });
    });

    it('a pending key has no response', async () => {
      await keys().claim('msg_p', 'h', T0, DAY_LATER);

      expect(await keys().get('msg_p')).toEqual({
        key: 'msg_p',
        requestHash: 'h',
        state: 'pending',
        response: undefined,
        createdAt: T0,
        expiresAt: DAY_LATER,
      });
    });

    it('a response without a body reads back with a null body', async () => {
      await keys().claim('msg_n', 'h', T0, DAY_LATER);
      await keys().complete('msg_n', { status: 204, body: undefined });

      expect((await keys().get('msg_n'))?.response).toEqual({ status: 204, body: null });
    });

    it('a released key can be claimed again; a done key cannot be released', async () => {
      await keys().claim('msg_2', 'h', T0, DAY_LATER);
      await keys().release('msg_2');
      expect(await keys().get('msg_2')).toBeUndefined();
      expect(await keys().claim('msg_2', 'h', T0, DAY_LATER)).toBeUndefined();
      await keys().complete('msg_2', { status: 404, body: { type: 'x' } });
      await keys().release('msg_2');
      expect((await keys().get('msg_2'))?.state).toBe('done');
    });

    it('a held key shows its interim response while it stays pending; it can then be completed or released', async () => {
      const accepted = { status: 202, body: { caseId: 3, status: 'pending' } };
      await keys().claim('msg_h', 'h', T0, DAY_LATER);
      await keys().hold('msg_h', accepted);
      expect(await keys().claim('msg_h', 'h', T0, DAY_LATER)).toMatchObject({ state: 'pending', response: accepted });
      await keys().complete('msg_h', { status: 200, body: { caseId: 3, outcome: 'removed' } });
      expect(await keys().get('msg_h')).toMatchObject({ state: 'done', response: { status: 200, body: { caseId: 3, outcome: 'removed' } } });
      // Holding a done key changes nothing.
      await keys().hold('msg_h', accepted);
      expect((await keys().get('msg_h'))?.response?.status).toBe(200);

      await keys().claim('msg_r', 'h', T0, DAY_LATER);
      await keys().hold('msg_r', accepted);
      await keys().release('msg_r');
      expect(await keys().get('msg_r')).toBeUndefined();
      // Nor does holding a key nobody claimed create it.
      await keys().hold('msg_none', accepted);
      expect(await keys().get('msg_none')).toBeUndefined();
    });

    it('expired keys are purged when a key is claimed', async () => {
      await keys().claim('old', 'h', T0, '2026-11-22T11:00:00.000Z');
      expect(await keys().claim('new', 'h', '2026-11-22T12:00:00.000Z', DAY_LATER)).toBeUndefined();
      expect(await keys().get('old')).toBeUndefined();
      expect(await keys().claim('old', 'h2', '2026-11-22T12:00:00.000Z', DAY_LATER)).toBeUndefined();
    });
  });
}
