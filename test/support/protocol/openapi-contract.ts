import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

/** `../shared/contracts` beside the repository; absent in a user's fresh clone. */
export const CONTRACTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/contracts');

export function contractFile(name: string): string | undefined {
  const file = path.join(CONTRACTS_DIR, name);
  return existsSync(file) ? file : undefined;
}

interface Operation {
  method: string;
  template: string;
  matcher: RegExp;
  bodyValidator?: ValidateFunction;
  bodyRequired: boolean;
  /** Authorization schemes any one of which satisfies the operation's security; empty when open. */
  schemes: string[];
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * Checks requests against a vendor's OpenAPI 3.0 document: the operation exists, the caller is
 * authenticated as the document's security requires, and the JSON body fits the request schema.
 */
export class OpenApiContract {
  private readonly operations: Operation[] = [];

  constructor(file: string) {
    const text = readFileSync(file, 'utf8');
    const doc = (file.endsWith('.json') ? JSON.parse(text) : parseYaml(text)) as {
      paths: Record<string, Record<string, { requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> }; security?: Array<Record<string, unknown>> }>>;
      security?: Array<Record<string, unknown>>;
      components?: { securitySchemes?: Record<string, { type?: string; scheme?: string }> };
    };
    // Form-urlencoded values are all strings on the wire: let "true" pass as a boolean, "5" as an integer.
    const [ajv, formAjv] = [false, true].map((coerceTypes) => {
      const a = new Ajv({ strict: false, allErrors: true, validateFormats: true, coerceTypes });
      addFormats(a);
      // OpenAPI's own formats and Twilio's vendor formats, accepted as they come.
      for (const f of ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'base64url', 'decimal', 'http-method', 'endpoint', 'twiml', 'date-time-rfc-2822', 'uri-map', 'phone-number']) {
        a.addFormat(f, true);
      }
      a.addSchema(doc as object, 'doc');
      return a;
    }) as [Ajv, Ajv];
    const schemeOf = (name: string): string => {
      const s = doc.components?.securitySchemes?.[name];
      if (s?.type === 'http') return (s.scheme ?? '').toLowerCase();
      // Other kinds (apiKey, mutualTLS): any Authorization header will do.
      return s?.type === 'oauth2' || s?.type === 'openIdConnect' ? 'bearer' : '';
    };
    for (const [template, item] of Object.entries(doc.paths)) {
      // An OData action is named in full in the document (`…/microsoft.graph.mute`) and by its
      // short name in Graph's docs (`…/mute`); Graph takes both, so both match.
      const pattern = template
        .split(/(\{[^}]+\})/)
        .map((part) => (part.startsWith('{') ? '([^/]+)' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('')
        .replace(/\/microsoft\\\.graph\\\.(\w+)$/, '/(?:microsoft\\.graph\\.)?$1');
      for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
        const op = item[method];
        if (!op) continue;
        const jsonSchema = op.requestBody?.content?.['application/json']?.schema;
        const formSchema = op.requestBody?.content?.['application/x-www-form-urlencoded']?.schema;
        const schema = jsonSchema ?? formSchema;
        this.operations.push({
          method: method.toUpperCase(),
          template,
          matcher: new RegExp(`^${pattern}$`),
          bodyValidator: schema ? (jsonSchema ? ajv : formAjv).compile(rebase(schema)) : undefined,
          bodyRequired: op.requestBody?.required ?? false,
          schemes: (op.security ?? doc.security ?? []).flatMap((requirement) => Object.keys(requirement).map(schemeOf)),
        });
      }
    }
  }

  /** Returns the violations of one request (empty when it fits the document). */
  check(request: { method: string; path: string; headers: Record<string, string | string[] | undefined>; body?: unknown }): string[] {
    const route = request.path.split('?')[0]!;
    const op = this.operations.find((o) => o.method === request.method && o.matcher.test(route));
    if (!op) return [`${request.method} ${route}: no such operation in the document`];
    const problems: string[] = [];
    const where = `${request.method} ${op.template}`;
    const authorization = request.headers.authorization;
    const header = Array.isArray(authorization) ? authorization[0] : authorization;
    if (op.schemes.length > 0 && !header) problems.push(`${where}: no Authorization header`);
    else if (op.schemes.length > 0 && !op.schemes.some((s) => s === '' || header!.toLowerCase().startsWith(`${s} `))) {
      problems.push(`${where}: Authorization is not ${op.schemes.join(' or ')}`);
    }
    if (op.bodyValidator) {
      if (request.body === undefined) {
        if (op.bodyRequired) problems.push(`${where}: request body required`);
      } else if (!op.bodyValidator(structuredClone(request.body))) {
        for (const e of op.bodyValidator.errors ?? []) problems.push(`${where}: body${e.instancePath} ${e.message}`);
      }
    }
    return problems;
  }
}

/** Local `#/…` refs inside an operation schema point into the registered document. */
function rebase(schema: unknown): object {
  return JSON.parse(JSON.stringify(schema).replace(/"\$ref":"#\//g, '"$ref":"doc#/')) as object;
}
