import { z } from 'zod';
import { PROBLEM_CONTENT_TYPE } from '../../http/problem.js';
import type { RawRoute } from '../../http/route.js';
import { LOCKDOWN_PATH, lockdownRequestSchema, lockdownResultSchema } from './lockdown-route.js';
import { PROBLEM_TYPES, type ProblemType } from './problems.js';
import {
  actionResultSchema,
  banRequestSchema,
  bulkActionResultSchema,
  bulkBanRequestSchema,
  bulkKickRequestSchema,
  bulkKickResultSchema,
  bulkMuteRequestSchema,
  bulkUnbanRequestSchema,
  bulkWarnRequestSchema,
  caseViewSchema,
  kickAcceptedSchema,
  kickRequestSchema,
  kickResultSchema,
  MAX_BAN_DAYS,
  MAX_BULK_TARGETS,
  muteRequestSchema,
  problemSchema,
  unbanRequestSchema,
  warnRequestSchema,
  WEBHOOK_PERSON_ACTIONS,
  type WebhookCallSyntax,
  type WebhookPersonAction,
} from './schemas.js';

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io }) as Record<string, unknown>;
  return rest;
}

const header = (name: string, required: boolean, description: string) => ({
  name,
  in: 'header',
  required,
  description,
  schema: { type: 'string' },
});

/** The problem types each operation answers with (the rest of PROBLEM_TYPES are the kick's). */
const CASE_PROBLEMS: readonly ProblemType[] = ['unauthorized', 'case-not-found'];
const KICK_PROBLEMS = (Object.keys(PROBLEM_TYPES) as ProblemType[]).filter((t) => t !== 'case-not-found');

/** Answered by the server for any route when the database is busy (nothing was done; retryable). */
const UNAVAILABLE = '`urn:bouncer:problem:unavailable`: the database is busy; nothing was done (`retryable: true`; `Retry-After` says how many seconds to wait)';

/** Problem responses by status, each listing its problem types. */
function problemResponses(types: readonly ProblemType[], extra: ReadonlyArray<[number, string]>): Record<string, unknown> {
  const byStatus = new Map<number, string[]>();
  for (const type of types) {
    const { status, title } = PROBLEM_TYPES[type];
    byStatus.set(status, [...(byStatus.get(status) ?? []), `\`urn:bouncer:problem:${type}\`: ${title}`]);
  }
  for (const [status, line] of extra) byStatus.set(status, [...(byStatus.get(status) ?? []), line]);
  return Object.fromEntries(
    [...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, lines]) => [
        String(status),
        { description: lines.join('; '), content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } } },
      ]),
  );
}

const signatureHeaders = (idDescription: string) => [
  header('webhook-id', true, idDescription),
  header('webhook-timestamp', true, 'Unix time in seconds when the request was signed.'),
  header('webhook-signature', true, 'Space-separated `v1,<base64 HMAC-SHA256 of id.timestamp.body>` signatures.'),
];

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const idempotencyKeyHeader = header(
  'Idempotency-Key',
  false,
  'A second idempotency key, beside webhook-id: a message whose Idempotency-Key was already used gets that ' +
    'first response (422 if its body differs, or it was sent to another route). It never lets a webhook-id run again.',
);

/** Component names of an action's schemas: `Ban` → BanRequest, BulkBanRequest, BanResponse, BanResult, BulkBanResult. */
const NAMES: Record<WebhookPersonAction, string> = { ban: 'Ban', unban: 'Unban', mute: 'Mute', unmute: 'Unmute', warn: 'Warn' };

