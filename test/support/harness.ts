import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logger.js';
import type { Clock } from '../../src/app/ports/runtime.js';
import { startBouncer, type RunningBouncer, type StartOptions } from '../../src/main.js';
import type { SandboxConnector } from '../../tools/sandbox/protocol/connector-server.js';
import type { SandboxGraph } from '../../tools/sandbox/protocol/graph-server.js';
import type { SandboxTwilio } from '../../tools/sandbox/protocol/twilio-server.js';
import twilio from 'twilio';
import type { JwtIssuer } from '../../tools/sandbox/protocol/jwt-issuer.js';
import { contractFile, OpenApiContract } from './protocol/openapi-contract.js';
import type { TokenServer } from '../../tools/sandbox/protocol/token-server.js';
import { startWorld } from '../../tools/sandbox/world.js';
import { testTls } from './global-setup.js';
import { freePort } from './ports.js';
import { whenUnlocked } from './when-unlocked.js';

export const APP_ID = '2891555a-92ff-42e6-80fa-6e1300c6b5c6';
export const APP_PASSWORD = 'test-app-password-not-a-secret';
export const TENANT_ID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const BOT_CHAT_ID = `28:${APP_ID}`;
export const MEETING_ID = 'MCMxOTptZWV0aW5nX05qQTVabVF4TkRZdE9HSmhaQzAwWVRCbExXSXhaV1V0WW1GbE1UWmhPVGhtTWpCaUB0aHJlYWQudjIjMA==';
export const MEETING_CHAT_ID = '19:meeting_NjA5ZmQxNDYtOGJhZC00YTBlLWIxZWUtYmFlMTZhOThmMjBi@thread.v2';

/** The people of the test meeting. `inCall` people are in the Graph call when Bouncer joins. */
export const PEOPLE = {
  olivia: person('29:olivia', 'Olivia Organizer', '0a0a0a0a-0000-4000-8000-000000000001', 'Organizer', true),
  pete: person('29:pete', 'Pete Presenter', '0a0a0a0a-0000-4000-8000-000000000002', 'Presenter', true),
  ann: person('29:ann', 'Ann Attendee', '0a0a0a0a-0000-4000-8000-000000000003', 'Attendee', true),
  mallory: person('29:mallory', 'Mallory', '0a0a0a0a-0000-4000-8000-000000000004', 'Attendee', true),
  nora: person('29:nora', 'Nora Notincall', '0a0a0a0a-0000-4000-8000-000000000005', 'Attendee', false),
} as const;

export type Person = ReturnType<typeof person>;

function person(chatId: string, name: string, aadObjectId: string, role: string, inCall: boolean) {
  return { chatId, name, aadObjectId, role, inCall };
}

export { meetingJoinUrl as joinUrlFor } from '../../tools/sandbox/world.js';

export const TWILIO_ACCOUNT_SID = `AC${'a1'.repeat(16)}`;
/** The conference TWILIO_CONFERENCE_CHATS configures for the meeting's chat (override it in extraEnv). */
export const TEST_CONFERENCE = 'Support bridge';
export const TWILIO_AUTH_TOKEN = 'test-twilio-auth-token';
export const TWILIO_API_KEY = { sid: `SK${'b2'.repeat(16)}`, secret: 'test-twilio-key-secret' };

export interface TwilioSide {
  fake: SandboxTwilio;
  /** Posts a conference status callback to Bouncer, signed with the twilio package's own helper. */
  postEvent(params: Record<string, string>, options?: { signature?: string; signWith?: Record<string, string> }): Promise<number>;
  /**
   * Posts a voice request (an incoming call) to `/api/twilio/voice?<query>`, signed as Twilio signs
   * it (over the URL with its query) unless `signature` is given; returns the answer.
   */
  postVoice(params: Record<string, string>, query: string, options?: { signature?: string }): Promise<{ status: number; contentType: string | null; body: string }>;
}

