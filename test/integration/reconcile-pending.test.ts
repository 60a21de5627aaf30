import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logger.js';
import { startBouncer, type RunningBouncer } from '../../src/main.js';
import { freePort } from '../support/ports.js';
import { APP_ID, APP_PASSWORD, PEOPLE, TENANT_ID, startHarness, type Harness } from '../support/harness.js';

/** Issue 11 item 6: a removal cut off mid-way is completed at the next start, and its webhook key released. */
describe('reconciling pending cases at start', () => {
  let h: Harness | undefined;
  let restarted: RunningBouncer | undefined;
  afterEach(async () => {
    await restarted?.close();
    await h?.close();
  });

  /** Restarts Bouncer on the same database, `laterMs` after now by its clock. */
  async function restart(harness: Harness, laterMs = 0): Promise<RunningBouncer> {
    await harness.bouncer.close();
    const port = await freePort();
    const result = loadConfig({
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      MicrosoftAppId: APP_ID,
      MicrosoftAppPassword: APP_PASSWORD,
      MicrosoftAppType: 'MultiTenant',
      ToBotFromChannelOpenIdMetadataUrl: harness.botIssuer.openIdMetadataUrl,
      ToChannelFromBotLoginUrl: `${harness.tokens.url}/botframework.com`,
      GRAPH_TENANT_ID: TENANT_ID,
      GRAPH_BASE_URL: harness.graph.url,
      AZURE_AUTHORITY_HOST: harness.tokens.url,
      CALLS_OPENID_METADATA_URL: harness.callsIssuer.openIdMetadataUrl,
      DATABASE_URL: `sqlite:${harness.dbFile}`,
    });
    if (!result.ok) throw new Error(result.problems.join('; '));
    const sink = new Writable({ write: (_c, _e, done) => done() });
    return startBouncer(result.config, { logger: createLogger('silent', sink), clock: { now: () => new Date(Date.now() + laterMs) } });
  }

  async function until(check: () => boolean): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }

  it('a removal whose case stayed pending becomes removed; a cut-off webhook kick of someone still there becomes interrupted and its key is released', async () => {
    h = await startHarness();
    // A kick whose case cannot be completed: Mallory is removed, the case stays pending (as after a kill -9).
    await h.writeDb(`CREATE TRIGGER fail_case_close BEFORE UPDATE ON cases BEGIN SELECT RAISE(FAIL, 'disk full'); END;`);
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    await h.writeDb('DROP TRIGGER fail_case_close');
    const [callId] = h.graph.callIds;
    const annId = [...h.graph.call(callId!)!.participants.values()].find(
      (p) => (p.info as { identity: { user?: { id: string } } }).identity.user?.id === PEOPLE.ann.aadObjectId,
    )!.id;
    // A webhook kick of Ann cut off before its DELETE: a pending case and a pending idempotency key.
    await h.writeDb((db) => {
      db.prepare(
        `INSERT INTO cases (created_at, status, source, action, request_id, call_id, participant_ids, detail)
         VALUES (?, 'pending', 'webhook', 'kick', 'msg_cut_off', ?, ?, '{}')`,
      ).run(new Date(Date.now() - 60_000).toISOString(), callId, JSON.stringify([annId]));
      db.prepare(`INSERT INTO idempotency_keys (key, request_hash, state, created_at, expires_at) VALUES ('webhook-id:msg_cut_off', 'h', 'pending', ?, ?)`).run(
        new Date().toISOString(),
        new Date(Date.now() + 86_400_000).toISOString(),
      );
    });
    expect(h.cases().map((c) => c.status)).toEqual(['pending', 'pending']);

    // Restarted two minutes later: no request can still be running for these cases (COMMAND_DEADLINE_MS is 60 s).
    restarted = await restart(h, 2 * 60_000);
    await until(() => h!.cases().every((c) => c.status === 'completed'));

    expect(h.cases()).toMatchObject([
      { id: 1, status: 'completed', outcome: 'removed' },
      { id: 2, status: 'completed', outcome: 'interrupted' },
    ]);
    const check = new Database(h.dbFile, { readonly: true });
    expect(check.prepare(`SELECT count(*) AS n FROM idempotency_keys WHERE key = 'webhook-id:msg_cut_off'`).get()).toEqual({ n: 0 });
    check.close();
  });

  it('a case younger than a request can run is left alone at start: another instance may still be working on it', async () => {
    h = await startHarness();
    await h.writeDb((db) => {
        db.prepare(
          `INSERT INTO cases (created_at, status, source, action, request_id, call_id, participant_ids, detail)
           VALUES (?, 'pending', 'webhook', 'kick', 'msg_in_flight', 'call-x', '["p-1"]', '{}')`,
        ).run(new Date(Date.now() - 5_000).toISOString());
    });

    restarted = await restart(h);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(h.cases()).toMatchObject([{ status: 'pending', request_id: 'msg_in_flight' }]);
  });

  it('a cut-off entry of a bulk webhook kick (answered 202) gives up the keys its case names, the entry\'s own (issue 12)', async () => {
    h = await startHarness();
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
    const [callId] = h.graph.callIds;
    const annId = [...h.graph.call(callId!)!.participants.values()].find(
      (p) => (p.info as { identity: { user?: { id: string } } }).identity.user?.id === PEOPLE.ann.aadObjectId,
    )!.id;
    const keys = ['webhook-id:msg_bulk#1', 'idempotency-key:job-1#1'];
    await h.writeDb((db) => {
      db.prepare(
        `INSERT INTO cases (created_at, status, source, action, request_id, call_id, participant_ids, detail)
         VALUES (?, 'pending', 'webhook', 'kick', 'job-1#1', ?, ?, ?)`,
      ).run(new Date(Date.now() - 60_000).toISOString(), callId, JSON.stringify([annId]), JSON.stringify({ idempotencyKeys: keys }));
      // The message's keys, pending while an entry is not final, bind the webhook-id to its body; a retry goes past them.
      const messageKeys = ['webhook-id:msg_bulk', 'idempotency-key:job-1'];
      const claim = db.prepare(
        `INSERT INTO idempotency_keys (key, request_hash, state, response_status, response_body, created_at, expires_at) VALUES (?, 'h', 'pending', ?, ?, ?, ?)`,
      );
      const later = new Date(Date.now() + 86_400_000).toISOString();
      // The entry's keys hold the 202 it was answered; the message's are pending.
      claim.run(keys[0], 202, '{"caseId":2,"status":"pending"}', new Date().toISOString(), later);
      claim.run(keys[1], 202, '{"caseId":2,"status":"pending"}', new Date().toISOString(), later);
      for (const key of messageKeys) claim.run(key, null, null, new Date().toISOString(), later);
      // Someone else's finished message stays.
      db.prepare(`INSERT INTO idempotency_keys (key, request_hash, state, response_status, response_body, created_at, expires_at) VALUES ('webhook-id:other', 'h', 'done', 200, '{}', ?, ?)`).run(
        new Date().toISOString(),
        later,
      );
    });

    // Restarted two minutes later: no request can still be running for it (COMMAND_DEADLINE_MS is 60 s).
    restarted = await restart(h, 2 * 60_000);
    await until(() => h!.cases().every((c) => c.status === 'completed'));

    expect(h.cases().at(-1)).toMatchObject({ status: 'completed', outcome: 'interrupted' });
    const check = new Database(h.dbFile, { readonly: true });
    expect(check.prepare(`SELECT key FROM idempotency_keys WHERE key NOT LIKE 'activity:%' AND key NOT LIKE 'reconcile:%' ORDER BY key`).all()).toEqual([
      { key: 'idempotency-key:job-1' },
      { key: 'webhook-id:msg_bulk' },
      { key: 'webhook-id:other' },
    ]);
    check.close();
  });
});
