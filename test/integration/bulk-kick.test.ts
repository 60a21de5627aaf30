import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MEETING_CHAT_ID, PEOPLE, startHarness, type Harness } from '../support/harness.js';
import { expectDocumented } from '../support/openapi-doc.js';
import { signedHeaders } from '../support/webhooks.js';

// Issue 12, item 4: bulk removal. In chat, `/kick @a @b … [reason]` removes each person through
// the same runner and policy, with a case each and one reply. The webhook takes `targets` (1 to
// 100) and answers one entry per target, in order; a retry of the message never removes anyone
// twice and never loses a result.

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const unavailable = { status: 503, headers: { 'retry-after': '0' }, body: { error: { code: 'ServiceUnavailable', message: 'x' } } };

function helpers(get: () => Harness) {
  const participantOf = (userId: string) => {
    const [callId] = get().graph.callIds;
    return [...get().graph.call(callId!)!.participants.values()].find((p) => (p.info as { identity: { user?: { id: string } } }).identity.user?.id === userId)?.id;
  };
  const inCall = (userId: string) => participantOf(userId) !== undefined;
  const removals = () => get().graph.requests.filter((r) => r.method === 'DELETE' && /\/participants\/[^/]+$/.test(r.path));
  const bulkBody = (userIds: string[], over: Record<string, unknown> = {}) => ({
    call: { conversationId: MEETING_CHAT_ID },
    targets: userIds.map((userId) => ({ userId })),
    reason: 'raid',
    actor: 'classifier',
    ...over,
  });
  async function post(body: unknown, id?: string) {
    const raw = JSON.stringify(body);
    const res = await fetch(`${get().bouncer.url}/api/moderation/kick`, { method: 'POST', headers: signedHeaders(SECRET, raw, { id }), body: raw });
    return { status: res.status, contentType: res.headers.get('content-type'), replayed: res.headers.get('idempotent-replayed'), body: (await res.json()) as { results: Array<Record<string, unknown>> } & Record<string, unknown> };
  }
  return { participantOf, inCall, removals, bulkBody, post };
}

