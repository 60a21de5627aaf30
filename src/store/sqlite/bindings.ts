import type Database from 'better-sqlite3';
import type { CallBinding, CallState } from '../../app/domain/participant.js';
import type { BindingStore } from '../../app/ports/store.js';
import { callState, callStateRank, furthestCallState, parseRow } from '../row-schemas.js';
import { BINDING_COLUMNS as COLUMNS, toBinding } from '../rows/bindings.js';
import { WriteGuard } from './write-guard.js';

/**
 * pruneCallStates' statement, one batch: a range of the updated_at index (migration 12), skipping
 * the calls a live binding holds (the bindings' call_id index). Exported for the query-plan test.
 */
export const PRUNE_CALL_STATES = `DELETE FROM call_states WHERE call_id IN (
  SELECT c.call_id FROM call_states c
  WHERE c.updated_at < @upper AND (c.updated_at < @idle OR (c.state = 'terminated' AND c.updated_at < @ended))
    AND NOT EXISTS (SELECT 1 FROM bindings b WHERE b.call_id = c.call_id AND b.state <> 'terminated')
  LIMIT @limit)`;

/** Which call each chat is bound to: the `bindings` table. */
export class SqliteBindingStore implements BindingStore {
  private readonly byConversation: Database.Statement<[string]>;
  private readonly latestByCall: Database.Statement<[string]>;
  private readonly allByCall: Database.Statement<[string]>;
  private readonly allByName: Database.Statement<[string, string]>;
  private readonly live: Database.Statement<[number]>;
  private readonly upsert: Database.Statement<[Record<string, string | null>]>;
  private readonly updateState: Database.Statement<[string, string, string, string]>;
  private readonly recordCallState: Database.Statement<[string, string, string]>;
  private readonly knownCallState: Database.Statement<[string]>;
  private readonly boundState: Database.Statement<[string, string]>;
  private readonly dropRoster: Database.Statement<[string]>;
  private readonly pruneStates: Database.Statement<[{ upper: string; ended: string; idle: string; limit: number }]>;
  // Transactions made once: better-sqlite3 builds a wrapper for each db.transaction().
  private readonly saveTx: (b: CallBinding) => void;
  private readonly setCallStateTx: (callId: string, state: CallState, at: string) => CallBinding | undefined;

  constructor(
    db: Database.Database,
    private readonly guard: WriteGuard = new WriteGuard(),
  ) {
    this.byConversation = db.prepare(`SELECT ${COLUMNS} FROM bindings WHERE conversation_id = ?`);
    this.latestByCall = db.prepare(`SELECT ${COLUMNS} FROM bindings WHERE call_id = ? ORDER BY updated_at DESC LIMIT 1`);
    this.allByCall = db.prepare(`SELECT ${COLUMNS} FROM bindings WHERE call_id = ? ORDER BY updated_at DESC, conversation_id`);
    this.allByName = db.prepare(`SELECT ${COLUMNS} FROM bindings WHERE provider = ? AND call_name = ? ORDER BY updated_at DESC, conversation_id`);
    this.live = db.prepare(`SELECT ${COLUMNS} FROM bindings WHERE state <> 'terminated' ORDER BY updated_at DESC, conversation_id LIMIT ?`);
    this.upsert = db.prepare(
      `INSERT INTO bindings (conversation_id, provider, call_id, call_name, organizer_user_id, state, meeting_id, join_url, tenant_id, reply_address, created_at, updated_at)
       VALUES (@conversationId, @provider, @callId, @callName, @organizerUserId, @state, @meetingId, @joinUrl, @tenantId, @replyAddress, @createdAt, @updatedAt)
       ON CONFLICT (conversation_id) DO UPDATE SET provider = excluded.provider, call_id = excluded.call_id,
         call_name = excluded.call_name, organizer_user_id = excluded.organizer_user_id, state = excluded.state,
         meeting_id = excluded.meeting_id, join_url = excluded.join_url, tenant_id = excluded.tenant_id,
         reply_address = excluded.reply_address, created_at = excluded.created_at, updated_at = excluded.updated_at`,
    );
    // Forward only: a late or repeated notification never takes a binding back (see callStateRank).
    this.updateState = db.prepare(`UPDATE bindings SET state = ?, updated_at = ? WHERE call_id = ? AND ${callStateRank('state')} <= ${callStateRank('?')}`);
    this.recordCallState = db.prepare(
      `INSERT INTO call_states (call_id, state, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (call_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
       WHERE ${callStateRank('call_states.state')} <= ${callStateRank('excluded.state')}`,
    );
    this.knownCallState = db.prepare('SELECT state FROM call_states WHERE call_id = ?');
    this.boundState = db.prepare('SELECT state FROM bindings WHERE conversation_id = ? AND call_id = ?');
    this.dropRoster = db.prepare('DELETE FROM roster WHERE call_id = ?');
    this.pruneStates = db.prepare(PRUNE_CALL_STATES);
    this.saveTx = db.transaction((b: CallBinding) => {
      this.upsert.run({
        conversationId: b.conversationId,
        provider: b.provider,
        callId: b.callId,
        callName: b.callName ?? null,
        organizerUserId: b.organizerUserId ?? null,
        state: b.state === 'establishing' ? this.stateKnownFor(b) : b.state,
        meetingId: b.meetingId ?? null,
        joinUrl: b.joinUrl ?? null,
        tenantId: b.tenantId ?? null,
        replyAddress: b.replyAddress ?? null,
        createdAt: b.createdAt,
        updatedAt: b.updatedAt,
      });
    });
    this.setCallStateTx = db.transaction((callId: string, state: CallState, at: string): CallBinding | undefined => {
      // The binding to return is the most recently updated one before this update gives them all `at`.
      const latest = toBinding(this.latestByCall.get(callId));
      this.recordCallState.run(callId, state, at);
      this.updateState.run(state, at, callId, state);
      // A terminated call's roster goes even when no chat is bound to the call.
      if (state === 'terminated') this.dropRoster.run(callId);
      return latest && toBinding(this.byConversation.get(latest.conversationId));
    });
  }

