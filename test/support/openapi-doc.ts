import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';

const docFile = new URL('../../docs/moderation-api.openapi.json', import.meta.url);

/** The committed OpenAPI document of the moderation API (docs/moderation-api.openapi.json). */
export const doc = JSON.parse(readFileSync(docFile, 'utf8')) as OpenApiDoc;

interface OpenApiOperation {
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { headers?: Record<string, unknown>; content: Record<string, { schema: { $ref: string } }> }>;
}
interface OpenApiDoc {
  paths: Record<string, { post?: OpenApiOperation; get?: OpenApiOperation }>;
  components: { schemas: Record<string, object> };
}

/**
 * Checks a response against the committed OpenAPI document (status listed, body fits its schema),
 * for the kick by default.
 */
export function expectDocumented(status: number, contentType: string | null, body: unknown, operation: { path: string; method: 'get' | 'post' } = { path: '/api/moderation/kick', method: 'post' }): void {
  const response = doc.paths[operation.path]![operation.method]!.responses[String(status)];
  expect(response, `status ${status} is documented`).toBeDefined();
  const [mediaType, media] = Object.entries(response!.content)[0]!;
  expect(contentType).toContain(mediaType);
  const ajv = new Ajv2020({ strict: false });
  ajv.addSchema({ $id: 'doc', components: doc.components } as object);
  const validate = ajv.compile({ $ref: `doc${media.schema.$ref}` });
  expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
}

