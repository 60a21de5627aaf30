/**
 * SQLite schema, applied in order; `user_version` records how far a database has come.
 * Append new steps, never edit old ones.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE bindings (
    conversation_id TEXT PRIMARY KEY,
    provider        TEXT NOT NULL,
    call_id         TEXT NOT NULL,
    state           TEXT NOT NULL,
    meeting_id      TEXT,
    join_url        TEXT,
    tenant_id       TEXT,
    service_url     TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
  );
  CREATE INDEX bindings_call_id ON bindings (call_id);

  CREATE TABLE roster (
    call_id        TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    kind           TEXT NOT NULL,
    identity_id    TEXT,
    display_name   TEXT,
    tenant_id      TEXT,
    is_in_lobby    INTEGER NOT NULL,
    PRIMARY KEY (call_id, participant_id)
  );
  CREATE INDEX roster_identity ON roster (call_id, identity_id);

  CREATE TABLE cases (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at      TEXT NOT NULL,
    completed_at    TEXT,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'completed')),
    source          TEXT NOT NULL,
    action          TEXT NOT NULL,
    request_id      TEXT NOT NULL,
    conversation_id TEXT,
    call_id         TEXT,
    actor_user_id   TEXT,
    actor_chat_id   TEXT,
    actor_name      TEXT,
    target_user_id  TEXT,
    target_chat_id  TEXT,
    target_name     TEXT,
    participant_ids TEXT NOT NULL DEFAULT '[]',
    reason          TEXT,
    outcome         TEXT,
    detail          TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX cases_conversation ON cases (conversation_id, id);
  `,
  `
  ALTER TABLE bindings ADD COLUMN call_name TEXT;
  ALTER TABLE roster ADD COLUMN label TEXT;
  ALTER TABLE roster ADD COLUMN phone_numbers TEXT NOT NULL DEFAULT '[]';
  `,
  `
  CREATE TABLE idempotency_keys (
    key             TEXT PRIMARY KEY,
    request_hash    TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    response_status INTEGER,
    response_body   TEXT,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL
  );
  CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
  `,
  `
  ALTER TABLE bindings ADD COLUMN organizer_user_id TEXT;
  `,
  // 5: bindings keep an opaque reply address instead of a Teams service URL. Existing service URLs
  // become the Teams channel's address format, {"serviceUrl":"…"}; service_url is no longer used.
  `
  ALTER TABLE bindings ADD COLUMN reply_address TEXT;
  UPDATE bindings SET reply_address = json_object('serviceUrl', service_url) WHERE service_url IS NOT NULL;
  `,
  // 6: the people an organizer named to moderate a chat's meeting.
  `
  CREATE TABLE moderators (
    conversation_id TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    display_name    TEXT,
    added_by        TEXT,
    added_at        TEXT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
  );
  `,
  // 7: a kick finds its target by index, whatever the size of the call. identity_key and label_key
  // hold the lower-cased identity id and label (written by the store with JavaScript's toLowerCase;
  // lower() here folds ASCII only, which is all ids need; a label folded differently is
  // rewritten by the call's next roster notification). Phone numbers get their own indexed table,
  // kept by the store in step with roster.phone_numbers (which keeps their order) and dropped with
  // their participant. sync_token marks the rows a roster sync has written (RosterStore.sync). The
  // name index serves paging in roster order.
  `
  ALTER TABLE roster ADD COLUMN identity_key TEXT;
  ALTER TABLE roster ADD COLUMN label_key TEXT;
  ALTER TABLE roster ADD COLUMN sync_token INTEGER;
  UPDATE roster SET identity_key = lower(identity_id), label_key = lower(label);
  DROP INDEX roster_identity;
  CREATE INDEX roster_identity_key ON roster (call_id, identity_key);
  CREATE INDEX roster_label_key ON roster (call_id, label_key);
  CREATE INDEX roster_by_name ON roster (call_id, display_name, participant_id);

  CREATE TABLE roster_phones (
    call_id        TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    phone_number   TEXT NOT NULL,
    PRIMARY KEY (call_id, phone_number, participant_id),
    FOREIGN KEY (call_id, participant_id) REFERENCES roster (call_id, participant_id) ON DELETE CASCADE
  );
  CREATE INDEX roster_phones_participant ON roster_phones (call_id, participant_id);
  INSERT OR IGNORE INTO roster_phones (call_id, participant_id, phone_number)
    SELECT roster.call_id, roster.participant_id, numbers.value
    FROM roster, json_each(CASE WHEN json_valid(roster.phone_numbers) THEN roster.phone_numbers ELSE '[]' END) AS numbers
    WHERE numbers.type = 'text';
  `,
  // 8: bans (/ban), keyed by the case that made them; ban_identities indexes them by scope and identity
  // ('user:<id>', 'phone:<E.164>', 'label:<label>'). Bindings are found by call name (Twilio's voice webhook).
  `
  CREATE TABLE bans (
    case_id         INTEGER PRIMARY KEY,
    scope           TEXT NOT NULL,
    identities      TEXT NOT NULL,
    target_name     TEXT,
    reason          TEXT,
    created_by      TEXT,
    created_by_name TEXT,
    created_at      TEXT NOT NULL,
    expires_at      TEXT,
    lifted_at       TEXT,
    lifted_by       TEXT,
    lift_case_id    INTEGER
  );
  CREATE INDEX bans_scope ON bans (scope, created_at);
  CREATE TABLE ban_identities (
    case_id  INTEGER NOT NULL REFERENCES bans (case_id) ON DELETE CASCADE,
    scope    TEXT NOT NULL,
    identity TEXT NOT NULL,
    PRIMARY KEY (case_id, identity)
  );
  CREATE INDEX ban_identities_lookup ON ban_identities (scope, identity);
  CREATE INDEX bindings_call_name ON bindings (provider, call_name);
  `,
  // 9: the mod-log channels (/modlog here), the history of case reasons (/reason), and cases found
  // by whom they were against (/cases @person): by target user id (kept lower case) or chat id.
  `
  CREATE TABLE modlog_channels (
    conversation_id TEXT PRIMARY KEY,
    reply_address   TEXT NOT NULL,
    tenant_id       TEXT,
    added_by        TEXT,
    added_at        TEXT NOT NULL
  );
  CREATE TABLE case_reason_edits (
    case_id        INTEGER NOT NULL REFERENCES cases (id),
    seq            INTEGER NOT NULL,
    previous       TEXT,
    reason         TEXT NOT NULL,
    edited_at      TEXT NOT NULL,
    edited_by      TEXT,
    edited_by_name TEXT,
    edit_case_id   INTEGER NOT NULL,
    PRIMARY KEY (case_id, seq)
  );
  UPDATE cases SET target_user_id = lower(target_user_id) WHERE target_user_id <> lower(target_user_id);
  CREATE INDEX cases_target_user ON cases (target_user_id, id);
  CREATE INDEX cases_target_chat ON cases (target_chat_id, id);
  `,
  // 10: the state each call's backend last notified, moving forward only (establishing, established,
  // terminated), even for a call no chat is bound to yet: a binding saved after its call's
  // `established` notification was handled (on this or another instance) starts from it.
  `
  CREATE TABLE call_states (
    call_id    TEXT PRIMARY KEY,
    state      TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  `,
  // 11: lockdowns (/lockdown), one row per call as it lasts (a meeting's join link, a conference's name)
  // while its lockdown is on, with the meeting options it changed (saved, JSON) to restore.
  `
  CREATE TABLE lockdowns (
    provider          TEXT NOT NULL,
    call_key          TEXT NOT NULL,
    call_id           TEXT NOT NULL,
    conversation_id   TEXT,
    case_id           INTEGER NOT NULL,
    source            TEXT NOT NULL,
    chat              INTEGER NOT NULL,
    mute              INTEGER NOT NULL,
    meeting_organizer TEXT,
    meeting_id        TEXT,
    saved             TEXT,
    started_at        TEXT NOT NULL,
    started_by        TEXT,
    PRIMARY KEY (provider, call_key)
  );
  `,
  // 12: the call states pruneCallStates forgets are found by when they were last updated.
  `
  CREATE INDEX call_states_updated ON call_states (updated_at);
  `,
];
