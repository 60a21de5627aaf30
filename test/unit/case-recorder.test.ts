import os from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamError } from '../../src/app/domain/errors.js';
import type { Outcome } from '../../src/app/domain/outcome.js';
import type { KeptAnswer, RequestBase } from '../../src/app/moderation/requests.js';
import { CaseRecorder } from '../../src/app/moderation/steps/audit.js';
import type { Store, StoredResponse } from '../../src/app/ports/store.js';
import { createLogger } from '../../src/logger.js';
import { openStore } from '../../src/store/open-store.js';

const AT = '2026-11-23T10:00:00.000Z';
const KEYS = ['webhook-id:msg_1', 'idempotency-key:job-1'];

/** A webhook's answer hook, as the routes give it: 200 for a removal, a retryable 503 for an upstream failure. */
function answerHook() {
  const kept: Outcome[] = [];
  const hook: KeptAnswer = {
    answer: (outcome) =>
      outcome.kind === 'upstream_failed'
        ? { response: { status: 503, body: { retryable: true } }, retryable: true }
        : { response: { status: 200, body: { caseId: outcome.caseId, outcome: outcome.kind } }, retryable: false },
    kept: (outcome) => kept.push(outcome),
  };
  return { hook, kept };
}

// A kick's end is one write: the case completed with the roster rows it removed and the request's answer under its keys.
describe('CaseRecorder.act with what its change came to', () => {
  let store: Store;
  beforeEach(async () => {
    store = await openStore(':memory:', os.tmpdir());
    await store.roster.upsert('call-1', [
      { callId: 'call-1', participantId: 'p-1', kind: 'user', isInLobby: false },
      { callId: 'call-1', participantId: 'p-2', kind: 'user', isInLobby: false },
    ]);
    for (const key of KEYS) await store.idempotency.claim(key, 'hash', AT, '2026-11-24T10:00:00.000Z');
  });
  afterEach(async () => {
    await store.close();
  });

  const recorder = (keptAnswer: KeptAnswer) => {
    const req: RequestBase = { source: 'webhook', requestId: 'msg_1', actor: { kind: 'bouncer', displayName: 'test' }, idempotencyKeys: KEYS, keptAnswer };
    return new CaseRecorder({ store, clock: { now: () => new Date(AT) }, logger: createLogger('silent') }, req, 'kick');
  };
  const keyStates = async () => Promise.all(KEYS.map(async (k) => (await store.idempotency.get(k))?.state));
  const roster = async () => (await store.roster.list('call-1')).map((p) => p.participantId);

  it('completes the case, removes the roster rows and keeps the answer under every key, and says for which outcome', async () => {
    const { hook, kept } = answerHook();
    const outcome = await recorder(hook).act('call-1', ['p-1'], async (_caseId, done) => {
      done.removedFromRoster('call-1', ['p-1']);
      return { kind: 'removed', target: {}, callId: 'call-1', participantIds: ['p-1'] };
    });

    expect(outcome).toMatchObject({ kind: 'removed', caseId: outcome.caseId });
    expect(kept).toEqual([outcome]);
    expect(kept[0]).toBe(outcome);
    expect(await store.cases.get(outcome.caseId!)).toMatchObject({ status: 'completed', outcome: 'removed', detail: { idempotencyKeys: KEYS } });
    expect(await roster()).toEqual(['p-2']);
    const answer: StoredResponse = { status: 200, body: { caseId: outcome.caseId, outcome: 'removed' } };
    for (const key of KEYS) expect(await store.idempotency.get(key)).toMatchObject({ state: 'done', response: answer });
  });

  it('gives the keys up with the completed case when the answer is retryable', async () => {
    const { hook, kept } = answerHook();
    const outcome = await recorder(hook).act('call-1', ['p-1'], async () => {
      throw new UpstreamError('graph', 'Graph is down', { status: 503, retryable: true });
    });

    expect(outcome).toMatchObject({ kind: 'upstream_failed' });
    expect(kept).toEqual([outcome]);
    expect(await store.cases.get(outcome.caseId!)).toMatchObject({ status: 'completed', outcome: 'upstream_failed' });
    expect(await keyStates()).toEqual([undefined, undefined]);
    expect(await roster()).toEqual(['p-1', 'p-2']);
  });

  it('when the case cannot be completed (completed elsewhere), still removes the roster rows and leaves the keys to the transport', async () => {
    const { hook, kept } = answerHook();
    const outcome = await recorder(hook).act('call-1', ['p-1'], async (caseId, done) => {
      // Another instance's reconciliation completes the case first.
      await store.cases.close(caseId, { outcome: 'interrupted' }, AT);
      done.removedFromRoster('call-1', ['p-1']);
      return { kind: 'removed', target: {}, callId: 'call-1', participantIds: ['p-1'] };
    });

    expect(outcome).toMatchObject({ kind: 'removed', recorded: false });
    expect(kept).toEqual([]);
    expect(await store.cases.get(outcome.caseId!)).toMatchObject({ outcome: 'interrupted' });
    expect(await roster()).toEqual(['p-2']);
    expect(await keyStates()).toEqual(['pending', 'pending']);
  });

  it('an answer hook that throws leaves the case completed and the keys to the transport', async () => {
    const kept: Outcome[] = [];
    const outcome = await recorder({
      answer: () => {
        throw new Error('a bug in the renderer');
      },
      kept: (o) => kept.push(o),
    }).act('call-1', ['p-1'], async () => ({ kind: 'already_gone', target: {}, callId: 'call-1' }));

    expect(await store.cases.get(outcome.caseId!)).toMatchObject({ status: 'completed', outcome: 'already_gone' });
    expect(kept).toEqual([]);
    expect(await keyStates()).toEqual(['pending', 'pending']);
  });
});
