// Writes the moderation API's OpenAPI document (generated from the zod schemas) to docs/.
import { readFileSync, writeFileSync } from 'node:fs';
import { buildOpenApiDocument } from '../dist/channels/webhook/openapi.js';
import { webhookCallSyntaxes } from '../dist/providers/index.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const file = new URL('../docs/moderation-api.openapi.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(buildOpenApiDocument(version, webhookCallSyntaxes()), null, 2)}\n`);
console.log(`wrote ${file.pathname}`);