export interface Harness {
  /** Present when the harness was started with `{ twilio: true }`. */
  twilio?: TwilioSide;
  bouncer: RunningBouncer;
  graph: SandboxGraph;
  connector: SandboxConnector;
  tokens: TokenServer;
  botIssuer: JwtIssuer;
  callsIssuer: JwtIssuer;
  dbFile: string;
  /** Everything the service logged, one JSON object per line. */
  logs: string[];
  /** Sends a Teams message activity from `from` (signed like the Bot Framework does); returns the HTTP status. */
  send(from: Person, text: string, mentions: Person[], options?: { mentionBot?: boolean; conversationId?: string; meetingId?: string | null }): Promise<number>;
  /** As `send`, to another instance (`startInstance`) or any Bouncer at `to.url`. */
  sendTo(to: { url: string }, from: Person, text: string, mentions: Person[], options?: { mentionBot?: boolean; conversationId?: string; meetingId?: string | null }): Promise<number>;
  /** The text of the reply to the last message sent (a card's fallback text when it is a card). */
  lastReply(): string;
  /** The Adaptive Card of the reply to the last message sent. */
  lastCard(): Record<string, unknown>;
  /**
   * Sends a Teams event activity (e.g. a meeting start) from `from` in the meeting chat: `activity`
   * is merged over a signed message-shaped activity whose type is `event`.
   */
  event(from: Person, activity: Record<string, unknown>, options?: { conversationId?: string; meetingId?: string | null }): Promise<number>;
  /** Sends an Adaptive Card Action.Submit from `from`, as Teams posts it (a message with `value`). */
  submit(from: Person, value: unknown): Promise<number>;
  /**
   * Starts another Bouncer on the same world and environment (its own port; `extra` overrides,
   * e.g. a shared PUBLIC_BASE_URL), as a second instance behind one URL. Closed with the harness.
   */
  startInstance(extra?: Record<string, string>, options?: StartOptions): Promise<RunningBouncer>;
  /** Rows of the cases table, read straight from the SQLite file. */
  cases(): Array<Record<string, unknown>>;
  /**
   * Writes to the SQLite file through a connection of the test's own, as another process would (to
   * add a failing trigger, or rows as a crash left them): `sql`, or `work` given the connection, in
   * one transaction. Bouncer holds the write lock for the rest of a turn of the event loop once it
   * wrote (its writes of a turn share one transaction), and this process is that event loop: a busy
   * database is tried again on the next turn, never waited for in place.
   */
  writeDb(work: string | ((db: Database.Database) => void)): Promise<void>;
  close(): Promise<void>;
}


let warnedWithoutContracts = false;

/**
 * Without ../shared/contracts (a fresh clone), the protocol servers check no request against the
 * vendors' documents, so every test's `violations` are empty: say so once per test file.
 */
function warnOnceWithoutContracts(present: boolean): void {
  if (present || warnedWithoutContracts) return;
  warnedWithoutContracts = true;
  console.warn('../shared/contracts not found: Graph and Twilio requests are not checked against the vendor OpenAPI documents (violations stay empty).');
}

/**
 * Starts the real server on 127.0.0.1 with every vendor endpoint pointed at local protocol servers:
 * a TLS token endpoint, a Bot Connector, Microsoft Graph, and the two JWT issuers.
 */
