import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MEETING_CHAT_ID, PEOPLE, startHarness, type Harness } from '../support/harness.js';
import { signedHeaders } from '../support/webhooks.js';

// A Graph DELETE of a participant is idempotent: one that got no answer (it timed out, or its
// connection was closed) is sent again within the command's deadline, and a 404 then is the
// earlier attempt's removal, not "already gone" nor an upstream failure.
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const REMOVAL = /\/communications\/calls\/[^/]+\/participants\/[^/]+$/;

describe('a Graph DELETE that gets no answer', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  async function start(env: Record<string, string> = {}) {
    h = await startHarness({ WEBHOOK_SECRETS: SECRET, UPSTREAM_TIMEOUT_MS: '1000', ...env });
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
  }

  async function kickMallory() {
    const raw = JSON.stringify({ call: { conversationId: MEETING_CHAT_ID }, target: { userId: PEOPLE.mallory.aadObjectId }, reason: 'raid' });
    const started = Date.now();
    const res = await fetch(`${h.bouncer.url}/api/moderation/kick`, { method: 'POST', headers: signedHeaders(SECRET, raw), body: raw });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, ms: Date.now() - started };
  }

  const deletes = () => h.graph.requests.filter((r) => r.method === 'DELETE' && REMOVAL.test(r.path));
  const malloryInCall = () =>
    [...h.graph.call(h.graph.callIds[0]!)!.participants.values()].some(
      (p) => (p.info as { identity: { user?: { id: string } } }).identity.user?.id === PEOPLE.mallory.aadObjectId,
    );
  const lastCase = () => h.cases().at(-1);

  it('after Graph removed the person but its answer timed out: sent again, the 404 is reported removed', async () => {
    await start();
    h.graph.hang.push({ method: 'DELETE', path: REMOVAL, times: 1, handle: true });

    const res = await kickMallory();

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: 'removed', target: { userId: PEOPLE.mallory.aadObjectId } });
    expect(deletes()).toHaveLength(2);
    expect(h.graph.removals).toHaveLength(1);
    expect(malloryInCall()).toBe(false);
    expect(lastCase()).toMatchObject({ status: 'completed', outcome: 'removed' });
    expect(h.logs.some((l) => l.includes('did not answer an idempotent request; sending it again'))).toBe(true);
  });

  it('after Graph removed the person and the connection closed before the answer ("other side closed"): sent again, reported removed', async () => {
    await start();
    h.graph.dropAnswer.push({ method: 'DELETE', path: REMOVAL, times: 1 });

    const res = await kickMallory();

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: 'removed' });
    expect(deletes()).toHaveLength(2);
    expect(h.graph.removals).toHaveLength(1);
    expect(lastCase()).toMatchObject({ status: 'completed', outcome: 'removed' });
  });

  it('when Graph took the request and did nothing: sent again, and the second DELETE removes the person', async () => {
    await start();
    h.graph.hang.push({ method: 'DELETE', path: REMOVAL, times: 1 });

    const res = await kickMallory();

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: 'removed' });
    expect(deletes()).toHaveLength(2);
    expect(h.graph.removals).toHaveLength(1);
    expect(malloryInCall()).toBe(false);
  });

  it('a first 404 (no attempt before it) is still "already gone"', async () => {
    await start();
    const mallory = [...h.graph.call(h.graph.callIds[0]!)!.participants.values()].find(
      (p) => (p.info as { identity: { user?: { id: string } } }).identity.user?.id === PEOPLE.mallory.aadObjectId,
    )!;
    h.graph.script('DELETE', new RegExp(`/participants/${mallory.id}$`), [{ status: 404, body: { error: { code: '8507', message: 'gone' } } }]);

    const res = await kickMallory();

    expect(res.body).toMatchObject({ outcome: 'already_gone' });
    expect(deletes()).toHaveLength(1);
  });

  it('a Graph that never answers is retried only within the command deadline, then reported upstream_failed (retryable)', async () => {
    await start({ COMMAND_DEADLINE_MS: '3000' });
    h.graph.hang.push({ method: 'DELETE', path: REMOVAL });

    const res = await kickMallory();

    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ type: 'urn:bouncer:problem:upstream-failure', retryable: true });
    expect(deletes().length).toBeGreaterThanOrEqual(2);
    expect(res.ms).toBeLessThan(3000 + 1500);
    expect(lastCase()).toMatchObject({ status: 'completed', outcome: 'upstream_failed' });
  });
});
