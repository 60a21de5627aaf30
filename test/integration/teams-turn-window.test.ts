import { afterEach, describe, expect, it } from 'vitest';
import { PEOPLE, startHarness, type Harness } from '../support/harness.js';

// Issue 11, item 9: a chat command fits Teams' answer window (about 15 s), every Bot Connector
// lookup has a deadline, and a command has an overall deadline, so that throttling cannot hold
// a user for 75 s.

const throttled = (retryAfterSeconds: number) => ({
  status: 429,
  headers: { 'retry-after': String(retryAfterSeconds) },
  body: { error: { code: 'TooManyRequests', message: 'Too many requests' } },
});

describe('a chat command within Teams’ answer window', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('answers "working on it" within CHAT_REPLY_WAIT_MS when throttled, then replaces that message with the result', async () => {
    h = await startHarness({ CHAT_REPLY_WAIT_MS: '500' });
    // Graph asks the removal to wait 2 s: longer than the reply wait, well inside the command's deadline.
    h.graph.script('DELETE', /\/participants\//, [throttled(2)]);

    const started = Date.now();
    expect(await h.send(PEOPLE.olivia, '/kick <at>Mallory</at> spam', [PEOPLE.mallory])).toBe(200);
    const answeredMs = Date.now() - started;

    expect(h.lastReply()).toMatch(/^Working on it…/);
    expect(answeredMs).toBeLessThan(2_000);
    expect(h.connector.updates).toEqual([]);
    const working = h.connector.activities.at(-1)!;

    const update = await waitFor(() => h!.connector.updates[0], 10_000);
    expect(update.activityId).toBe(working.id);
    expect(update.conversationId).toBe(working.conversationId);
    // The result card, as the same kick answers within the window.
    const card = (update.activity.attachments as Array<{ content: { fallbackText?: string } }>)[0]!.content;
    expect(card.fallbackText).toBe('Removed **Mallory** from the call. Case #1.');
    expect(h.graph.requests.filter((r) => r.method === 'DELETE')).toHaveLength(2);
    expect(h.cases()).toMatchObject([{ id: 1, status: 'completed', outcome: 'removed' }]);
    // One answer, then its edit: no second message.
    expect(h.connector.activities.filter((a) => a.conversationId === working.conversationId)).toHaveLength(1);
  });

  it('a command answered within the wait is replied to at once, with no "working on it"', async () => {
    h = await startHarness({ CHAT_REPLY_WAIT_MS: '5000' });
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);

    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #1.');
    expect(h.connector.updates).toEqual([]);
    expect(h.connector.activities.some((a) => /Working on it/.test(String(a.activity.text)))).toBe(false);
  });

  it('COMMAND_DEADLINE_MS ends a removal that Retry-After would hold for 75 s: a plain outage answer, nothing done', async () => {
    h = await startHarness({ COMMAND_DEADLINE_MS: '2000', CHAT_REPLY_WAIT_MS: '10000' });
    // First kick joins; the removal itself is throttled three times for 25 s each.
    h.graph.script('DELETE', /\/participants\//, [throttled(25), throttled(25), throttled(25)]);

    const started = Date.now();
    expect(await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory])).toBe(200);
    const answeredMs = Date.now() - started;

    expect(answeredMs).toBeLessThan(5_000);
    expect(h.lastReply()).toMatch(/nothing was done|was not removed|try again/i);
    expect(h.lastReply()).not.toMatch(/Working on it/);
    expect(h.graph.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    const [row] = h.cases();
    expect(row).toMatchObject({ status: 'completed', outcome: 'upstream_failed' });
  });

  it('a Bot Connector lookup that never answers fails within UPSTREAM_TIMEOUT_MS with a plain answer', async () => {
    h = await startHarness({ UPSTREAM_TIMEOUT_MS: '300' });
    // Member and meeting-participant lookups hang; replies still go through.
    h.connector.hang.push(/\/members\//, /^\/v1\/meetings\//);

    const started = Date.now();
    expect(await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory])).toBe(200);

    expect(Date.now() - started).toBeLessThan(3_000);
    expect(h.lastReply()).toMatch(/Teams|Microsoft/);
    expect(h.lastReply()).toMatch(/nothing was done|try again/i);
    expect(h.graph.requests.filter((r) => r.method === 'DELETE')).toHaveLength(0);
  });
});

async function waitFor<T>(read: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
