import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SandboxConference } from '../../tools/sandbox/protocol/twilio-server.js';
import { MEETING_CHAT_ID, PEOPLE, startHarness, type Harness } from '../support/harness.js';
import { signedHeaders } from '../support/webhooks.js';

// Issue 11, item 5 (first bullet): each webhook secret may name the calls it may act on
// (WEBHOOK_SECRETS=whsec_…@<key>:<value>|…); a request signed with it for any other call is
// refused 403 not-authorized, audited, and nobody is removed. An unscoped secret acts anywhere.
const ANYWHERE = `whsec_${randomBytes(32).toString('base64')}`;
const CHAT_ONLY = `whsec_${randomBytes(32).toString('base64')}`;
const OTHER_CONFERENCE = `whsec_${randomBytes(32).toString('base64')}`;

describe('webhook secrets scoped to calls, through the real server', () => {
  let h: Harness;
  let bridge: SandboxConference;
  let mallorySid: string;

  beforeEach(async () => {
    h = await startHarness(
      {
        WEBHOOK_SECRETS: `${ANYWHERE}, ${CHAT_ONLY}@conversationId:${MEETING_CHAT_ID}, ${OTHER_CONFERENCE}@twilioConference:CF${'0'.repeat(32)}|twilioConference:Other bridge`,
      },
      { twilio: true },
    );
    bridge = h.twilio!.fake.addConference({ friendlyName: 'Support bridge', status: 'in-progress' });
    mallorySid = h.twilio!.fake.addParticipant(bridge.sid, { from: '+15550000001', label: 'Mallory' }).callSid;
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
  });
  afterEach(async () => {
    await h.close();
  });

  async function post(secret: string, body: unknown) {
    const raw = JSON.stringify(body);
    const res = await fetch(`${h.bouncer.url}/api/moderation/kick`, { method: 'POST', headers: signedHeaders(secret, raw), body: raw });
    return { status: res.status, contentType: res.headers.get('content-type'), body: (await res.json()) as Record<string, unknown> };
  }
  const chatKick = { call: { conversationId: MEETING_CHAT_ID }, target: { userId: PEOPLE.mallory.aadObjectId }, actor: 'classifier' };
  const bridgeKick = () => ({ call: { twilioConference: bridge.sid }, target: { label: 'Mallory' }, actor: 'classifier' });
  const graphDeletes = () => h.graph.requests.filter((r) => r.method === 'DELETE');

  it('a secret scoped to another conference is refused 403 for this one, audited, nobody removed', async () => {
    const res = await post(OTHER_CONFERENCE, bridgeKick());
    expect(res.status).toBe(403);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body).toMatchObject({ type: 'urn:bouncer:problem:not-authorized', reason: 'not_permitted' });
    expect(bridge.participants.has(mallorySid)).toBe(true);
    expect(h.cases().at(-1)).toMatchObject({ source: 'webhook', outcome: 'denied' });
    // Nor a conversation it does not name.
    expect((await post(OTHER_CONFERENCE, chatKick)).status).toBe(403);
    expect(graphDeletes()).toHaveLength(0);
  });

  it('a secret scoped to a chat acts on that chat only', async () => {
    expect((await post(CHAT_ONLY, bridgeKick())).status).toBe(403);
    expect(bridge.participants.has(mallorySid)).toBe(true);
    const res = await post(CHAT_ONLY, chatKick);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: 'removed' });
    expect(graphDeletes()).toHaveLength(1);
  });

  it('an unscoped secret acts on any call', async () => {
    expect((await post(ANYWHERE, bridgeKick())).status).toBe(200);
    expect(bridge.participants.has(mallorySid)).toBe(false);
  });
});
