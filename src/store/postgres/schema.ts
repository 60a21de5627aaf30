/**
 * PostgreSQL schema, applied in order inside the store's schema (search_path is set to it);
 * `schema_migrations` records each version applied. Append new steps, never edit old ones.
 *
 * Times are kept as the ISO text the app writes (as in SQLite), so they read back unchanged; the
 * columns that are compared or sorted are COLLATE "C", byte order, as SQLite compares text.
 * JSON lists and details are jsonb; a stored webhook response is json, which keeps its text.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE bindings (
    conversation_id   text COLLATE "C" PRIMARY KEY,
    provider          text NOT NULL,
    call_id           text COLLATE "C" NOT NULL,
    call_name         text,
    organizer_user_id text,
    state             text NOT NULL,
    meeting_id        text,
    join_url          text,
    tenant_id         text,
    reply_address     text,
    created_at        text NOT NULL,
    updated_at        text COLLATE "C" NOT NULL
  );
  CREATE INDEX bindings_call_id ON bindings (call_id, updated_at);

  CREATE TABLE roster (
    call_id        text COLLATE "C" NOT NULL,
    participant_id text COLLATE "C" NOT NULL,
    kind           text NOT NULL,
    identity_id    text,
    display_name   text COLLATE "C",
    tenant_id      text,
    is_in_lobby    boolean NOT NULL,
    label          text,
    phone_numbers  jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (call_id, participant_id)
  );
  CREATE INDEX roster_identity ON roster (call_id, identity_id);

  -- Case numbers come from the identity's sequence: unique across every instance on the database.
  CREATE TABLE cases (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at      text COLLATE "C" NOT NULL,
    completed_at    text,
    status          text NOT NULL CHECK (status IN ('pending', 'completed')),
    source          text NOT NULL,
    action          text NOT NULL,
    request_id      text NOT NULL,
    conversation_id text COLLATE "C",
    call_id         text,
    actor_user_id   text,
    actor_chat_id   text,
    actor_name      text,
    target_user_id  text,
    target_chat_id  text,
    target_name     text,
    participant_ids jsonb NOT NULL DEFAULT '[]',
    reason          text,
    outcome         text,
    detail          jsonb NOT NULL DEFAULT '{}'
  );
  CREATE INDEX cases_conversation ON cases (conversation_id, id);
  CREATE INDEX cases_pending ON cases (id) WHERE status = 'pending';

  CREATE TABLE idempotency_keys (
    key             text COLLATE "C" PRIMARY KEY,
    request_hash    text NOT NULL,
    state           text NOT NULL CHECK (state IN ('pending', 'done')),
    response_status integer,
    response_body   json,
    created_at      text NOT NULL,
    expires_at      text COLLATE "C" NOT NULL
  );
  CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

  -- RFC 7396 JSON merge patch, as SQLite's json_patch: a case's detail is completed with it.
  CREATE FUNCTION json_merge_patch(target jsonb, patch jsonb) RETURNS jsonb
  LANGUAGE plpgsql IMMUTABLE SET search_path FROM CURRENT AS $$
  DECLARE
    merged jsonb;
    k text;
    v jsonb;
  BEGIN
    IF patch IS NULL OR jsonb_typeof(patch) <> 'object' THEN
      RETURN patch;
    END IF;
    merged := CASE WHEN jsonb_typeof(target) = 'object' THEN target ELSE '{}'::jsonb END;
    FOR k, v IN SELECT * FROM jsonb_each(patch) LOOP
      IF jsonb_typeof(v) = 'null' THEN
        merged := merged - k;
      ELSE
        merged := jsonb_set(merged, ARRAY[k], json_merge_patch(merged -> k, v));
      END IF;
    END LOOP;
    RETURN merged;
  END
  $$;
  `,
  // 2: the people an organizer named to moderate a chat's meeting (SQLite's migration 6).
  `
  CREATE TABLE moderators (
    conversation_id text COLLATE "C" NOT NULL,
    user_id         text COLLATE "C" NOT NULL,
    display_name    text,
    added_by        text,
    added_at        text COLLATE "C" NOT NULL,
    -- The order rows were named in, for equal times (SQLite's rowid).
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (conversation_id, user_id)
  );
  `,
  // 3: a kick finds its target by index, whatever the size of the call (SQLite's migration 7).
  // identity_key and label_key hold the lower-cased identity id and label, written by the store
  // with JavaScript's toLowerCase (lower() here is only for rows already there; the call's next
  // roster notification rewrites them). Phone numbers are found through a GIN index on the jsonb
  // list (containment, @>). The name index serves paging in roster order.
  `
  ALTER TABLE roster ADD COLUMN identity_key text COLLATE "C";
  ALTER TABLE roster ADD COLUMN label_key text COLLATE "C";
  UPDATE roster SET identity_key = lower(identity_id), label_key = lower(label);
  DROP INDEX roster_identity;
  CREATE INDEX roster_identity_key ON roster (call_id, identity_key);
  CREATE INDEX roster_label_key ON roster (call_id, label_key);
  CREATE INDEX roster_by_name ON roster (call_id, display_name NULLS FIRST, participant_id);
  CREATE INDEX roster_phone_numbers ON roster USING gin (phone_numbers jsonb_path_ops);
  `,
  // 4: bans (/ban), keyed by the case that made them; ban_identities indexes them by scope and identity
  // ('user:<id>', 'phone:<E.164>', 'label:<label>'). Bindings are found by call name (SQLite's migration 8).
  `
  CREATE TABLE bans (
    case_id         bigint PRIMARY KEY,
    scope           text COLLATE "C" NOT NULL,
    identities      jsonb NOT NULL,
    target_name     text,
    reason          text,
    created_by      text,
    created_by_name text,
    created_at      text COLLATE "C" NOT NULL,
    expires_at      text COLLATE "C",
    lifted_at       text,
    lifted_by       text,
    lift_case_id    bigint
  );
  CREATE INDEX bans_scope ON bans (scope, created_at);
  CREATE TABLE ban_identities (
    case_id  bigint NOT NULL REFERENCES bans (case_id) ON DELETE CASCADE,
    scope    text COLLATE "C" NOT NULL,
    identity text COLLATE "C" NOT NULL,
    PRIMARY KEY (case_id, identity)
  );
  CREATE INDEX ban_identities_lookup ON ban_identities (scope, identity);
  CREATE INDEX bindings_call_name ON bindings (provider, call_name);
  `,
  // 5: the mod-log channels (/modlog here), the history of case reasons (/reason), and cases found
  // by whom they were against (/cases @person): by target user id (kept lower case) or chat id
  // (SQLite's migration 9).
  `
  CREATE TABLE modlog_channels (
    conversation_id text COLLATE "C" PRIMARY KEY,
    reply_address   text NOT NULL,
    tenant_id       text,
    added_by        text,
    added_at        text NOT NULL,
    seq             bigint GENERATED ALWAYS AS IDENTITY
  );
  CREATE TABLE case_reason_edits (
    case_id        bigint NOT NULL REFERENCES cases (id),
    seq            integer NOT NULL,
    previous       text,
    reason         text NOT NULL,
    edited_at      text NOT NULL,
    edited_by      text,
    edited_by_name text,
    edit_case_id   bigint NOT NULL,
    PRIMARY KEY (case_id, seq)
  );
  UPDATE cases SET target_user_id = lower(target_user_id) WHERE target_user_id <> lower(target_user_id);
  CREATE INDEX cases_target_user ON cases (target_user_id, id);
  CREATE INDEX cases_target_chat ON cases (target_chat_id, id);
  `,
  // 6: the state each call's backend last notified, moving forward only (SQLite's migration 10): a
  // binding saved after its call's `established` notification was handled starts from it.
  `
  CREATE TABLE call_states (
    call_id    text COLLATE "C" PRIMARY KEY,
    state      text NOT NULL,
    updated_at text NOT NULL
  );
  `,
  // 7: lockdowns (/lockdown), one row per call as it lasts (SQLite's migration 11).
  `
  CREATE TABLE lockdowns (
    provider          text COLLATE "C" NOT NULL,
    call_key          text COLLATE "C" NOT NULL,
    call_id           text NOT NULL,
    conversation_id   text,
    case_id           bigint NOT NULL,
    source            text NOT NULL,
    chat              boolean NOT NULL,
    mute              boolean NOT NULL,
    meeting_organizer text,
    meeting_id        text,
    saved             jsonb,
    started_at        text NOT NULL,
    started_by        text,
    PRIMARY KEY (provider, call_key)
  );
  `,
  // 8: the call states pruneCallStates forgets are found by when they were last updated (SQLite's migration 12).
  `
  CREATE INDEX call_states_updated ON call_states (updated_at);
  `,
];
