import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

/** Paths censored wherever they appear in a log line (DESIGN.md habit 7: secrets never reach logs). */
export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'password',
  '*.password',
  'clientSecret',
  '*.clientSecret',
  '*.*.clientSecret',
  'appPassword',
  '*.appPassword',
  '*.*.appPassword',
  'MicrosoftAppPassword',
  '*.MicrosoftAppPassword',
  'GRAPH_CLIENT_SECRET',
  '*.GRAPH_CLIENT_SECRET',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'client_secret',
  '*.client_secret',
];

const CENSOR = '[redacted]';

/**
 * The service logger: JSON lines, secrets redacted. `destination` lets tests read the output.
 *
 * Redaction is Bouncer's own rather than pino's `redact`: with paths that start with a wildcard,
 * pino clones and walks every field of every line against every path (about 15 µs a line, several
 * lines a request), where this looks each field's name up once and copies only what it censors.
 * It covers what pino's did: the logged object (an `err` after its serializer), a child's bindings,
 * and objects interpolated into the message.
 */
export function createLogger(level: string, destination?: DestinationStream): PinoLogger {
  const logger = pino(
    {
      level,
      base: { service: 'bouncer' },
      serializers: { err: (err: unknown) => redactBelow(pino.stdSerializers.err(err as Error), 'err') },
      formatters: { log: (obj) => redactFields(obj, SERIALIZED_KEYS) as Record<string, unknown> },
      hooks: {
        // Objects interpolated into the message (`logger.info('%o', obj)`, `logger.info({}, '%o', obj)`).
        logMethod(args: unknown[], method) {
          const from = typeof args[0] === 'string' ? 1 : 2;
          if (args.length > from) args = args.map((arg, i) => (i >= from ? redactFields(arg) : arg));
          method.apply(this, args as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
  // A child's bindings are written once, when it is made: censored then (pino passes them through
  // the serializers, not through a formatter). Children are made from their parent (Object.create),
  // so they inherit this too.
  const child: PinoLogger['child'] = logger.child;
  logger.child = function (this: PinoLogger, bindings, options) {
    return child.call(this, redactFields(bindings, SERIALIZED_KEYS) as pino.Bindings, options);
  } as PinoLogger['child'];
  return logger;
}

/** Top-level keys whose serializer censors them (after serializing): the log formatter leaves them alone. */
const SERIALIZED_KEYS: ReadonlySet<string> = new Set(['err']);

/** What to do under a key: censor its value, or look further in (by name, or any name). */
type Rule = typeof CENSORED | Branch;
interface Branch {
  keys: Map<string, Rule>;
  any?: Rule;
}
const CENSORED = Symbol('censored');

/** REDACTED_PATHS as a tree, a wildcard's rule merged into the named keys beside it (a name also matches `*`). */
const ROOT: Branch = compile(REDACTED_PATHS);

function compile(paths: readonly string[]): Branch {
  const root: Branch = { keys: new Map() };
  for (const path of paths) {
    const segments = path.split('.');
    if (segments.some((s) => s === '' || /[[\]"'`]/.test(s))) throw new Error(`unsupported redaction path: ${path}`);
    let node: Branch = root;
    segments.forEach((segment, i) => {
      const last = i === segments.length - 1;
      const existing = segment === '*' ? node.any : node.keys.get(segment);
      if (existing === CENSORED) return;
      const next: Rule = last ? CENSORED : (existing ?? { keys: new Map() });
      if (segment === '*') node.any = next;
      else node.keys.set(segment, next);
      if (next !== CENSORED) node = next;
    });
  }
  return mergeWildcards(root);
}

function mergeWildcards(node: Branch): Branch {
  const any = node.any === undefined || node.any === CENSORED ? node.any : mergeWildcards(node.any);
  const keys = new Map<string, Rule>();
  for (const [key, rule] of node.keys) keys.set(key, merge(rule === CENSORED ? rule : mergeWildcards(rule), any));
  return { keys, any };
}

function merge(a: Rule, b: Rule | undefined): Rule {
  if (b === undefined) return a;
  if (a === CENSORED || b === CENSORED) return CENSORED;
  const keys = new Map(a.keys);
  for (const [key, rule] of b.keys) keys.set(key, keys.has(key) ? merge(keys.get(key)!, rule) : rule);
  return { keys, any: a.any === undefined ? b.any : merge(a.any, b.any) };
}

/** `value` as logged under the top-level key `key`, censored where a path says. */
function redactBelow(value: unknown, key: string): unknown {
  const rule = ROOT.keys.get(key) ?? ROOT.any;
  if (rule === undefined) return value;
  return rule === CENSORED ? (value === undefined ? value : CENSOR) : redact(value, rule);
}

/** A logged object with its fields censored where a path says (but `skip`, censored by their serializer). */
function redactFields(value: unknown, skip?: ReadonlySet<string>): unknown {
  return redact(value, ROOT, skip);
}

/**
 * `value` with what `rule` names censored: the same object when there is nothing to censor,
 * otherwise a copy of each object on the way (same prototype, own enumerable fields, which is
 * what JSON shows of it); the logged objects themselves are never changed.
 */
function redact(value: unknown, rule: Branch, skip?: ReadonlySet<string>): unknown {
  if (value === null || typeof value !== 'object') return value;
  const source = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in source) {
    if (!Object.prototype.hasOwnProperty.call(source, key) || skip?.has(key)) continue;
    const next = rule.keys.get(key) ?? rule.any;
    if (next === undefined) continue;
    const field = source[key];
    const out = next === CENSORED ? (field === undefined ? field : CENSOR) : redact(field, next);
    if (out !== field) {
      copy ??= Array.isArray(source) ? ([...(source as unknown[])] as unknown as Record<string, unknown>) : Object.assign(Object.create(Object.getPrototypeOf(source) as object | null) as object, source);
      copy[key] = out;
    }
  }
  return copy ?? value;
}