/** What each action does, for its operation's summary and description. */
const ACTION_TEXT: Record<WebhookPersonAction, { summary: string; description: string }> = {
  ban: {
    summary: 'Remove someone now and keep them out of the chat’s calls (`duration`, or until unbanned)',
    description:
      'As `/ban` in the chat: the person is removed from the call now (told why first, with NOTIFY_REMOVED) and kept out of ' +
      'the calls of the chat the call is bound to: a rejoin is undone within a second, a banned caller’s new call is ' +
      `rejected. \`duration\` is an ISO 8601 duration (PT30M, PT2H, P7D, P2W; at most P${MAX_BAN_DAYS}D); absent, the ban lasts ` +
      'until lifted. Someone not in the call now can be banned by a lasting identity (userId, phoneNumber, label). A call ' +
      'bound to no chat has nothing to keep them out of: 409 not-bound.',
  },
  unban: {
    summary: 'Lift the active bans naming someone (`target`), or one ban by its case (`caseId`)',
    description:
      'As `/unban` in the chat: the active bans of the chat the call is bound to, and the everywhere bans, that name the ' +
      'person (an Entra object id, a number or a label), or the ban made by `caseId`. `banCaseIds` lists those lifted; ' +
      'empty when there was none.',
  },
  mute: {
    summary: 'Mute someone for everyone in the call (a server mute)',
    description: 'As `/mute` in the chat. On Teams the person cannot unmute themselves afterwards; on Twilio, until unmuted.',
  },
  unmute: {
    summary: 'Unmute someone (phone conferences only)',
    description:
      'As `/unmute` in the chat. Teams has no way to unmute someone else: only they can unmute themselves, so a Teams call ' +
      'answers 501 unsupported, saying so, and nothing is sent.',
  },
  warn: {
    summary: 'Warn someone privately: only they see (Teams) or hear (Twilio) the reason',
    description: 'As `/warn` in the chat: `reason` is required and is what the person is told.',
  },
};

/** The POST operation of one person action (ban, unban, mute, unmute, warn): the kick's shape, its own schemas. */
function personOperation(action: WebhookPersonAction): Record<string, unknown> {
  const name = NAMES[action];
  return {
    post: {
      operationId: action,
      summary: ACTION_TEXT[action].summary,
      description:
        `${ACTION_TEXT[action].description} Signed, deduplicated and answered as a kick is: 200 with the result or a problem, ` +
        'or 202 with the case when it is still running after WEBHOOK_SYNC_WAIT_MS; `targets` (1 to ' +
        `${MAX_BULK_TARGETS}) instead of \`target\`: 200 with one entry per target, each handled as if sent alone. ` +
        '`dryRun`: resolved and authorized, nothing changed (outcome `dry_run`, recorded as a case).',
      parameters: [...signatureHeaders('Unique message id; always the idempotency key (it is signed).'), idempotencyKeyHeader],
      requestBody: {
        required: true,
        content: { 'application/json': { schema: { oneOf: [ref(`${name}Request`), ref(`Bulk${name}Request`)] } } },
      },
      responses: {
        '200': {
          description: 'One target: what it came to (or, dry run, what it would). Several targets: one entry per target.',
          content: { 'application/json': { schema: ref(`${name}Response`) } },
        },
        '202': {
          description: 'One target: still running after WEBHOOK_SYNC_WAIT_MS; its case (the Location) tells how it ends.',
          headers: { Location: { description: 'The case: `/api/moderation/cases/{caseId}` (signed GET).', schema: { type: 'string' } } },
          content: { 'application/json': { schema: ref('KickAccepted') } },
        },
        ...problemResponses(KICK_PROBLEMS, [
          [503, '`urn:bouncer:problem:upstream-failure` with `retryable: true`'],
          [503, UNAVAILABLE],
        ]),
      },
    },
  };
}

/** The request and response schemas of one person action. */
function personSchemas(action: WebhookPersonAction, calls: readonly WebhookCallSyntax[]): Record<string, unknown> {
  const name = NAMES[action];
  const requests = {
    ban: [banRequestSchema(calls), bulkBanRequestSchema(calls)],
    unban: [unbanRequestSchema(calls), bulkUnbanRequestSchema(calls)],
    mute: [muteRequestSchema(calls), bulkMuteRequestSchema(calls)],
    unmute: [muteRequestSchema(calls), bulkMuteRequestSchema(calls)],
    warn: [warnRequestSchema(calls), bulkWarnRequestSchema(calls)],
  } as const;
  const [single, bulk] = requests[action];
  return {
    [`${name}Request`]: jsonSchema(single, 'input'),
    [`Bulk${name}Request`]: jsonSchema(bulk, 'input'),
    [`${name}Response`]: { oneOf: [ref(`${name}Result`), ref(`Bulk${name}Result`)] },
    [`${name}Result`]: jsonSchema(actionResultSchema(action), 'output'),
    [`Bulk${name}Result`]: jsonSchema(bulkActionResultSchema(action), 'output'),
  };
}

