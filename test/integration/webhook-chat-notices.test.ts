import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MEETING_CHAT_ID, PEOPLE, startHarness, TENANT_ID, type Harness } from '../support/harness.js';
import { signedHeaders } from '../support/webhooks.js';

// Issue 12 (throughput): the chat bound to a call hears of webhook kicks without a message per
// kick, and without one being left out. The first kick is told at once; the kicks that follow
// within WEBHOOK_NOTICE_WINDOW_MS are told together, one message naming each of them.

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

describe('chat notices of webhook kicks', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  async function start(env: Record<string, string> = {}) {
    h = await startHarness({ WEBHOOK_SECRETS: SECRET, ...env });
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
    const [callId] = h.graph.callIds;
    return callId!;
  }

  async function crowd(callId: string, count: number, prefix: string) {
    const people = Array.from({ length: count }, (_, i) => ({ userId: randomUUID(), displayName: `${prefix} ${i + 1}`, tenantId: TENANT_ID }));
    for (const p of people) await h.graph.addPerson(callId, p);
    await h.graph.settle();
    return people;
  }

  async function kick(userId: string, system = 'raid-guard') {
    const raw = JSON.stringify({ call: { conversationId: MEETING_CHAT_ID }, target: { userId }, reason: 'raid', actor: system });
    const res = await fetch(`${h.bouncer.url}/api/moderation/kick`, { method: 'POST', headers: signedHeaders(SECRET, raw), body: raw });
    return { status: res.status, body: (await res.json()) as { caseId?: number; outcome?: string } };
  }

  /** The chat's messages about removals by moderation systems. */
  const notices = () =>
    h.connector.activities.filter((a) => a.conversationId === MEETING_CHAT_ID && /moderation system/i.test(String(a.activity.text))).map((a) => String(a.activity.text));

  /** How many times `name` is named in `texts`, as a whole name (Raider 1 is not Raider 10). */
  const timesNamed = (texts: readonly string[], name: string) => texts.join('\n').split(`**${name}**`).length - 1;

  it('50 concurrent webhook kicks in one chat are told in fewer messages than kicks, naming each person and case once', async () => {
    const callId = await start();
    const raiders = await crowd(callId, 50, 'Raider');

    const answers = await Promise.all(raiders.map((r) => kick(r.userId)));
    expect(answers.every((a) => a.status === 200 && a.body.outcome === 'removed')).toBe(true);
    const caseIds = answers.map((a) => a.body.caseId!);

    // Every kick is told within the window (2 s by default) after the last one.
    const until = Date.now() + 15_000;
    while (raiders.some((r) => timesNamed(notices(), r.displayName) === 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const texts = notices();
    for (const r of raiders) expect(timesNamed(texts, r.displayName), r.displayName).toBe(1);
    for (const id of caseIds) expect(texts.join('\n').split(`Case #${id}.`).length - 1, `case ${id}`).toBe(1);
    expect(texts.length).toBeGreaterThanOrEqual(1);
    expect(texts.length).toBeLessThan(raiders.length);
    // A message that tells several names the system once and each removal on a line of its own.
    const grouped = texts.find((t) => t.startsWith('The moderation system **raid-guard** removed'));
    expect(grouped).toMatch(/^The moderation system \*\*raid-guard\*\* removed \d+ people from the call:\n- \*\*Raider \d+\*\*\. Reason: raid\. Case #\d+\./);
  }, 60_000);

  it('a lone kick is told at once, in its own words; one made after a quiet window too', async () => {
    const callId = await start({ WEBHOOK_NOTICE_WINDOW_MS: '300' });
    const [first, second] = await crowd(callId, 2, 'Loner');
    const a = await kick(first!.userId);
    await h.connector.waitForActivity((x) => String(x.activity.text).includes('**Loner 1**'), 1_000);
    await new Promise((r) => setTimeout(r, 700)); // the window closes, quiet
    const b = await kick(second!.userId, 'other-system');
    await h.connector.waitForActivity((x) => String(x.activity.text).includes('**Loner 2**'), 1_000);
    expect(notices()).toEqual([
      `**Loner 1** was removed from the call by the moderation system **raid-guard**. Reason: raid. Case #${a.body.caseId}.`,
      `**Loner 2** was removed from the call by the moderation system **other-system**. Reason: raid. Case #${b.body.caseId}.`,
    ]);
  });

  it('kicks by several systems in one window are told together, each with its system', async () => {
    const callId = await start({ WEBHOOK_NOTICE_WINDOW_MS: '1000' });
    const [p1, p2, p3] = await crowd(callId, 3, 'Mixed');
    await kick(p1!.userId, 'alpha'); // told at once
    const b = await kick(p2!.userId, 'beta');
    const c = await kick(p3!.userId, 'gamma');
    const told = await h.connector.waitForActivity((x) => String(x.activity.text).startsWith('Moderation systems removed'), 5_000);
    expect(told.activity.text).toBe(
      [
        'Moderation systems removed 2 people from the call:',
        `- **Mixed 2**, by **beta**. Reason: raid. Case #${b.body.caseId}.`,
        `- **Mixed 3**, by **gamma**. Reason: raid. Case #${c.body.caseId}.`,
      ].join('\n'),
    );
  });

  it('WEBHOOK_NOTICE_WINDOW_MS=0 tells each kick in a message of its own', async () => {
    const callId = await start({ WEBHOOK_NOTICE_WINDOW_MS: '0' });
    const people = await crowd(callId, 3, 'Single');
    await Promise.all(people.map((p) => kick(p.userId)));
    const until = Date.now() + 5_000;
    while (notices().length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(notices()).toHaveLength(3);
    for (const p of people) expect(notices().filter((t) => t.startsWith(`**${p.displayName}** was removed`))).toHaveLength(1);
  });

  it('a shutdown tells the kicks still waiting for their window before it closes the store', async () => {
    const callId = await start({ WEBHOOK_NOTICE_WINDOW_MS: '60000' });
    const people = await crowd(callId, 4, 'Late');
    for (const p of people) expect((await kick(p.userId)).status).toBe(200);
    expect(notices()).toHaveLength(1); // the first at once; the others wait a minute
    await h.bouncer.close();
    const texts = notices();
    expect(texts).toHaveLength(2);
    for (const p of people) expect(timesNamed(texts, p.displayName)).toBe(1);
  });
});