export async function startHarness(
  extraEnv: Record<string, string> = {},
  options: { twilio?: boolean; clock?: Clock } = {},
): Promise<Harness> {
  const graphContract = contractFile('graph_v1.0.calls.prism.yml');
  const onlineMeetingsContract = contractFile('graph_v1.0.onlinemeetings.prism.yml');
  const twilioContract = contractFile('twilio_api_v2010.conferences.json');
  warnOnceWithoutContracts(!!graphContract && (!options.twilio || !!twilioContract));
  // The meeting's chat is its thread here: Bouncer is bound to the chat Graph joins.
  const world = await startWorld({
    tls: testTls(),
    tenantId: TENANT_ID,
    app: { id: APP_ID, secret: APP_PASSWORD },
    people: Object.values(PEOPLE).map((p) => ({ ...p, userPrincipalName: `${p.name.split(' ')[0]!.toLowerCase()}@contoso.com` })),
    meeting: { id: MEETING_ID, threadId: MEETING_CHAT_ID },
    connector: {
      requireTokens: true,
      extraMembers: [{ id: BOT_CHAT_ID, name: 'Bouncer', aadObjectId: APP_ID, tenantId: TENANT_ID }],
    },
    graphContract: graphContract ? new OpenApiContract(graphContract) : undefined,
    onlineMeetingsContract: onlineMeetingsContract ? new OpenApiContract(onlineMeetingsContract) : undefined,
    ...(options.twilio
      ? {
          twilio: {
            accountSid: TWILIO_ACCOUNT_SID,
            authToken: TWILIO_AUTH_TOKEN,
            apiKey: TWILIO_API_KEY,
            contract: twilioContract ? new OpenApiContract(twilioContract) : undefined,
          },
        }
      : {}),
  });
  const { tokens, botIssuer, callsIssuer, graph, connector, twilio: fakeTwilio } = world;

  const dir = mkdtempSync(path.join(os.tmpdir(), 'bouncer-it-'));
  const dbFile = path.join(dir, 'bouncer.sqlite');
  const port = await freePort();
  const envOf = (port: number, extra: Record<string, string>) => ({
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      MicrosoftAppId: APP_ID,
      MicrosoftAppPassword: APP_PASSWORD,
      MicrosoftAppType: 'MultiTenant',
      ToBotFromChannelOpenIdMetadataUrl: botIssuer.openIdMetadataUrl,
      ToChannelFromBotLoginUrl: `${tokens.url}/botframework.com`,
      GRAPH_TENANT_ID: TENANT_ID,
      GRAPH_BASE_URL: graph.url,
      AZURE_AUTHORITY_HOST: tokens.url,
      CALLS_OPENID_METADATA_URL: callsIssuer.openIdMetadataUrl,
      CALL_JOIN_TIMEOUT_MS: '5000',
      DATABASE_URL: `sqlite:${dbFile}`,
      LOG_LEVEL: 'debug',
      ...(fakeTwilio
        ? {
            TWILIO_ACCOUNT_SID,
            TWILIO_AUTH_TOKEN,
            TWILIO_API_KEY_SID: TWILIO_API_KEY.sid,
            TWILIO_API_KEY_SECRET: TWILIO_API_KEY.secret,
            TWILIO_API_BASE_URL: fakeTwilio.url,
            // The test conference is for the meeting's chat: its moderators may bind it there.
            TWILIO_CONFERENCE_CHATS: JSON.stringify({ [TEST_CONFERENCE]: MEETING_CHAT_ID }),
          }
        : {}),
      ...extraEnv,
      ...extra,
  });
  const result = loadConfig(envOf(port, {}), dir);
  if (!result.ok) throw new Error(`test configuration invalid: ${result.problems.join('; ')}`);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const bouncer = await startBouncer(result.config, { logger: createLogger('debug', sink), clock: options.clock });
  const others: RunningBouncer[] = [];

  let lastSentId = '';
  const eventsUrl = `http://127.0.0.1:${port}/api/twilio/conference-events`;
  const serviceUrl = `${connector.url}/`;
  async function postSigned(activity: Record<string, unknown>, to: { url: string } = bouncer): Promise<number> {
    const token = await botIssuer.sign({ iss: 'https://api.botframework.com', aud: APP_ID, serviceurl: serviceUrl });
    const res = await fetch(`${to.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(activity),
    });
    await res.arrayBuffer();
    return res.status;
  }
  function lastReplyActivity() {
    const reply = connector.activities.filter((a) => a.replyToId === lastSentId).at(-1);
    if (!reply) throw new Error(`no reply to ${lastSentId}; replies so far: ${JSON.stringify(connector.activities.map((a) => a.activity.text))}`);
    return reply.activity;
  }
  /** Posts a Teams message activity from `from` in a chat (the meeting chat unless told otherwise). */
  async function postActivity(
    from: Person,
    extra: Record<string, unknown>,
    chat: { conversationId?: string; meetingId?: string | null } = {},
    to: { url: string } = bouncer,
  ): Promise<number> {
    lastSentId = randomUUID();
    const meetingId = chat.meetingId === undefined ? MEETING_ID : chat.meetingId;
    return postSigned({
      type: 'message',
      id: lastSentId,
      timestamp: new Date().toISOString(),
      channelId: 'msteams',
      serviceUrl,
      from: { id: from.chatId, name: from.name, aadObjectId: from.aadObjectId },
      conversation: { id: chat.conversationId ?? MEETING_CHAT_ID, isGroup: true, conversationType: 'groupChat', tenantId: TENANT_ID },
      recipient: { id: BOT_CHAT_ID, name: 'Bouncer' },
      channelData: { tenant: { id: TENANT_ID }, ...(meetingId ? { meeting: { id: meetingId } } : {}) },
      ...extra,
    }, to);
  }
  const harness: Harness = {
    twilio: fakeTwilio && {
      fake: fakeTwilio,
      async postEvent(params, opts = {}) {
        const signature = opts.signature ?? twilio.getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, eventsUrl, opts.signWith ?? params);
        const res = await fetch(`${bouncer.url}/api/twilio/conference-events`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
          body: new URLSearchParams(params).toString(),
        });
        await res.arrayBuffer();
        return res.status;
      },
      async postVoice(params, query, opts = {}) {
        const url = `http://127.0.0.1:${port}/api/twilio/voice?${query}`;
        const signature = opts.signature ?? twilio.getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, url, params);
        const res = await fetch(`${bouncer.url}/api/twilio/voice?${query}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature ? { 'x-twilio-signature': signature } : {}) },
          body: new URLSearchParams(params).toString(),
        });
        return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
      },
    },
    bouncer,
    graph,
    connector,
    tokens,
    botIssuer,
    callsIssuer,
    dbFile,
    logs,
    async event(from, activity, options = {}) {
      return postActivity(from, { type: 'event', ...activity }, options);
    },
    async submit(from, value) {
      return postActivity(from, { text: undefined, entities: [], value });
    },
    async send(from, text, mentions, options = {}) {
      return this.sendTo(bouncer, from, text, mentions, options);
    },
    async sendTo(to, from, text, mentions, options = {}) {
      const mentionBot = options.mentionBot ?? true;
      const entities = [
        ...(mentionBot ? [{ type: 'mention', mentioned: { id: BOT_CHAT_ID, name: 'Bouncer' }, text: '<at>Bouncer</at>' }] : []),
        ...mentions.map((m) => ({ type: 'mention', mentioned: { id: m.chatId, name: m.name }, text: `<at>${m.name}</at>` })),
      ];
      return postActivity(
        from,
        { text: `${mentionBot ? '<at>Bouncer</at> ' : ''}${text}\n`, textFormat: 'plain', entities },
        { conversationId: options.conversationId, meetingId: options.meetingId },
        to,
      );
    },
    lastReply() {
      const reply = lastReplyActivity();
      const card = (reply.attachments as Array<{ content?: { fallbackText?: string } }> | undefined)?.[0]?.content;
      return String(reply.text ?? card?.fallbackText ?? '');
    },
    lastCard() {
      const card = (lastReplyActivity().attachments as Array<{ contentType: string; content: Record<string, unknown> }> | undefined)?.[0];
      if (card?.contentType !== 'application/vnd.microsoft.card.adaptive') throw new Error('the last reply is not an Adaptive Card');
      return card.content;
    },
    cases() {
      const db = new Database(dbFile, { readonly: true });
      try {
        return db.prepare('SELECT * FROM cases ORDER BY id').all() as Array<Record<string, unknown>>;
      } finally {
        db.close();
      }
    },
    async writeDb(work) {
      const db = new Database(dbFile, { timeout: 0 });
      try {
        await whenUnlocked(() => db.exec('BEGIN IMMEDIATE'));
        try {
          if (typeof work === 'string') db.exec(work);
          else work(db);
          db.exec('COMMIT');
        } finally {
          if (db.inTransaction) db.exec('ROLLBACK');
        }
      } finally {
        db.close();
      }
    },
    async startInstance(extra = {}, options = {}) {
      // A port free a moment ago can be taken by a parallel test before Bouncer listens: take another.
      for (let attempt = 1; ; attempt++) {
        const other = loadConfig(envOf(await freePort(), extra), dir);
        if (!other.ok) throw new Error(`test configuration invalid: ${other.problems.join('; ')}`);
        try {
          const instance = await startBouncer(other.config, { logger: createLogger('debug', sink), ...options });
          others.push(instance);
          return instance;
        } catch (err) {
          if ((err as { code?: unknown }).code !== 'EADDRINUSE' || attempt >= 3) throw err;
        }
      }
    },
    async close() {
      for (const other of others.splice(0)) await other.close();
      await graph.settle();
      await bouncer.close();
      await world.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}