/**
 * The OpenAPI 3.1 document of the moderation API, generated from the same zod schemas that
 * validate requests. `npm run openapi` writes it to docs/moderation-api.openapi.json; a test keeps
 * that file in step.
 */
export function buildOpenApiDocument(version: string, calls: readonly WebhookCallSyntax[]): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Bouncer moderation API',
      version,
      description:
        'Lets an automated moderation system remove (kick), ban, unban, mute, unmute or warn participants of a Teams call or a ' +
        'Twilio conference: the same actions, rules and audit cases as the chat commands, with source `webhook`. ' +
        'Requests are signed per the Standard Webhooks specification (https://www.standardwebhooks.com) with a ' +
        'secret from WEBHOOK_SECRETS; the timestamp must be within 5 minutes. A repeated webhook-id returns the ' +
        'first response without acting again, for at least 24 hours, whatever Idempotency-Key it carries; but a ' +
        'failure that may succeed later (a problem with `retryable: true`) is never kept, so a retry with the same ' +
        'webhook-id acts again. An Idempotency-Key can only add deduplication: messages with different webhook-ids ' +
        'and the same Idempotency-Key act once. A secret may be scoped to some calls (WEBHOOK_SECRETS ' +
        'whsec_…@key:value|…); a request it signs for any other call gets 403 not-authorized, and it reads the ' +
        'cases of its calls only. A removal still running after WEBHOOK_SYNC_WAIT_MS (throttling, say) is ' +
        'answered 202 with its case; GET /api/moderation/cases/{caseId} follows it.',
    },
    paths: {
      '/api/moderation/kick': {
        post: {
          operationId: 'kick',
          summary: 'Remove one participant (`target`) or several (`targets`) from a call',
          description:
            'One target: 200 with the result, a problem, or, when the removal is still running after ' +
            'WEBHOOK_SYNC_WAIT_MS and its case is open, 202 with the case while it finishes in the background; a ' +
            'repeated delivery meanwhile gets the same 202, and the final answer once it is done. Several targets ' +
            `(1 to ${MAX_BULK_TARGETS}): 200 with one entry per target, in order, each handled as if sent alone ` +
            '(its own case, permission and deduplication): a result, a problem, or `{caseId, status: "pending"}` ' +
            'for one still running (follow its case). A repeated delivery of a bulk message never removes anyone ' +
            'twice: finished entries are answered from their own record, running ones as pending, and only ' +
            'entries that failed retryably act again. The message keeps its answer once every entry is final.',
          parameters: [
            ...signatureHeaders('Unique message id; always the idempotency key (it is signed).'),
            idempotencyKeyHeader,
          ],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { oneOf: [ref('KickRequest'), ref('BulkKickRequest')] } } },
          },
          responses: {
            '200': {
              description:
                'One target: removed, already gone, or (dry run) who would be removed. Several targets: one entry per target.',
              content: { 'application/json': { schema: ref('KickResponse') } },
            },
            '202': {
              description: `One target: the removal is still running after WEBHOOK_SYNC_WAIT_MS; its case (the Location) tells how it ends.`,
              headers: {
                Location: { description: 'The case: `/api/moderation/cases/{caseId}` (signed GET).', schema: { type: 'string' } },
              },
              content: { 'application/json': { schema: ref('KickAccepted') } },
            },
            ...problemResponses(KICK_PROBLEMS, [
              // Upstream failures that may be retried come back as 503.
              [503, '`urn:bouncer:problem:upstream-failure` with `retryable: true`'],
              [503, UNAVAILABLE],
            ]),
          },
        },
      },
      ...Object.fromEntries(WEBHOOK_PERSON_ACTIONS.map((action) => [`/api/moderation/${action}`, personOperation(action)])),
      [LOCKDOWN_PATH]: lockdownOperation(),
      '/api/moderation/cases/{caseId}': {
        get: {
          operationId: 'getCase',
          summary: 'A moderation case: how a request (a 202, say) came out',
          description:
            'Signed like every request, over an empty body. A secret scoped to some calls reads only the cases of ' +
            'those calls (as the request named them; a chat command’s case by its conversationId); any other case, ' +
            'like an unknown one, is 404.',
          parameters: [
            { name: 'caseId', in: 'path', required: true, description: 'The case number.', schema: { type: 'integer', minimum: 1 } },
            ...signatureHeaders('Unique message id (not deduplicated: reading changes nothing).'),
          ],
          responses: {
            '200': { description: 'The case.', content: { 'application/json': { schema: ref('Case') } } },
            ...problemResponses(CASE_PROBLEMS, [[503, UNAVAILABLE]]),
          },
        },
      },
      '/api/moderation/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          responses: { '200': { description: 'The OpenAPI document.', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
    },
    components: {
      schemas: {
        KickRequest: jsonSchema(kickRequestSchema(calls), 'input'),
        BulkKickRequest: jsonSchema(bulkKickRequestSchema(calls), 'input'),
        KickResponse: { oneOf: [ref('KickResult'), ref('BulkKickResult')] },
        KickResult: jsonSchema(kickResultSchema, 'output'),
        BulkKickResult: jsonSchema(bulkKickResultSchema, 'output'),
        KickAccepted: jsonSchema(kickAcceptedSchema, 'output'),
        ...Object.assign({}, ...WEBHOOK_PERSON_ACTIONS.map((action) => personSchemas(action, calls))),
        LockdownRequest: jsonSchema(lockdownRequestSchema(calls), 'input'),
        LockdownResult: jsonSchema(lockdownResultSchema, 'output'),
        Case: jsonSchema(caseViewSchema(calls), 'output'),
        Problem: jsonSchema(problemSchema, 'output'),
      },
    },
  };
}

