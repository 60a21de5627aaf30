import type { CallBinding, CallState } from '../../app/domain/participant.js';
import type { BindingStore } from '../../app/ports/store.js';
import { callState, callStateRank, furthestCallState, parseRow } from '../row-schemas.js';
import { BINDING_COLUMNS as COLUMNS, toBinding } from '../rows/bindings.js';
import type { Database } from './database.js';

/** Which call each chat is bound to: the `bindings` table. */
export class PostgresBindingStore implements BindingStore {
  private readonly sql: {
    byConversation: string;
    latestByCall: string;
    allByCall: string;
    allByName: string;
    live: string;
    upsert: string;
    updateState: string;
    recordCallState: string;
    lockCallState: string;
    boundState: string;
    dropRoster: string;
    pruneStates: string;
  };

  constructor(private readonly db: Database) {
    const { bindings, roster, callStates } = db.tables;
    this.sql = {
      byConversation: `SELECT ${COLUMNS} FROM ${bindings} WHERE conversation_id = $1`,
      latestByCall: `SELECT ${COLUMNS} FROM ${bindings} WHERE call_id = $1 ORDER BY updated_at DESC LIMIT 1`,
      allByCall: `SELECT ${COLUMNS} FROM ${bindings} WHERE call_id = $1 ORDER BY updated_at DESC, conversation_id`,
      allByName: `SELECT ${COLUMNS} FROM ${bindings} WHERE provider = $1 AND call_name = $2 ORDER BY updated_at DESC, conversation_id`,
      live: `SELECT ${COLUMNS} FROM ${bindings} WHERE state <> 'terminated' ORDER BY updated_at DESC, conversation_id LIMIT $1`,
      upsert: `INSERT INTO ${bindings} AS b (conversation_id, provider, call_id, call_name, organizer_user_id, state, meeting_id,
           join_url, tenant_id, reply_address, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (conversation_id) DO UPDATE SET provider = excluded.provider, call_id = excluded.call_id,
           call_name = excluded.call_name, organizer_user_id = excluded.organizer_user_id, state = excluded.state,
           meeting_id = excluded.meeting_id, join_url = excluded.join_url, tenant_id = excluded.tenant_id,
           reply_address = excluded.reply_address, created_at = excluded.created_at, updated_at = excluded.updated_at`,
      // Every binding of the call gets the state, forward only (a late or repeated notification never
      // takes one back); the one returned is the most recently updated before this update (the
      // CTEs' SELECTs see the rows as they were), as it is now.
      updateState: `WITH latest AS (
           SELECT conversation_id FROM ${bindings} WHERE call_id = $1 ORDER BY updated_at DESC LIMIT 1
         ), updated AS (
           UPDATE ${bindings} SET state = $2, updated_at = $3
           WHERE call_id = $1 AND ${callStateRank('state')} <= ${callStateRank('$2')} RETURNING ${COLUMNS}
         )
         SELECT ${COLUMNS} FROM updated WHERE conversation_id IN (SELECT conversation_id FROM latest)
         UNION ALL
         SELECT ${COLUMNS} FROM ${bindings} WHERE conversation_id IN (SELECT conversation_id FROM latest)
           AND conversation_id NOT IN (SELECT conversation_id FROM updated)`,
      // The call's row is locked by both this and lockCallState: a notification and a binding's save
      // take turns, so the save reads the state a concurrent notification recorded (see save).
      recordCallState: `INSERT INTO ${callStates} AS c (call_id, state, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (call_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
         WHERE ${callStateRank('c.state')} <= ${callStateRank('excluded.state')}`,
      lockCallState: `INSERT INTO ${callStates} AS c (call_id, state, updated_at) VALUES ($1, 'establishing', $2)
         ON CONFLICT (call_id) DO UPDATE SET state = c.state RETURNING state`,
      boundState: `SELECT state FROM ${bindings} WHERE conversation_id = $1 AND call_id = $2`,
      dropRoster: `DELETE FROM ${roster} WHERE call_id = $1`,
      // A range of the updated_at index (migration 8), skipping the calls a live binding holds and
      // the rows a notification or a save holds now (SKIP LOCKED: they are being touched, so kept).
      pruneStates: `DELETE FROM ${callStates} WHERE call_id IN (
           SELECT c.call_id FROM ${callStates} c
           WHERE c.updated_at < $1 AND (c.updated_at < $3 OR (c.state = 'terminated' AND c.updated_at < $2))
             AND NOT EXISTS (SELECT 1 FROM ${bindings} b WHERE b.call_id = c.call_id AND b.state <> 'terminated')
           LIMIT $4 FOR UPDATE OF c SKIP LOCKED)`,
    };
  }

