import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APP_ID, BOT_CHAT_ID, MEETING_CHAT_ID, MEETING_ID, PEOPLE, TENANT_ID, startHarness, type Harness } from '../support/harness.js';

/** Issue 11 item 8: the Bot Framework may deliver the same activity twice; it acts once. */
describe('duplicate delivery of a Teams activity', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  async function post(id: string, from = PEOPLE.olivia, target = PEOPLE.mallory, conversationId = MEETING_CHAT_ID): Promise<number> {
    const serviceUrl = `${h.connector.url}/`;
    const token = await h.botIssuer.sign({ iss: 'https://api.botframework.com', aud: APP_ID, serviceurl: serviceUrl });
    const res = await fetch(`${h.bouncer.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        type: 'message',
        id,
        timestamp: new Date().toISOString(),
        channelId: 'msteams',
        serviceUrl,
        from: { id: from.chatId, name: from.name, aadObjectId: from.aadObjectId },
        conversation: { id: conversationId, isGroup: true, conversationType: 'groupChat', tenantId: TENANT_ID },
        recipient: { id: BOT_CHAT_ID, name: 'Bouncer' },
        channelData: { tenant: { id: TENANT_ID }, meeting: { id: MEETING_ID } },
        text: `<at>Bouncer</at> /kick <at>${target.name}</at>\n`,
        textFormat: 'plain',
        entities: [
          { type: 'mention', mentioned: { id: BOT_CHAT_ID, name: 'Bouncer' }, text: '<at>Bouncer</at>' },
          { type: 'mention', mentioned: { id: target.chatId, name: target.name }, text: `<at>${target.name}</at>` },
        ],
      }),
    });
    await res.arrayBuffer();
    return res.status;
  }

  it('the same activity id delivered twice (one after the other) gives one case and one DELETE', async () => {
    const id = randomUUID();
    expect(await post(id)).toBe(200);
    expect(await post(id)).toBe(200);
    await h.graph.settle();
    expect(h.graph.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    expect(h.cases()).toHaveLength(1);
    expect(h.connector.activities.filter((a) => a.replyToId === id)).toHaveLength(1);
  });

  it('the same activity id delivered twice at once gives one case and one DELETE', async () => {
    const id = randomUUID();
    expect(await Promise.all([post(id), post(id)])).toEqual([200, 200]);
    await h.graph.settle();
    expect(h.graph.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    expect(h.cases()).toHaveLength(1);
  });

  it('different activities still act, each once', async () => {
    await post(randomUUID(), PEOPLE.olivia, PEOPLE.mallory);
    await post(randomUUID(), PEOPLE.olivia, PEOPLE.ann);
    expect(h.graph.requests.filter((r) => r.method === 'DELETE')).toHaveLength(2);
    expect(h.cases()).toHaveLength(2);
  });
});