/** The problem types a lockdown answers with. */
const LOCKDOWN_PROBLEMS: readonly ProblemType[] = [
  'invalid-body',
  'unauthorized',
  'not-authorized',
  'conference-not-found',
  'not-bound',
  'request-in-progress',
  'payload-too-large',
  'unsupported-media-type',
  'idempotency-key-reused',
  'upstream-failure',
  'not-configured',
];

/** POST /api/moderation/lockdown (channels/webhook/lockdown-route.ts). */
function lockdownOperation(): Record<string, unknown> {
  return {
    post: {
      operationId: 'lockdown',
      summary: 'Lock a call down (`enabled: true`), or end its lockdown (`enabled: false`)',
      description:
        'A Teams meeting: its options are saved, then only the organizer bypasses the lobby (dial-in callers too wait), ' +
        'attendees cannot turn on their mic or camera, and with `chat` meeting chat is off; ending it restores exactly ' +
        'the saved options. A second lockdown keeps the first one’s saved options. A Twilio conference: every caller who ' +
        'joins while it is on is removed (each as its own case, source `auto`), the voice webhook rejects callers, and with ' +
        '`mute` every caller who does not moderate is muted. Needs, on Teams, OnlineMeetings.ReadWrite.All and an ' +
        'application access policy for the organizer (a 403 from Graph is `upstream-failure`). Signed and deduplicated ' +
        'as every request (see the kick).',
      parameters: [
        ...signatureHeaders('Unique message id; always the idempotency key (it is signed).'),
        header('Idempotency-Key', false, 'A second idempotency key, beside webhook-id (as for the kick).'),
      ],
      requestBody: { required: true, content: { 'application/json': { schema: ref('LockdownRequest') } } },
      responses: {
        '200': { description: 'Locked down (or already), or the lockdown ended (or there was none).', content: { 'application/json': { schema: ref('LockdownResult') } } },
        ...problemResponses(LOCKDOWN_PROBLEMS, [
          [503, '`urn:bouncer:problem:upstream-failure` with `retryable: true`'],
          [503, UNAVAILABLE],
        ]),
      },
    },
  };
}

/** GET /api/moderation/openapi.json: the document, as built at start. */
export function openApiRoute(document: Record<string, unknown>): RawRoute {
  return {
    kind: 'raw',
    method: 'GET',
    path: '/api/moderation/openapi.json',
    maxBodyBytes: 0,
    handle: async () => ({ status: 200, body: document }),
  };
}
