import { z } from 'zod';
import { PROBLEM_CONTENT_TYPE } from '../../http/problem.js';
import type { RawRoute } from '../../http/route.js';
import { PROBLEM_TYPES } from './problems.js';
import { kickRequestSchema, kickResultSchema, problemSchema, type WebhookCallSyntax } from './schemas.js';

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

/**
 * The OpenAPI 3.1 document of the moderation API, generated from the same zod schemas that
 * validate requests. `npm run openapi` writes it to docs/moderation-api.openapi.json; a test keeps
 * that file in step.
 */
export function buildOpenApiDocument(version: string, calls: readonly WebhookCallSyntax[]): Record<string, unknown> {
  const problemStatuses = new Map<number, string[]>();
  for (const [type, { status, title }] of Object.entries(PROBLEM_TYPES)) {
    problemStatuses.set(status, [...(problemStatuses.get(status) ?? []), `\`urn:bouncer:problem:${type}\`: ${title}`]);
  }
  // Upstream failures that may be retried come back as 503.
  problemStatuses.set(503, [...(problemStatuses.get(503) ?? []), '`urn:bouncer:problem:upstream-failure` with `retryable: true`']);
  const problemResponses = Object.fromEntries(
    [...problemStatuses.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, lines]) => [
        String(status),
        { description: lines.join('; '), content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } } },
      ]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Bouncer moderation API',
      version,
      description:
        'Lets an automated moderation system remove a participant from a Teams call or a Twilio conference. ' +
        'Requests are signed per the Standard Webhooks specification (https://www.standardwebhooks.com) with a ' +
        'secret from WEBHOOK_SECRETS; the timestamp must be within 5 minutes. A repeated webhook-id returns the ' +
        'first response without acting again, for at least 24 hours, whatever Idempotency-Key it carries. An ' +
        'Idempotency-Key can only add deduplication: messages with different webhook-ids and the same ' +
        'Idempotency-Key act once. A secret may be scoped to some calls (WEBHOOK_SECRETS whsec_…@key:value|…); ' +
        'a request it signs for any other call gets 403 not-authorized.',
    },
    paths: {
      '/api/moderation/kick': {
        post: {
          operationId: 'kick',
          summary: 'Remove a participant from a call',
          parameters: [
            header('webhook-id', true, 'Unique message id; always the idempotency key (it is signed).'),
            header('webhook-timestamp', true, 'Unix time in seconds when the request was signed.'),
            header('webhook-signature', true, 'Space-separated `v1,<base64 HMAC-SHA256 of id.timestamp.body>` signatures.'),
            header(
              'Idempotency-Key',
              false,
              'A second idempotency key, beside webhook-id: a message whose Idempotency-Key was already used gets that ' +
                'first response (422 if its body differs). It never lets a webhook-id run again.',
            ),
          ],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/KickRequest' } } },
          },
          responses: {
            '200': {
              description: 'Removed, already gone, or (dry run) who would be removed.',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/KickResult' } } },
            },
            ...problemResponses,
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
        KickResult: jsonSchema(kickResultSchema, 'output'),
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
