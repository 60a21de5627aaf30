import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { SandboxConference } from '../../tools/sandbox/protocol/twilio-server.js';
import { MEETING_CHAT_ID, PEOPLE, startHarness, type Harness, type TwilioSide } from '../support/harness.js';
import { signedHeaders } from '../support/webhooks.js';

// Issue 12: a Twilio DELETE of a participant is idempotent, as Graph's is: one that got no answer
// (it timed out, or its connection was reset) is sent again within the command's deadline, and a
// 404 (20404) then is the earlier attempt's removal. Setting Muted is sent again the same way; an
// announcement (/warn, the notice before a kick) never is: Twilio would play it twice.
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const REMOVAL = /\/Participants\/[^/]+\.json$/;
const MALLORY = '+15550000001';

describe('a Twilio request that gets no answer', () => {
  let h: Harness;
  let tw: TwilioSide;
  let bridge: SandboxConference;
  let mallorySid: string;
  afterEach(async () => {
    // Every request the SDK sent must fit Twilio's own OpenAPI document.
    expect(tw.fake.violations).toEqual([]);
    await h.close();
  });

  async function start(env: Record<string, string> = {}) {
    h = await startHarness(
      {
        WEBHOOK_SECRETS: SECRET,
        UPSTREAM_TIMEOUT_MS: '1000',
        TWILIO_CONFERENCE_CHATS: JSON.stringify({ 'Support bridge': MEETING_CHAT_ID }),
        NOTIFY_REMOVED: 'false',
        ...env,
      },
      { twilio: true },
    );
    tw = h.twilio!;
    bridge = tw.fake.addConference({ friendlyName: 'Support bridge' });
    mallorySid = tw.fake.addParticipant(bridge.sid, { from: MALLORY, label: 'Mallory' }).callSid;
    tw.fake.addParticipant(bridge.sid, { from: '+15550000003', label: 'Guest 3' });
    await h.send(PEOPLE.olivia, '/bind twilio Support bridge', []);
    expect(h.lastReply()).toMatch(/^Connected to the phone conference/);
  }

  async function post(route: string, body: Record<string, unknown>) {
    const raw = JSON.stringify({ call: { conversationId: MEETING_CHAT_ID }, ...body });
    const started = Date.now();
    const res = await fetch(`${h.bouncer.url}/api/moderation/${route}`, { method: 'POST', headers: signedHeaders(SECRET, raw), body: raw });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, ms: Date.now() - started };
  }
  const kickMallory = () => post('kick', { target: { phoneNumber: MALLORY }, reason: 'raid' });

  const deletes = () => tw.fake.requests.filter((r) => r.method === 'DELETE' && REMOVAL.test(r.path));
  const updates = () => tw.fake.requests.filter((r) => r.method === 'POST' && REMOVAL.test(r.path));
  const lastCase = () => h.cases().at(-1);
  const resent = () => h.logs.filter((l) => l.includes('did not answer an idempotent request; sending it again'));

  it('after Twilio removed the caller but its answer timed out: sent again, the 404 (20404) is reported removed, within the deadline', async () => {
    await start();
    tw.fake.hang.push({ method: 'DELETE', path: REMOVAL, times: 1, handle: true });

    const res = await kickMallory();

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: 'removed', target: { phoneNumber: MALLORY } });
    expect(deletes()).toHaveLength(2);
    expect(tw.fake.kicked.map((k) => k.callSid)).toEqual([mallorySid]);
    expect(bridge.participants.has(mallorySid)).toBe(false);
    expect(lastCase()).toMatchObject({ status: 'completed', outcome: 'removed' });
    expect(resent()).toEqual([expect.stringContaining('timed out after 1000 ms')]);
    // One request timeout (1 s), a backoff (at most 500 ms) and the second DELETE.
    expect(res.ms).toBeLessThan(1000 + 500 + 1000);
  });

  it('when Twilio took the request and did nothing: sent again, and the second DELETE removes the caller', async () => {
    await start();
    tw.fake.hang.push({ method: 'DELETE', path: REMOVAL, times: 1 });

    const res = await kickMallory();

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: 'removed' });
    expect(deletes()).toHaveLength(2);
    expect(tw.fake.kicked).toHaveLength(1);
    expect(bridge.participants.has(mallorySid)).toBe(false);
    expect(lastCase()).toMatchObject({ status: 'completed', outcome: 'removed' });
  });

  it('after Twilio removed the caller and the connection was reset before the answer: sent again, reported removed', async () => {
    await start();
    tw.fake.dropAnswer.push({ method: 'DELETE', path: REMOVAL, times: 1 });

    const res = await kickMallory();

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: 'removed' });
    expect(deletes()).toHaveLength(2);
    expect(tw.fake.kicked).toHaveLength(1);
    expect(lastCase()).toMatchObject({ status: 'completed', outcome: 'removed' });
    expect(resent()).toEqual([expect.stringContaining('got no answer (ECONNRESET)')]);
  });

  it('a first 404 (no attempt before it) is still "already gone"', async () => {
    await start();
    tw.fake.script('DELETE', REMOVAL, [{ status: 404 }]);

    const res = await kickMallory();

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: 'already_gone' });
    expect(deletes()).toHaveLength(1);
    expect(lastCase()).toMatchObject({ status: 'completed', outcome: 'already_gone' });
  });

  it('a Twilio that never answers is retried only within the command deadline, then reported upstream_failed (retryable)', async () => {
    await start({ COMMAND_DEADLINE_MS: '3000' });
    tw.fake.hang.push({ method: 'DELETE', path: REMOVAL });

    const res = await kickMallory();

    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ type: 'urn:bouncer:problem:upstream-failure', retryable: true });
    expect(deletes().length).toBeGreaterThanOrEqual(2);
    expect(res.ms).toBeLessThan(3000 + 1500);
    expect(lastCase()).toMatchObject({ status: 'completed', outcome: 'upstream_failed' });
    expect(bridge.participants.has(mallorySid)).toBe(true);
  });

  it('a mute (Muted=true) that got no answer is sent again: the caller is muted', async () => {
    await start();
    tw.fake.hang.push({ method: 'POST', path: REMOVAL, times: 1 });

    const res = await post('mute', { target: { phoneNumber: MALLORY }, reason: 'noise' });

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: 'muted' });
    expect(updates().map((u) => u.form)).toEqual([{ Muted: 'true' }, { Muted: 'true' }]);
    expect(bridge.participants.get(mallorySid)!.muted).toBe(true);
  });

  it('an announcement (/warn) that got no answer is not sent again: Twilio may be playing it', async () => {
    await start();
    tw.fake.hang.push({ method: 'POST', path: REMOVAL, times: 1, handle: true });

    const res = await post('warn', { target: { phoneNumber: MALLORY }, reason: 'calm down' });

    expect(updates()).toHaveLength(1);
    expect(updates()[0]!.form).toMatchObject({ AnnounceUrl: expect.any(String) });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ type: 'urn:bouncer:problem:upstream-failure', retryable: true });
    expect(resent()).toEqual([]);
    expect(lastCase()).toMatchObject({ action: 'warn', status: 'completed', outcome: 'upstream_failed' });
  });
});