describe('bulk /kick in chat', () => {
  let h: Harness;
  const { inCall, removals } = helpers(() => h);
  beforeEach(async () => {
    // Presenters moderate in this meeting (MODERATOR_ROLES); Ann is an attendee.
    h = await startHarness({ MODERATOR_ROLES: 'organizer,coorganizer,presenter' });
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
  });
  afterEach(async () => {
    await h.close();
  });

  it('removes each person mentioned, with a case each, and answers once listing every result', async () => {
    const rolesLookedUp = () => h.connector.calls.filter((c) => /\/v1\/meetings\/[^/]+\/participants\//.test(c.path)).length;
    const before = rolesLookedUp();
    const activitiesBefore = h.connector.activities.length;
    // A presenter (a moderator here), whose role is looked up: an organizer's needs no lookup.
    await h.send(PEOPLE.pete, '/kick <at>Mallory</at> <at>Ann Attendee</at> raid', [PEOPLE.mallory, PEOPLE.ann]);
    expect(h.lastReply()).toBe(
      ['2 people named, 2 removed:', '- Removed **Mallory** from the call. Case #2.', '- Removed **Ann Attendee** from the call. Case #3.'].join('\n'),
    );
    const card = h.lastCard();
    expect(card.body).toEqual([
      expect.objectContaining({ type: 'TextBlock', text: '2 people named, 2 removed:', weight: 'Bolder' }),
      expect.objectContaining({ type: 'TextBlock', text: 'Removed **Mallory** from the call. Case #2.', color: 'Good' }),
      expect.objectContaining({ type: 'TextBlock', text: 'Removed **Ann Attendee** from the call. Case #3.', color: 'Good' }),
    ]);
    // One message in the chat for the whole command.
    expect(h.connector.activities.length - activitiesBefore).toBe(1);
    const kicks = h.cases().filter((c) => c.action === 'kick');
    expect(kicks).toEqual([
      expect.objectContaining({ id: 2, source: 'chat', target_name: 'Mallory', reason: 'raid', outcome: 'removed', status: 'completed' }),
      expect.objectContaining({ id: 3, source: 'chat', target_name: 'Ann Attendee', reason: 'raid', outcome: 'removed', status: 'completed' }),
    ]);
    expect(inCall(PEOPLE.mallory.aadObjectId)).toBe(false);
    expect(inCall(PEOPLE.ann.aadObjectId)).toBe(false);
    expect(removals()).toHaveLength(2);
    // The moderator's role was looked up once for the whole command.
    expect(rolesLookedUp() - before).toBe(1);
  });

  it('asks the policy about each person: a presenter removes Mallory but not the organizer', async () => {
    await h.send(PEOPLE.pete, '/kick <at>Olivia Organizer</at> <at>Mallory</at> <at>Pete Presenter</at>', [PEOPLE.olivia, PEOPLE.mallory, PEOPLE.pete]);
    // The first runs alone; the others at once, so their case numbers come in either order.
    const caseOf = (name: string) => h.cases().find((c) => c.target_name === name)!;
    expect(h.lastReply()).toBe(
      [
        '3 people named, 1 removed:',
        '- Only Bouncer admins can remove the meeting organizer. Case #2.',
        `- Removed **Mallory** from the call. Case #${String(caseOf('Mallory').id)}.`,
        `- You can't remove yourself; just leave the call. Case #${String(caseOf('Pete Presenter').id)}.`,
      ].join('\n'),
    );
    expect(caseOf('Olivia Organizer')).toMatchObject({ id: 2, outcome: 'denied' });
    expect(caseOf('Mallory')).toMatchObject({ outcome: 'removed' });
    expect(caseOf('Pete Presenter')).toMatchObject({ outcome: 'denied' });
    expect(inCall(PEOPLE.olivia.aadObjectId)).toBe(true);
    expect(removals()).toHaveLength(1);
  });

  it('an attendee is refused for everyone named, each refusal a case', async () => {
    await h.send(PEOPLE.ann, '/kick <at>Mallory</at> <at>Pete Presenter</at>', [PEOPLE.mallory, PEOPLE.pete]);
    expect(h.lastReply()).toBe(
      [
        '2 people named, 0 removed:',
        '- Only the meeting organizer, its moderators and Bouncer admins can do that. Case #2.',
        '- Only the meeting organizer, its moderators and Bouncer admins can do that. Case #3.',
      ].join('\n'),
    );
    expect(removals()).toHaveLength(0);
  });

  it('a person mentioned in the reason is not removed', async () => {
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at> for insulting <at>Ann Attendee</at>', [PEOPLE.mallory, PEOPLE.ann]);
    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #2.');
    expect(h.cases().at(-1)).toMatchObject({ reason: 'for insulting' });
    expect(inCall(PEOPLE.ann.aadObjectId)).toBe(true);
  });
});

describe('bulk kick through the webhook', () => {
  let h: Harness;
  const { participantOf, inCall, removals, bulkBody, post } = helpers(() => h);
  beforeEach(async () => {
    h = await startHarness({ WEBHOOK_SECRETS: SECRET, WEBHOOK_SYNC_WAIT_MS: '300' });
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
  });
  afterEach(async () => {
    await h.close();
  });

  it('answers 200 with one entry per target, in order; a retry of the message removes nobody twice', async () => {
    const body = bulkBody([PEOPLE.mallory.aadObjectId, PEOPLE.nora.aadObjectId, PEOPLE.ann.aadObjectId]);
    const res = await post(body, 'msg_bulk');
    expect(res.status).toBe(200);
    expectDocumented(res.status, res.contentType, res.body);
    expect(res.body.results).toEqual([
      expect.objectContaining({ outcome: 'removed', target: expect.objectContaining({ userId: PEOPLE.mallory.aadObjectId, displayName: 'Mallory' }) }),
      expect.objectContaining({ type: 'urn:bouncer:problem:target-not-found', status: 404, retryable: false }),
      expect.objectContaining({ outcome: 'removed', target: expect.objectContaining({ userId: PEOPLE.ann.aadObjectId }) }),
    ]);
    const caseIds = res.body.results.map((r) => r.caseId);
    const cases = h.cases().filter((c) => c.source === 'webhook');
    expect(cases.map((c) => c.id).sort()).toEqual([...caseIds].sort());
    expect(cases.every((c) => c.reason === 'raid' && c.actor_name === 'classifier')).toBe(true);
    expect(inCall(PEOPLE.mallory.aadObjectId)).toBe(false);
    expect(inCall(PEOPLE.ann.aadObjectId)).toBe(false);
    expect(removals()).toHaveLength(2);

    const again = await post(body, 'msg_bulk');
    expect(again).toMatchObject({ status: 200, replayed: 'true', body: res.body });
    expect(removals()).toHaveLength(2);
    expect(h.cases().filter((c) => c.source === 'webhook')).toHaveLength(3);

    // The same webhook-id with other targets is refused, acting on nobody.
    const other = await post(bulkBody([PEOPLE.pete.aadObjectId]), 'msg_bulk');
    expect(other.status).toBe(422);
    expect(inCall(PEOPLE.pete.aadObjectId)).toBe(true);
  });

  it('entries still running after the wait are pending; a retry meanwhile acts on none of them again; once done the message keeps its final answer', async () => {
    const throttled = { status: 429, headers: { 'retry-after': '2' }, body: { error: { code: 'TooManyRequests', message: 'x' } } };
    h.graph.script('DELETE', /\/participants\//, [throttled, throttled]);
    const body = bulkBody([PEOPLE.mallory.aadObjectId, PEOPLE.ann.aadObjectId]);
    const first = await post(body, 'msg_slow_bulk');
    expect(first.status).toBe(200);
    expectDocumented(first.status, first.contentType, first.body);
    expect(first.body.results).toEqual([
      { caseId: expect.any(Number), status: 'pending' },
      { caseId: expect.any(Number), status: 'pending' },
    ]);

    const meanwhile = await post(body, 'msg_slow_bulk');
    expect(meanwhile.body.results).toEqual(first.body.results);

    // Wait for both removals to finish, then the message answers from its own keys.
    const until = Date.now() + 10_000;
    let last = meanwhile;
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      last = await post(body, 'msg_slow_bulk');
      if (last.replayed === 'true') break;
    }
    expect(last.replayed).toBe('true');
    expect(last.body.results).toEqual([
      expect.objectContaining({ outcome: 'removed', caseId: first.body.results[0]!.caseId }),
      expect.objectContaining({ outcome: 'removed', caseId: first.body.results[1]!.caseId }),
    ]);
    expect(removals()).toHaveLength(4); // two 429s, two removals
    expect(h.cases().filter((c) => c.source === 'webhook')).toHaveLength(2);
  }, 20_000);

  it('an entry that failed retryably acts again on a retry; the others are answered from their record', async () => {
    const annParticipant = participantOf(PEOPLE.ann.aadObjectId)!;
    h.graph.script('DELETE', new RegExp(`/participants/${annParticipant}$`), [unavailable, unavailable, unavailable, unavailable]);
    const body = bulkBody([PEOPLE.mallory.aadObjectId, PEOPLE.ann.aadObjectId]);
    const first = await post(body, 'msg_partial');
    expect(first.body.results).toEqual([
      expect.objectContaining({ outcome: 'removed' }),
      expect.objectContaining({ type: 'urn:bouncer:problem:upstream-failure', status: 503, retryable: true }),
    ]);
    expect(removals()).toHaveLength(5);

    // While the message is not final, its webhook-id stays bound to its body: other targets are refused.
    const other = await post(bulkBody([PEOPLE.mallory.aadObjectId, PEOPLE.ann.aadObjectId, PEOPLE.pete.aadObjectId]), 'msg_partial');
    expect(other.status).toBe(422);
    expect(inCall(PEOPLE.pete.aadObjectId)).toBe(true);

    const retry = await post(body, 'msg_partial');
    expect(retry.replayed).toBeNull();
    expect(retry.body.results).toEqual([first.body.results[0], expect.objectContaining({ outcome: 'removed' })]);
    expect(removals()).toHaveLength(6); // Mallory not again; Ann once more
    expect(inCall(PEOPLE.ann.aadObjectId)).toBe(false);

    const third = await post(body, 'msg_partial');
    expect(third).toMatchObject({ replayed: 'true', body: retry.body });
    expect(removals()).toHaveLength(6);
  });

  it('refuses a body with both target and targets, or with no or too many targets (400), acting on nobody', async () => {
    const both = await post({ ...bulkBody([PEOPLE.mallory.aadObjectId]), target: { userId: PEOPLE.mallory.aadObjectId } });
    expect(both.status).toBe(400);
    expect(both.body).toMatchObject({ type: 'urn:bouncer:problem:invalid-body' });
    expectDocumented(both.status, both.contentType, both.body);
    expect((await post(bulkBody([]))).status).toBe(400);
    const many = await post(bulkBody(Array.from({ length: 101 }, () => PEOPLE.mallory.aadObjectId)));
    expect(many.status).toBe(400);
    expect(many.body.errors).toEqual([expect.objectContaining({ path: 'targets' })]);
    expect(removals()).toHaveLength(0);
    expect(h.cases().filter((c) => c.source === 'webhook')).toHaveLength(0);
  });
});
