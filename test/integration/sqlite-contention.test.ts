import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MEETING_CHAT_ID, PEOPLE, startHarness, type Harness } from '../support/harness.js';
import { signedHeaders } from '../support/webhooks.js';
import { whenUnlocked } from '../support/when-unlocked.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

/** Issue 11 item 11: while another connection holds the write lock, requests fail fast and retryably, never stall. */
describe('SQLite write contention', () => {
  let h: Harness;
  let other: Database.Database | undefined;
  beforeEach(async () => {
    h = await startHarness({ WEBHOOK_SECRETS: SECRET });
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
  });
  afterEach(async () => {
    if (other?.inTransaction) other.exec('ROLLBACK');
    other?.close();
    await h.close();
  });

  /** Takes the write lock from another connection, on a turn when Bouncer holds none (its writes of a turn share one transaction). */
  async function lock(): Promise<void> {
    other = new Database(h.dbFile, { timeout: 0 });
    await whenUnlocked(() => other!.exec('BEGIN IMMEDIATE'));
  }
  const deletes = () => h.graph.requests.filter((r) => r.method === 'DELETE');

  it('a chat /kick answers at once, plainly, and removes nobody; after the lock it works', async () => {
    await lock();
    const started = Date.now();
    expect(await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory])).toBe(200);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(h.lastReply()).toMatch(/busy.*nothing was done.*try again/i);
    expect(deletes()).toHaveLength(0);

    other!.exec('ROLLBACK');
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toMatch(/^Removed \*\*Mallory\*\* from the call\. Case #\d+\.$/);
  });

  it('a webhook kick gets 503 problem+json, retryable, without internal text', async () => {
    await lock();
    const raw = JSON.stringify({ call: { conversationId: MEETING_CHAT_ID }, target: { userId: PEOPLE.mallory.aadObjectId }, actor: 'classifier' });
    const started = Date.now();
    const res = await fetch(`${h.bouncer.url}/api/moderation/kick`, { method: 'POST', headers: signedHeaders(SECRET, raw), body: raw });
    const text = await res.text();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(JSON.parse(text)).toMatchObject({ status: 503, retryable: true });
    expect(text).not.toMatch(/sqlite|locked|busy \(/i);
    expect(deletes()).toHaveLength(0);
  });
});
