import { z } from 'zod';
import { PROBLEM_CONTENT_TYPE } from '../../http/problem.js';
import type { RawRoute } from '../../http/route.js';
import { PROBLEM_TYPES, type ProblemType } from './problems.js';
import {
  bulkKickRequestSchema,
  bulkKickResultSchema,
  caseViewSchema,
  kickAcceptedSchema,
  kickRequestSchema,
  kickResultSchema,
  MAX_BULK_TARGETS,
  problemSchema,
  type WebhookCallSyntax,
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
        'Lets an automated moderation system remove participants from a Teams call or a Twilio conference. ' +
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
            header(
              'Idempotency-Key',
              false,
              'A second idempotency key, beside webhook-id: a message whose Idempotency-Key was already used gets that ' +
                'first response (422 if its body differs). It never lets a webhook-id run again.',
            ),
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
        Case: jsonSchema(caseViewSchema(calls), 'output'),
        Problem: jsonSchema(problemSchema, 'output'),
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
