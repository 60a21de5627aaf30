import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LISTING_FRESH_MS } from '../../src/app/moderation/steps/roster-listings.js';
import { MEETING_CHAT_ID, PEOPLE, startHarness, TENANT_ID, type Harness } from '../support/harness.js';
import { signedHeaders } from '../support/webhooks.js';

// Issue 12, point 1: a kick whose target the stored roster misses lists the call (Graph's
// participants, paged) once per call at a time, and not again while that listing is fresh: a burst
// of kicks of people who are not there, or a sender retrying kicks of people already removed, does
// not list a big meeting per request. Through the real server against the sandbox Graph.

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

describe('kicks that miss the roster, through the real server', () => {
  let h: Harness;
  /** Bouncer's clock runs this far ahead of the real one. */
  let offsetMs = 0;

  beforeEach(async () => {
    offsetMs = 0;
    h = await startHarness({ WEBHOOK_SECRETS: SECRET }, { clock: { now: () => new Date(Date.now() + offsetMs) } });
  });
  afterEach(async () => {
    h.graph.latencyMs = 0;
    await h.graph.settle();
    expect(h.graph.violations).toEqual([]);
    await h.close();
  });

  /** Graph participant listings Bouncer started (a listing's first page; later pages follow a nextLink). */
  const listings = () => h.graph.requests.filter((r) => r.method === 'GET' && /\/communications\/calls\/[^/]+\/participants$/.test(r.path)).length;
  const deletes = () => h.graph.requests.filter((r) => r.method === 'DELETE').length;
  const callId = () => h.graph.callIds[0]!;

  async function kick(userId: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const raw = JSON.stringify({ call: { conversationId: MEETING_CHAT_ID }, target: { userId }, reason: 'raid', actor: 'classifier' });
    const res = await fetch(`${h.bouncer.url}/api/moderation/kick`, { method: 'POST', headers: signedHeaders(SECRET, raw, {}), body: raw });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const absent = () => randomUUID();

  /** Bouncer joins the meeting with a chat kick of Mallory; then its clock moves past any listing that made. */
  async function joined(): Promise<void> {
    expect(await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory])).toBe(200);
    expect(h.lastReply()).toMatch(/^Removed \*\*Mallory\*\*/);
    await h.graph.settle();
    offsetMs += LISTING_FRESH_MS + 1_000;
  }

  it('a kick in a call Bouncer never listed lists it, even with the roster warm from notifications', async () => {
    expect(await h.send(PEOPLE.olivia, '/kick <at>Nora Notincall</at>', [PEOPLE.nora])).toBe(200);
    expect(h.lastReply()).toMatch(/not in the call/i);
    expect(listings()).toBe(1);
    expect(deletes()).toBe(0);
  });

  it('concurrent kicks of absent people in one call share one listing, and each is answered "not found"', async () => {
    await joined();
    const before = listings();
    h.graph.latencyMs = 50;
    const answers = await Promise.all(Array.from({ length: 8 }, () => kick(absent())));
    h.graph.latencyMs = 0;
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(404));
    expect(answers.map((a) => a.body.type)).toEqual(Array(8).fill(expect.stringMatching(/target-not-found$/)));
    expect(listings() - before).toBe(1);
    expect(deletes()).toBe(1);
  });

  it('a miss within the window answers from the roster without listing; after the window, a miss lists again', async () => {
    await joined();
    const before = listings();
    expect((await kick(absent())).status).toBe(404);
    expect(listings() - before).toBe(1);

    // A sender retrying the kick of someone already removed (a new webhook-id), and one of nobody.
    offsetMs += LISTING_FRESH_MS - 1_500;
    const retried = await kick(PEOPLE.mallory.aadObjectId);
    expect(retried.status).toBe(404);
    expect(retried.body.type).toMatch(/target-not-found$/);
    expect((await kick(absent())).status).toBe(404);
    // Someone in the call is still found and removed from the roster as it stands.
    const ann = await kick(PEOPLE.ann.aadObjectId);
    expect(ann.status).toBe(200);
    expect(ann.body.outcome).toBe('removed');
    expect(listings() - before).toBe(1);

    offsetMs += 1_500;
    expect((await kick(absent())).status).toBe(404);
    expect(listings() - before).toBe(2);
  });

  it('someone who joins after the listing is found (once their roster notification is in) and removed, without listing', async () => {
    await joined();
    expect((await kick(absent())).status).toBe(404);
    const before = listings();
    const newcomer = { userId: randomUUID(), displayName: 'Late Raider', tenantId: TENANT_ID };
    const participantId = await h.graph.addPerson(callId(), newcomer);

    const res = await kick(newcomer.userId);
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('removed');
    expect(h.graph.call(callId())!.participants.has(participantId)).toBe(false);
    expect(listings() - before).toBe(0);
  });
});
