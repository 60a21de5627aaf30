import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import type { RunningBouncer } from '../../src/main.js';
import { MEETING_CHAT_ID, PEOPLE, startHarness, TENANT_ID, type Harness } from '../support/harness.js';
import { adminConnection, describePostgres, postgresAvailability, testSchemaName, testUrl } from '../support/postgres.js';
import { freePort } from '../support/ports.js';
import { signedHeaders } from '../support/webhooks.js';

// Issue 15 item 5: two real Bouncer instances on one PostgreSQL database, behind one public URL.
const availability = await postgresAvailability();
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

describePostgres('two Bouncer instances on one PostgreSQL database', availability, () => {
  const admin = adminConnection();
  let h: Harness;
  let b: RunningBouncer;
  const schemas = new Map<RunningBouncer, string>();
  const schemaOf = (instance: RunningBouncer) => schemas.get(instance)!;
  afterEach(async () => {
    await h.close();
  });

  /**
   * Instance A is the harness's own; instance B shares its database and environment. Both have
   * B's URL as PUBLIC_BASE_URL, as behind a load balancer, so Graph's notifications reach B.
   */
  async function start(extra: Record<string, string> = {}) {
    const schema = admin.dropAfterwards(testSchemaName());
    const portB = await freePort();
    const env = { DATABASE_URL: testUrl({ schema }), PUBLIC_BASE_URL: `http://127.0.0.1:${portB}`, WEBHOOK_SECRETS: SECRET, ...extra };
    h = await startHarness(env);
    b = await h.startInstance({ ...env, PORT: String(portB) });
    schemas.set(b, schema);
  }

  const kick = async (instance: { url: string }, target: Record<string, string>, id?: string) => {
    const raw = JSON.stringify({ call: { conversationId: MEETING_CHAT_ID }, target, reason: 'raid' });
    const res = await fetch(`${instance.url}/api/moderation/kick`, { method: 'POST', headers: signedHeaders(SECRET, raw, { id }), body: raw });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const cases = () => b.store.cases.list({ limit: 1000 });
  const userIdsInCall = (callId: string) =>
    [...h.graph.call(callId)!.participants.values()].map((p) => (p.info as { identity: { user?: { id: string } } }).identity.user?.id);

  it('a join started on A completes through the notification Graph posted to B', async () => {
    await start();
    expect(await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory])).toBe(200);

    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #1.');
    await h.graph.settle();
    expect(h.graph.notificationsSent.length).toBeGreaterThan(0);
    expect(h.graph.notificationsSent.every((n) => n.callbackUri.startsWith(b.url) && n.status === 202)).toBe(true);
    expect(userIdsInCall(h.graph.callIds[0]!)).not.toContain(PEOPLE.mallory.aadObjectId);
  });

  it("a join whose 'established' notification reaches B before A saved the binding completes, and the binding is established", async () => {
    // Graph delivers "established" to B (and B answers it) before it answers A's join: B finds no
    // binding to update then; A's binding, saved after, must start established, not wait forever.
    await start({ CALL_JOIN_TIMEOUT_MS: '3000' });
    h.graph.establishBeforeAnswer = true;
    expect(await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory])).toBe(200);

    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #1.');
    const [callId] = h.graph.callIds;
    const first = h.graph.notificationsSent[0]!;
    expect(first.callbackUri.startsWith(b.url)).toBe(true);
    expect(JSON.stringify(first.payload)).toContain('"state":"established"');
    expect(await b.store.bindings.get(MEETING_CHAT_ID)).toMatchObject({ callId, state: 'established' });
  });

  it('concurrent first kicks on A and B make one join', async () => {
    await start();
    // Webhook kicks name the chat's call: a chat with no binding gets not_bound, so the first kicks come from chat on A, and
    // from chat on B (the same activity posted to B's /api/messages, as a load balancer would).
    const sends = Array.from({ length: 10 }, () => h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]));
    const onB = Array.from({ length: 10 }, () => h.sendTo(b, PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]));
    expect(await Promise.all([...sends, ...onB])).toEqual(Array.from({ length: 20 }, () => 200));
    await h.graph.settle();

    expect(h.graph.requests.filter((r) => r.method === 'POST' && r.path === '/communications/calls')).toHaveLength(1);
    expect(userIdsInCall(h.graph.callIds[0]!)).not.toContain(PEOPLE.mallory.aadObjectId);
  });

  it('100 concurrent first kicks spread over A and B make exactly one join', async () => {
    await start();
    // Kicks that read "no binding" before the winner bound the chat must not join again when they
    // claim the join lease the winner has just released: they use the winner's binding.
    const kicks = Array.from({ length: 100 }, (_, i) =>
      i % 2 === 0 ? h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]) : h.sendTo(b, PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]),
    );
    expect(await Promise.all(kicks)).toEqual(Array.from({ length: 100 }, () => 200));
    await h.graph.settle();

    expect(h.graph.requests.filter((r) => r.method === 'POST' && r.path === '/communications/calls')).toHaveLength(1);
    expect(h.graph.callIds).toHaveLength(1);
    expect(userIdsInCall(h.graph.callIds[0]!)).not.toContain(PEOPLE.mallory.aadObjectId);
    expect(await b.store.bindings.get(MEETING_CHAT_ID)).toMatchObject({ callId: h.graph.callIds[0], state: 'established' });
  }, 60_000);

  it("B, claiming the join lease the moment A released it, uses A's binding instead of joining again", async () => {
    await start();
    const leases = `"${schemaOf(b)}".idempotency_keys`;
    const leaseHeld = async () => (await admin.client().query(`SELECT 1 FROM ${leases} WHERE key LIKE 'join:%'`)).rowCount === 1;
    // A claims the lease and joins; Graph is slow to answer.
    h.graph.latencyMs = 1_500;
    const onA = h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    await until(leaseHeld);
    // The lease is being released (this transaction stands for A's release, committed later):
    // B's claim, made while the chat has no binding yet, waits for it.
    await admin.client().query('BEGIN');
    await admin.client().query(`DELETE FROM ${leases} WHERE key LIKE 'join:%'`);
    const onB = h.sendTo(b, PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    await until(async () => (await b.store.bindings.get(MEETING_CHAT_ID)) !== undefined, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await admin.client().query('COMMIT');
    h.graph.latencyMs = 0;

    expect(await Promise.all([onA, onB])).toEqual([200, 200]);
    await h.graph.settle();
    expect(h.graph.requests.filter((r) => r.method === 'POST' && r.path === '/communications/calls')).toHaveLength(1);
    expect(h.graph.callIds).toHaveLength(1);
    expect(userIdsInCall(h.graph.callIds[0]!)).not.toContain(PEOPLE.mallory.aadObjectId);
  }, 30_000);

  it('the same webhook sent to A and B at once gives one removal and one case', async () => {
    await start();
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
    const id = `msg_${randomUUID()}`;
    const [onA, onB] = await Promise.all([kick(h.bouncer, { userId: PEOPLE.mallory.aadObjectId }, id), kick(b, { userId: PEOPLE.mallory.aadObjectId }, id)]);

    expect([onA.status, onB.status]).toEqual([200, 200]);
    expect(onA.body.caseId).toBe(onB.body.caseId);
    expect(h.graph.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    expect((await cases()).filter((c) => c.source === 'webhook')).toHaveLength(1);
  });

  it('200 kicks spread across both give 200 removals and 200 completed cases, with unique case numbers', async () => {
    await start();
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
    const [callId] = h.graph.callIds;
    const raiders = Array.from({ length: 200 }, (_, i) => ({ userId: randomUUID(), displayName: `Raider ${i}`, tenantId: TENANT_ID }));
    for (const raider of raiders) await h.graph.addPerson(callId!, raider);
    await h.graph.settle();

    const answers = await Promise.all(raiders.map((raider, i) => kick(i % 2 === 0 ? h.bouncer : b, { userId: raider.userId })));

    expect(answers.map((a) => a.status)).toEqual(raiders.map(() => 200));
    expect(answers.map((a) => a.body.outcome)).toEqual(raiders.map(() => 'removed'));
    expect(new Set(answers.map((a) => a.body.caseId)).size).toBe(200);
    const left = userIdsInCall(callId!);
    for (const raider of raiders) expect(left).not.toContain(raider.userId);
    const webhookCases = (await cases()).filter((c) => c.source === 'webhook');
    expect(webhookCases).toHaveLength(200);
    expect(webhookCases.every((c) => c.status === 'completed' && c.outcome === 'removed')).toBe(true);
  }, 60_000);

  it('a /ban made on A is enforced by B when the banned person rejoins and Graph tells B (bans are shared through the store)', async () => {
    await start();
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
    const [callId] = h.graph.callIds;
    expect(await h.send(PEOPLE.olivia, '/ban <at>Mallory</at> spamming', [PEOPLE.mallory])).toBe(200);
    expect(h.lastReply()).toMatch(/^Removed \*\*Mallory\*\* from the call and banned them/);
    expect(userIdsInCall(callId!)).not.toContain(PEOPLE.mallory.aadObjectId);
    const before = h.graph.notificationsSent.length;

    // Mallory dials back in; Graph posts the roster to the public URL, which is B.
    const rejoined = await h.graph.addPerson(callId!, { userId: PEOPLE.mallory.aadObjectId, displayName: 'Mallory' });
    await h.graph.settle();

    const roster = h.graph.notificationsSent.slice(before).find((n) => JSON.stringify(n.payload).includes(rejoined))!;
    expect(roster.callbackUri.startsWith(b.url)).toBe(true);
    expect(h.graph.call(callId!)!.participants.has(rejoined)).toBe(false);
    const auto = (await cases()).filter((c) => c.source === 'auto');
    expect(auto).toHaveLength(1);
    expect(auto[0]).toMatchObject({ action: 'kick', outcome: 'removed', status: 'completed', targetUserId: PEOPLE.mallory.aadObjectId, participantIds: [rejoined] });
    expect(auto[0]!.detail).toMatchObject({ banCaseId: 2 });
  });

  it('killing A mid-removal leaves a pending case that the surviving instances reconcile, once', async () => {
    await start({ SHUTDOWN_GRACE_MS: '0' });
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
    // Graph takes A's DELETE and never answers: A dies mid-removal.
    h.graph.hang.push({ method: 'DELETE', path: /\/participants\// });
    const id = `msg_${randomUUID()}`;
    const cutOff = kick(h.bouncer, { userId: PEOPLE.mallory.aadObjectId }, id).catch(() => undefined);
    await until(async () => (await cases()).some((c) => c.status === 'pending'));
    // The case opens before the notice (NOTIFY_REMOVED) and the DELETE: A dies once Graph holds its DELETE.
    await until(async () => h.graph.requests.some((r) => r.method === 'DELETE'));
    await h.bouncer.close();
    await cutOff;
    const [pending] = (await cases()).filter((c) => c.status === 'pending');
    expect(pending).toMatchObject({ source: 'webhook', requestId: id });
    h.graph.hang.length = 0;

    // Two survivors whose next rounds come after any request could still run (their clocks two
    // minutes on; rounds every 100 ms instead of every minute): one of them completes the case.
    const env = { DATABASE_URL: testUrl({ schema: schemaOf(b) }), WEBHOOK_SECRETS: SECRET };
    const later = { clock: { now: () => new Date(Date.now() + 2 * 60_000) }, reconcileEveryMs: 100 };
    await Promise.all([h.startInstance(env, later), h.startInstance(env, later)]);
    await until(async () => (await b.store.cases.get(pending!.id))?.status === 'completed');
    await new Promise((resolve) => setTimeout(resolve, 500));

    expect(await b.store.cases.get(pending!.id)).toMatchObject({ status: 'completed', outcome: 'interrupted', detail: { reconciled: true } });
    expect(h.logs.filter((l) => l.includes('"msg":"reconciled a pending case"'))).toHaveLength(1);
    // Mallory is still in the call (the DELETE never happened), and the sender's retry acts again.
    expect(userIdsInCall(h.graph.callIds[0]!)).toContain(PEOPLE.mallory.aadObjectId);
    const retry = await kick(b, { userId: PEOPLE.mallory.aadObjectId }, id);
    expect(retry.body.outcome).toBe('removed');
  });
});

async function until(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
