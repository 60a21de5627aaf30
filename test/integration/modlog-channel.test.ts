import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { PostedActivity } from '../../tools/sandbox/protocol/connector-server.js';
import { MEETING_CHAT_ID, PEOPLE, startHarness, type Harness } from '../support/harness.js';
import { signedHeaders } from '../support/webhooks.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
/** A group chat of Bouncer's admins, no meeting's: the mod-log channel. */
const OPS_CHAT = '19:ops-room-0123456789abcdef@thread.v2';
const ops = { conversationId: OPS_CHAT, meetingId: null };

/** Waits for a condition (mod-log posts are sent after the action, in the background). */
async function until(condition: () => boolean, timeoutMs = 8000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !condition(); ) {
    if (Date.now() > end) throw new Error('the condition did not come true in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A post's text: a card's fallback text (its words), else the message text. */
function textOf(a: PostedActivity): string {
  const card = (a.activity.attachments as Array<{ content?: { fallbackText?: string } }> | undefined)?.[0]?.content;
  return String(card?.fallbackText ?? a.activity.text ?? '');
}

function isModLogCard(a: PostedActivity): boolean {
  const card = (a.activity.attachments as Array<{ content?: { body?: Array<{ text?: string }> } }> | undefined)?.[0]?.content;
  return card?.body?.[0]?.text === 'Mod log';
}

// Issue 14, item 4: a mod-log channel gets every case from every chat, in the background.
describe('the mod-log channel, through the real server', () => {
  let h: Harness;
  afterEach(async () => {
    expect(h.graph.violations).toEqual([]);
    await h.close();
  });

  const start = (env: Record<string, string> = {}) =>
    startHarness({ ADMIN_USER_IDS: PEOPLE.pete.aadObjectId, MODLOG_INTERVAL_MS: '200', WEBHOOK_SECRETS: SECRET, ...env });
  /** What Bouncer posted to the mod-log chat on its own: its mod-log cards (not replies to commands there). */
  const posts = () => h.connector.activities.filter((a) => a.conversationId === OPS_CHAT && isModLogCard(a));
  const postedText = () => posts().map(textOf).join('\n');
  /** The case numbers each mod-log post shows one by one. */
  const shownCases = () => posts().flatMap((a) => [...textOf(a).matchAll(/\*\*#(\d+)\*\*/g)].map((m) => Number(m[1])));
  const completedIds = () => h.cases().filter((c) => c.status === 'completed').map((c) => Number(c.id));

  async function webhookKick(userId: string, reason: string) {
    const raw = JSON.stringify({ call: { conversationId: MEETING_CHAT_ID }, target: { userId }, reason, actor: 'toxicity-classifier' });
    const headers = signedHeaders(SECRET, raw);
    const res = await fetch(`${h.bouncer.url}/api/moderation/kick`, { method: 'POST', headers, body: raw });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, webhookId: headers['webhook-id']! };
  }

  it('gets every case from every chat once, as a compact card: a kick in the meeting chat, a webhook kick, an automatic ban enforcement; /modlog off stops it', async () => {
    h = await start();
    // Only admins configure it; the refusal is audited, and nothing is posted anywhere.
    await h.send(PEOPLE.olivia, '/modlog here', [], ops);
    expect(h.lastReply()).toBe('Only Bouncer admins can do that. Case #1.');
    expect(h.cases()[0]).toMatchObject({ action: 'modlog_on', outcome: 'denied', conversation_id: OPS_CHAT });
    expect(await h.bouncer.store.modlog.list()).toEqual([]);

    await h.send(PEOPLE.pete, '/modlog here', [], ops);
    expect(h.lastReply()).toBe(
      'This chat is now a mod-log channel: every case from every chat will be posted here as it completes. `/modlog off` stops it. Case #2.',
    );
    expect(await h.bouncer.store.modlog.list()).toMatchObject([{ conversationId: OPS_CHAT, addedBy: PEOPLE.pete.aadObjectId }]);
    await until(() => shownCases().includes(2));

    // A kick in another chat (the meeting's).
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at> spamming links', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #3.');
    await until(() => shownCases().includes(3));
    const kickPost = posts().find((a) => textOf(a).includes('**#3**'))!;
    expect(textOf(kickPost)).toContain('**#3** /kick Mallory → **removed**');
    expect(textOf(kickPost)).toContain('by Olivia Organizer (chat) in chat 19:meeting\\_');
    expect(textOf(kickPost)).toContain('reason: "spamming links"');
    // A compact Adaptive Card: a heading, then one block per case.
    const card = (kickPost.activity.attachments as Array<{ contentType: string; content: { body: Array<{ type: string }> } }>)[0]!;
    expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card.content.body.map((b) => b.type)).toEqual(['TextBlock', 'Container']);

    // A webhook kick (the moderation API).
    const hook = await webhookKick(PEOPLE.ann.aadObjectId, 'slurs detected');
    expect(hook.status).toBe(200);
    const hookCase = Number(hook.body.caseId);
    await until(() => shownCases().includes(hookCase));
    expect(postedText()).toContain(`**#${hookCase}** /kick Ann Attendee → **removed**`);
    expect(postedText()).toContain('by toxicity-classifier (webhook)');
    // Never a case's detail as it is: the webhook's idempotency key stays out of the channel.
    expect(postedText()).not.toContain(hook.webhookId);

    // An automatic removal: a banned person rejoins.
    await h.send(PEOPLE.olivia, '/ban <at>Nora Notincall</at> ban evasion', [PEOPLE.nora]);
    const banCase = h.cases().at(-1)!.id as number;
    await h.graph.addPerson(h.graph.callIds[0]!, { userId: PEOPLE.nora.aadObjectId, displayName: 'Nora Notincall' });
    const auto = () => h.cases().find((c) => c.source === 'auto');
    await until(() => !!auto() && shownCases().includes(Number(auto()!.id)));
    expect(postedText()).toContain(`**#${String(auto()!.id)}** /kick Nora Notincall (ban #${banCase}) → **removed**`);
    expect(postedText()).toContain('by Bouncer (automatic)');

    // Every case is shown, each once: all of them completed after the first post was due, the
    // admin's refusal included (cases are posted as they complete, to the channels of the moment).
    await pause(500);
    expect([...shownCases()].sort((a, b) => a - b)).toEqual(completedIds());

    // /modlog still lists a chat's own cases; /help says what it does.
    await h.send(PEOPLE.olivia, '/modlog', []);
    expect(h.lastReply()).toMatch(/^Recent cases:\n- #\d+ /);
    await h.send(PEOPLE.olivia, '/help', []);
    expect(h.lastReply()).toContain('`/modlog [n | here | off]`: Show this chat\'s recent cases');
    expect(h.lastReply()).toContain('`/modlog here` posts every case from every chat to this chat; `/modlog off` stops it.');

    // Off: nothing more is posted there.
    await h.send(PEOPLE.pete, '/modlog off', [], ops);
    expect(h.lastReply()).toMatch(/^This chat is no longer a mod-log channel\. Case #\d+\.$/);
    const before = posts().length;
    await h.send(PEOPLE.olivia, '/kick <at>Pete Presenter</at>', [PEOPLE.pete]);
    expect(h.lastReply()).toMatch(/^Removed \*\*Pete Presenter\*\* from the call\. Case #\d+\.$/);
    await pause(1500);
    expect(posts()).toHaveLength(before);
  });

  it('a raid of kicks comes as a few posts: the first cases one by one, the rest summed up', async () => {
    h = await start({ MODLOG_INTERVAL_MS: '3000' });
    await h.send(PEOPLE.pete, '/modlog here', [], ops);
    await until(() => posts().length === 1);
    // Twenty kicks at once of someone not in the call: twenty cases within a second or so.
    const sent = await Promise.all(Array.from({ length: 20 }, () => h.send(PEOPLE.olivia, '/kick <at>Nora Notincall</at>', [PEOPLE.nora])));
    expect(sent.every((s) => s === 200)).toBe(true);
    const kicks = h.cases().filter((c) => c.action === 'kick').map((c) => Number(c.id));
    expect(kicks).toHaveLength(20);
    const covered = () => {
      const ids = new Set(shownCases());
      for (const a of posts()) for (const m of textOf(a).matchAll(/#(\d+)–#(\d+)/g)) for (let i = Number(m[1]); i <= Number(m[2]); i++) ids.add(i);
      return ids;
    };
    await until(() => kicks.every((id) => covered().has(id)), 15_000);
    const raidPosts = posts().slice(1);
    // Coalesced: far fewer posts than cases, each showing at most eight, the rest summed up by outcome.
    expect(raidPosts.length).toBeLessThanOrEqual(3);
    expect(raidPosts.some((a) => /…and \d+ more cases \(#\d+–#\d+: \d+ target not found\)/.test(textOf(a)))).toBe(true);
    for (const a of raidPosts) expect([...textOf(a).matchAll(/\*\*#\d+\*\*/g)].length).toBeLessThanOrEqual(8);
  });

  it('a failing post (the Bot Connector answering 500, or hanging) neither fails nor holds up the action; failures are logged and counted', async () => {
    h = await start({ UPSTREAM_TIMEOUT_MS: '3000' });
    await h.send(PEOPLE.pete, '/modlog here', [], ops);
    await until(() => posts().length === 1);
    const opsActivities = /^\/v3\/conversations\/19(?::|%3A)ops-room[^/]*\/activities(?:\/[^/]+)?$/;

    // Every POST to the mod-log chat from here on is a mod-log post (nobody types there).
    const tried = () => h.connector.calls.filter((c) => c.method === 'POST' && opsActivities.test(c.path)).length;
    const base = tried();

    // 500s (the Bot Connector client retries a 500 a few times on its own): the kick is done and answered before the
    // post is even tried.
    h.connector.script('POST', opsActivities, Array.from({ length: 10 }, () => ({ status: 500 })));
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at> spam', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #2.');
    expect(tried()).toBe(base);
    await until(() => tried() > base);
    await until(() => h.logs.some((l) => l.includes('a mod-log post failed')));
    expect(h.cases()[1]).toMatchObject({ outcome: 'removed', status: 'completed' });

    // Hanging: the post waits out its deadline in the background; kicks meanwhile answer at once.
    h.connector.hang.push(opsActivities);
    const hungFrom = tried();
    await h.send(PEOPLE.olivia, '/kick <at>Ann Attendee</at>', [PEOPLE.ann]);
    await until(() => tried() > hungFrom);
    const started = Date.now();
    await h.send(PEOPLE.olivia, '/kick <at>Pete Presenter</at>', [PEOPLE.pete]);
    expect(h.lastReply()).toBe('Removed **Pete Presenter** from the call. Case #4.');
    expect(Date.now() - started).toBeLessThan(2500);
    // The hung post fails at its deadline, and is counted with the 500s; the next one waits for it.
    expect(tried()).toBe(hungFrom + 1);
    await until(() => h.logs.filter((l) => l.includes('a mod-log post failed')).length === 2, 10_000);
    const health = (await (await fetch(`${h.bouncer.url}/healthz`)).json()) as { counters: { modlog: Record<string, number> } };
    expect(health.counters.modlog).toMatchObject({ posted: 1, dropped: 0 });
    expect(health.counters.modlog!.failed).toBeGreaterThanOrEqual(2);
    expect(h.cases().slice(1).map((c) => c.outcome)).toEqual(['removed', 'removed', 'removed']);
  });

  it('with two instances on one database, each case is posted once, by the instance that completed it', async () => {
    h = await start();
    const second = await h.startInstance();
    await h.send(PEOPLE.pete, '/modlog here', [], ops);
    await until(() => posts().length === 1);
    await h.sendTo(second, PEOPLE.olivia, '/kick <at>Mallory</at> spam', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #2.');
    await h.send(PEOPLE.olivia, '/kick <at>Ann Attendee</at>', [PEOPLE.ann]);
    await until(() => shownCases().includes(2) && shownCases().includes(3));
    await pause(800);
    expect([...shownCases()].sort()).toEqual([1, 2, 3]);
  });
});