  async get(conversationId: string): Promise<CallBinding | undefined> {
    const rows = await this.db.read('read a binding', this.sql.byConversation, [conversationId]);
    return toBinding(rows[0]);
  }

  async findByCallId(callId: string): Promise<CallBinding | undefined> {
    const rows = await this.db.read('find a binding by call', this.sql.latestByCall, [callId]);
    return toBinding(rows[0]);
  }

  async listByCallId(callId: string): Promise<CallBinding[]> {
    const rows = await this.db.read('list bindings by call', this.sql.allByCall, [callId]);
    return rows.map((row) => toBinding(row)!);
  }

  async listByCallName(provider: string, callName: string): Promise<CallBinding[]> {
    const rows = await this.db.read('list bindings by call name', this.sql.allByName, [provider, callName]);
    return rows.map((row) => toBinding(row)!);
  }

  async listLive(limit: number): Promise<CallBinding[]> {
    const rows = await this.db.read('list live bindings', this.sql.live, [limit]);
    return rows.map((row) => toBinding(row)!);
  }

  /**
   * A binding saved as `establishing` starts from what its call's backend already notified (the
   * `established` notification may be handled, here or on another instance, before the join's
   * binding is saved), and never takes back the state the chat's binding to the same call has.
   */
  async save(b: CallBinding): Promise<void> {
    const params = (state: CallState) => [
      b.conversationId,
      b.provider,
      b.callId,
      b.callName ?? null,
      b.organizerUserId ?? null,
      state,
      b.meetingId ?? null,
      b.joinUrl ?? null,
      b.tenantId ?? null,
      b.replyAddress ?? null,
      b.createdAt,
      b.updatedAt,
    ];
    if (b.state !== 'establishing') {
      await this.db.write('save a binding', this.sql.upsert, params(b.state));
      return;
    }
    await this.db.transaction('save a binding', async (tx) => {
      // Waits for a notification of this call being recorded (READ COMMITTED: its row is then read as committed).
      const known = await tx.query<{ state: unknown }>(this.sql.lockCallState, [b.callId, b.updatedAt]);
      const bound = await tx.query<{ state: unknown }>(this.sql.boundState, [b.conversationId, b.callId]);
      const state = furthestCallState(b.state, stateOf(known.rows[0]), stateOf(bound.rows[0]));
      await tx.query(this.sql.upsert, params(state));
    });
  }

  async setCallState(callId: string, state: CallState, at: string): Promise<CallBinding | undefined> {
    // One transaction: the row is parsed before the commit, and a terminated call's roster goes
    // with the state change (even when no chat is bound to the call).
    return this.db.transaction('set a call state', async (tx) => {
      await tx.query(this.sql.recordCallState, [callId, state, at]);
      const { rows } = await tx.query(this.sql.updateState, [callId, state, at]);
      const latest = toBinding(rows[0]);
      if (state === 'terminated') await tx.query(this.sql.dropRoster, [callId]);
      return latest;
    });
  }

  async pruneCallStates(endedBefore: string, idleBefore: string): Promise<number> {
    const upper = endedBefore > idleBefore ? endedBefore : idleBefore;
    let pruned = 0;
    for (;;) {
      const { rowCount } = await this.db.write('prune call states', this.sql.pruneStates, [upper, endedBefore, idleBefore, PRUNE_BATCH]);
      pruned += rowCount ?? 0;
      if ((rowCount ?? 0) < PRUNE_BATCH) return pruned;
    }
  }
}

/** Call states deleted per statement by pruneCallStates (each statement a short transaction). */
const PRUNE_BATCH = 500;

const stateOf = (row: { state: unknown } | undefined): CallState | undefined => (row === undefined ? undefined : parseRow(callState, row.state, 'call state'));