  async get(conversationId: string): Promise<CallBinding | undefined> {
    return toBinding(this.byConversation.get(conversationId));
  }

  async findByCallId(callId: string): Promise<CallBinding | undefined> {
    return toBinding(this.latestByCall.get(callId));
  }

  async listByCallId(callId: string): Promise<CallBinding[]> {
    return this.allByCall.all(callId).map((row) => toBinding(row)!);
  }

  async listByCallName(provider: string, callName: string): Promise<CallBinding[]> {
    return this.allByName.all(provider, callName).map((row) => toBinding(row)!);
  }

  async listLive(limit: number): Promise<CallBinding[]> {
    return this.live.all(limit).map((row) => toBinding(row)!);
  }

  async save(b: CallBinding): Promise<void> {
    await this.guard.run('save a binding', () => this.saveTx(b));
  }

  /**
   * A binding saved as `establishing` starts from what its call's backend already notified (the
   * `established` notification may be handled before the join's binding is saved), and never takes
   * back the state the chat's binding to the same call has.
   */
  private stateKnownFor(b: CallBinding): CallState {
    const known = this.knownCallState.get(b.callId) as { state: unknown } | undefined;
    const bound = this.boundState.get(b.conversationId, b.callId) as { state: unknown } | undefined;
    return furthestCallState(b.state, stateOf(known), stateOf(bound));
  }

  async setCallState(callId: string, state: CallState, at: string): Promise<CallBinding | undefined> {
    return this.guard.run('set a call state', () => this.setCallStateTx(callId, state, at));
  }

  async pruneCallStates(endedBefore: string, idleBefore: string): Promise<number> {
    const bounds = { upper: endedBefore > idleBefore ? endedBefore : idleBefore, ended: endedBefore, idle: idleBefore, limit: PRUNE_BATCH };
    let pruned = 0;
    for (;;) {
      const changed = await this.guard.changes('prune call states', () => this.pruneStates.run(bounds).changes);
      pruned += changed;
      if (changed < PRUNE_BATCH) return pruned;
      // Each batch holds the write lock (and this process) briefly; others write between them.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

/** Call states deleted per statement by pruneCallStates. */
const PRUNE_BATCH = 500;

const stateOf = (row: { state: unknown } | undefined): CallState | undefined => (row === undefined ? undefined : parseRow(callState, row.state, 'call state'));
