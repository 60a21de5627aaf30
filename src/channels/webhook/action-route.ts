import type { z } from 'zod';
import type { CommandRegistry, CommandResult } from '../../app/commands/command.js';
import { runCommand, runEach } from '../../app/commands/run-command.js';
import { BouncerError } from '../../app/domain/errors.js';
import { normalizeSid } from '../../app/domain/ids.js';
import type { Outcome } from '../../app/domain/outcome.js';
import type { Moderation } from '../../app/moderation/moderation.js';
import type { CallRef, KeptAnswer, TargetRef, WebhookSecret } from '../../app/moderation/requests.js';
import type { RequestScope } from '../../app/moderation/steps/lookups.js';
import { NO_CHAT } from '../../app/ports/chat-directory.js';
import type { Clock, Logger } from '../../app/ports/runtime.js';
import type { IdempotencyStore, StoredResponse } from '../../app/ports/store.js';
import type { HttpAnswer, HttpInput, RawRoute } from '../../http/route.js';
import {
  bodyHash,
  claimKeys,
  entryKeys,
  idempotent,
  keep,
  webhookIdempotencyKeys,
  type IdempotencyDeps,
  type IdempotentAnswer,
  type IdempotentPending,
  type IdempotentResult,
} from './idempotency.js';
import { problem, type LabelsOf } from './problems.js';
import type { TargetBody, WebhookCallSyntax } from './schemas.js';
import { verifyStandardWebhook } from './standard-webhooks.js';

/** What every signed moderation route needs (main.ts gives the same to each). */
export interface ActionRouteDeps {
  moderation: Moderation;
  commands: CommandRegistry;
  idempotency: IdempotencyStore;
  /** How each provider names its calls in the body. */
  calls: readonly WebhookCallSyntax[];
  /** WEBHOOK_SECRETS: each secret, and the calls it may act on. */
  secrets: readonly WebhookSecret[];
  clock: Clock;
  logger: Logger;
  /** How long a request waits for its change before answering 202 with its case (WEBHOOK_SYNC_WAIT_MS). */
  syncWaitMs: number;
  /** Where changes answered 202 finish; a shutdown waits for them. */
  background: { track(work: Promise<unknown>): void };
  /** How long a duplicate delivery waits for the first one to finish. */
  waitForPendingMs?: number;
  /** How each provider's calls are named in problem details (the provider modules' labels). */
  labels?: LabelsOf;
}

/** What every action body says besides whom: the call, why, who acts, dry run (schemas.ts: `actionFields`). */
export interface ActionFields {
  call: unknown;
  reason?: string;
  actor?: string;
  dryRun: boolean;
}

/** A command's arguments as a webhook gives them: the call is named, and the policy asks about it. */
export interface WebhookArgs {
  call?: CallRef;
}

/**
 * One signed moderation route (`POST /api/moderation/<action>`): what is specific to the action.
 * Everything else (signature, content type, idempotency, 202 past the sync wait, bulk entries,
 * problem+json) is `moderationActionRoute`'s, the same for every action.
 */
export interface WebhookAction<B extends ActionFields, Bulk extends ActionFields = never> {
  /** `/api/moderation/<action>`. */
  path: string;
  /** The registered command each request (each bulk entry) runs, through the one runner. */
  command: string;
  /** The body of one request (one target, or none). */
  single: z.ZodType<B>;
  /**
   * The body naming several targets at once (`targets`, instead of `target`), and its entries as
   * bodies of their own: each is run, authorized, audited and deduplicated as if sent alone.
   */
  bulk?: { schema: z.ZodType<Bulk>; split(body: Bulk): B[] };
  /** The command's arguments for one body; `call` is the call the body names. */
  args(body: B, call: CallRef): WebhookArgs;
  /** The outcome as the API answers it (problems.ts: `outcomeResponse`). */
  respond(outcome: Outcome): StoredResponse;
  /** Work to start once a final answer is kept (e.g. telling the bound chat). */
  after?(outcome: Outcome, body: NoInfer<B>): void;
  /**
   * Whether a key's body is compared together with the path: a webhook-id or Idempotency-Key used
   * on another route is then refused (422) rather than answered with that route's answer. The kick
   * (whose kept keys predate the other routes) compares the body alone.
   */
  keysPerPath?: boolean;
}

const MAX_BODY_BYTES = 16 * 1024;

/** Where a case is read (GET), as the 202's Location names it. */
export const casePath = (caseId: number) => `/api/moderation/cases/${caseId}`;

/**
 * A signed moderation route: authenticate (Standard Webhooks) → content type → idempotency →
 * parse (zod) → the action's command, through the command runner → answer (200, 202 or
 * problem+json). The caller's authority comes from the secret that signed it (a scoped secret's
 * calls: the policy's `moderate_call` about the call the body names). Nothing about the secret is
 * revealed.
 *
 * One request: the answer within WEBHOOK_SYNC_WAIT_MS, else, once its case is open, 202 with the
 * case (`Location` to read it) while the change finishes in the background. Several targets
 * (`targets`, where the action has a bulk form): 200 with one entry per target, each run and
 * deduplicated as a request of its own (its keys are the message's with `#<index>`): a result, a
 * problem, or `{caseId, status: "pending"}`.
 */
export function moderationActionRoute<B extends ActionFields, Bulk extends ActionFields = never>(deps: ActionRouteDeps, action: WebhookAction<B, Bulk>): RawRoute {
  const found = deps.commands.find((c) => c.name === action.command);
  if (!found) throw new BouncerError('INTERNAL', `no ${action.command} command is registered`);
  // A webhook's permission is asked about the call it names: the signing secret's scope must name it.
  const command: typeof found = { ...found, question: (args, _ctx, authority) => ({ kind: 'moderate_call', authority, call: (args as WebhookArgs).call }) };
  const secrets = deps.secrets.map((s) => s.secret);
  const idem: IdempotencyDeps = {
    store: deps.idempotency,
    clock: deps.clock,
    waitForPendingMs: deps.waitForPendingMs,
    background: deps.background,
    logger: deps.logger,
  };
  const pathSalt = action.keysPerPath ? Buffer.from(`${action.path}\n`, 'utf8') : undefined;

  const handle = async (input: HttpInput): Promise<HttpAnswer> => {
    const signed = signedMessage(input, secrets, deps, action.path);
    if ('refused' in signed) return signed.refused;
    const message: Message = {
      ...signed,
      raw: input.body,
      keyed: pathSalt ? Buffer.concat([pathSalt, input.body]) : input.body,
      json: parseJson(input.body),
    };
    const bulk = action.bulk;
    const answer = bulk && isBulk(message.json) ? await actOnEach(message, bulk) : await idempotent(idem, () => actOnOne(message))(message.keys, message.keyed);
    const headers: Record<string, string> = {};
    if (answer.replayed) headers['idempotent-replayed'] = 'true';
    const accepted = answer.status === 202 ? (answer.body as { caseId?: unknown }).caseId : undefined;
    if (typeof accepted === 'number') headers.location = casePath(accepted);
    return { status: answer.status, body: answer.body, headers };
  };

  /** One request: its change, answered within the sync wait or accepted (202) once its case is open. */
  const actOnOne = async (m: Message): Promise<IdempotentResult | IdempotentPending> => {
    if (!m.json.ok) return final(problem('invalid-body', { detail: 'The body is not JSON.' }));
    const parsed = validate(action.single, m.json.value);
    if ('invalid' in parsed) return final(parsed.invalid);
    const body = parsed.body;
    const scope = messageScope(body, m);
    return actOne(scope, body, { requestId: m.requestId, idempotencyKeys: m.keys, answerBy: Date.now() + deps.syncWaitMs, secretIndex: m.secretIndex });
  };

  /**
   * Several targets. The message's own keys are claimed first: a reused webhook-id with another
   * body is refused (422), a message whose answer is kept is replayed. Another delivery of the
   * same message still running does not hold this one up: every entry has keys of its own
   * (`<key>#<index>`), so an entry is never run twice, and one that is done is answered from its
   * keys. The message's keys stay pending (bound to the body) until every entry is final and none
   * retryable, and then keep the whole answer; until then a retry runs what is left (entries that
   * failed retryably) and recomposes the rest.
   */
  const actOnEach = async (m: Message, bulk: NonNullable<WebhookAction<B, Bulk>['bulk']>): Promise<IdempotentAnswer> => {
    const claim = await claimKeys(idem, m.keys, bodyHash(m.keyed), 'proceed');
    if ('answer' in claim) return claim.answer;
    const parsed = validate(bulk.schema, m.json.ok ? m.json.value : undefined);
    if ('invalid' in parsed) {
      const stored = problemAnswer(parsed.invalid);
      await keep(deps.idempotency, m.keys, { stored });
      return { ...stored, replayed: false, settled: Promise.resolve() };
    }
    const bodies = bulk.split(parsed.body);
    const scope = messageScope(parsed.body, m);
    const answerBy = Date.now() + deps.syncWaitMs;
    const entries = await runEach(bodies, (body, index, ready) => {
      const keys = entryKeys(m.keys, index);
      return idempotent(idem, () =>
        actOne(scope, body, { requestId: `${m.requestId}#${index}`, idempotencyKeys: keys, answerBy, secretIndex: m.secretIndex, ready }),
      )(keys, m.keyed);
    });
    const stored: StoredResponse = { status: 200, body: { results: entries.map((e) => e.body) } };
    if (entries.every(isFinal)) await keep(deps.idempotency, m.keys, { stored });
    else deps.background.track(keepWhenFinal(m, entries));
    return { ...stored, replayed: false, settled: Promise.resolve() };
  };

  /** The message's answer, kept once the entries this delivery runs are done, if every entry is then final. */
  const keepWhenFinal = async (m: Message, entries: readonly IdempotentAnswer[]): Promise<void> => {
    try {
      await Promise.all(entries.map((e) => e.settled));
      const records = await Promise.all(entries.map((_e, index) => deps.idempotency.get(entryKeys(m.keys, index)[0]!)));
      const finals = records.map((r) => (r?.state === 'done' ? r.response : undefined));
      if (finals.every((f): f is StoredResponse => f !== undefined && isFinal(f))) {
        await keep(deps.idempotency, m.keys, { stored: { status: 200, body: { results: finals.map((f) => f.body) } } });
      }
    } catch (err) {
      // The keys stay pending: a retry of the message recomposes its answer.
      deps.logger.warn({ err, requestId: m.requestId, path: action.path }, 'could not keep the answer of a bulk request');
    }
  };

  /** The request of a message: the system that signed it, the call it names. */
  const messageScope = (body: ActionFields, m: Message): RequestScope => {
    const call = toCall(body.call as Record<string, string>, deps.calls);
    return deps.moderation.scope(
      {
        source: 'webhook',
        requestId: m.requestId,
        conversationId: call.kind === 'conversation' ? call.conversationId : undefined,
        actor: webhookActor(body.actor, m.secretIndex, deps.secrets),
      },
      NO_CHAT,
    );
  };

  /**
   * One request (or bulk entry) through the command runner: its final answer if it comes by
   * `answerBy`; after that, 202 as soon as its case is open (while it is still resolving the call
   * there is no case to give out yet), or its final answer if that comes first. The rest runs on
   * as `final`.
   */
  const actOne = async (
    scope: RequestScope,
    body: B,
    how: { requestId: string; idempotencyKeys: readonly string[]; answerBy: number; secretIndex: number; ready?: () => void },
  ): Promise<IdempotentResult | IdempotentPending> => {
    let opened!: (caseId: number) => void;
    const caseOpened = new Promise<number>((resolve) => {
      opened = resolve;
    });
    // The answer is kept under the keys with the completed case, in its transaction; `kept` says
    // for which outcome, so that it is not written again.
    let keptFor: Outcome | undefined;
    const keptAnswer: KeptAnswer = {
      answer: (outcome) => {
        const response = action.respond(outcome);
        return { response, retryable: isRetryableProblem(response) };
      },
      kept: (outcome) => {
        keptFor = outcome;
      },
    };
    const part = scope.part({
      requestId: how.requestId,
      idempotencyKeys: how.idempotencyKeys,
      onCaseOpened: (caseId) => {
        opened(caseId);
        how.ready?.();
      },
      keptAnswer,
    });
    const args = action.args(body, toCall(body.call as Record<string, string>, deps.calls));
    const work = runCommand({ command, args }, { moderation: deps.moderation, scope: part }, deps.commands).then((result) => {
      const answered = outcomeResult(result, body, how);
      return result.type === 'outcome' && keptFor !== undefined && result.outcome === keptFor ? { ...answered, kept: true } : answered;
    });
    const early = await answeredOrOpened(work, how.answerBy, caseOpened);
    if ('result' in early) return early.result;
    deps.logger.info({ requestId: how.requestId, caseId: early.caseId, path: action.path }, 'webhook request still running; answered 202');
    return { interim: { status: 202, body: { caseId: early.caseId, status: 'pending' } }, final: work };
  };

  /** An outcome as the API answers it; retryable problems are marked so, never to be kept. */
  const outcomeResult = (result: CommandResult, body: B, how: { requestId: string; secretIndex: number }): IdempotentResult => {
    if (result.type !== 'outcome') throw new BouncerError('INTERNAL', `the ${action.command} command answered ${result.type}`);
    const outcome = result.outcome;
    deps.logger.info({ requestId: how.requestId, command: action.command, outcome: outcome.kind, caseId: outcome.caseId, secretIndex: how.secretIndex }, 'webhook request');
    const stored = action.respond(outcome);
    const after = action.after;
    return { stored, retryable: isRetryableProblem(stored), after: after ? () => after(outcome, body) : undefined };
  };

  return { kind: 'raw', method: 'POST', path: action.path, maxBodyBytes: MAX_BODY_BYTES, handle };
}

/**
 * Who signed a moderation request (Standard Webhooks: the index of the secret whose signature
 * verified) and its idempotency keys, or the answer refusing it: 401 unsigned or badly signed,
 * 415 not JSON. Deduplicated on the signed webhook-id always; an Idempotency-Key (not signed) only
 * adds a second key, so a captured request resent with a new one gets the first answer, not a
 * second run.
 */
export function signedMessage(
  input: HttpInput,
  secrets: readonly string[],
  deps: { clock: Clock; logger: Logger },
  path: string,
): { refused: StoredResponse } | { secretIndex: number; keys: string[]; requestId: string } {
  const webhookId = input.header('webhook-id') || undefined;
  const secretIndex = verifyStandardWebhook(
    { id: webhookId, timestamp: input.header('webhook-timestamp') || undefined, signature: input.header('webhook-signature') || undefined, body: input.body },
    secrets,
    Math.floor(deps.clock.now().getTime() / 1000),
  );
  if (secretIndex === undefined || !webhookId) {
    deps.logger.warn({ ip: input.remoteAddress, webhookId, path }, 'rejected unsigned moderation request');
    return { refused: problemAnswer(problem('unauthorized')) };
  }
  if (!/^application\/json$/i.test(input.contentType ?? '')) return { refused: problemAnswer(problem('unsupported-media-type')) };
  const idempotencyKey = input.header('idempotency-key') || undefined;
  return { secretIndex, keys: webhookIdempotencyKeys(webhookId, idempotencyKey), requestId: idempotencyKey ?? webhookId };
}

/** The system a signed request acts as: its `actor` name, and the secret (and its scope) that signed it. */
export function webhookActor(displayName: string | undefined, secretIndex: number, secrets: readonly WebhookSecret[]) {
  return { kind: 'system' as const, displayName: displayName ?? 'webhook', credential: { scheme: 'standard-webhooks' as const, secretIndex, scope: secrets[secretIndex]?.scope } };
}

/** A signed message, before its body is read. */
export interface Message {
  raw: Buffer;
  /** What the idempotency keys' body hash is taken over: the body, or the path and the body (`keysPerPath`). */
  keyed: Buffer;
  json: { ok: true; value: unknown } | { ok: false };
  keys: string[];
  requestId: string;
  secretIndex: number;
}

export function parseJson(raw: Buffer): Message['json'] {
  try {
    return { ok: true, value: JSON.parse(raw.toString('utf8')) as unknown };
  } catch {
    return { ok: false };
  }
}

/** A body naming `targets` is a bulk request (the bulk schema then refuses one that also names `target`). */
function isBulk(json: Message['json']): boolean {
  return json.ok && json.value !== null && typeof json.value === 'object' && !Array.isArray(json.value) && 'targets' in json.value;
}

/** The body as the schema reads it, or the 400 saying what is wrong with it. */
export function validate<T>(schema: z.ZodType<T>, value: unknown): { body: T } | { invalid: ReturnType<typeof problem> } {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));
    return { invalid: problem('invalid-body', { errors }) };
  }
  const illFormed = illFormedStrings(parsed.data);
  if (illFormed.length > 0) {
    // JSON can escape a lone surrogate; no id, label or name holds one, and encoding it for an
    // upstream URL would throw.
    return { invalid: problem('invalid-body', { errors: illFormed.map((path) => ({ path, message: 'not well-formed Unicode (a lone surrogate)' })) }) };
  }
  return { body: parsed.data };
}

/** The work's final answer if it settles by `answerBy`; after that, whichever comes first: that answer, or the case opening. */
async function answeredOrOpened<T>(work: Promise<T>, answerBy: number, caseOpened: Promise<number>): Promise<{ result: T } | { caseId: number }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const accepted = new Promise<{ caseId: number }>((resolve) => {
    timer = setTimeout(() => void caseOpened.then((caseId) => resolve({ caseId })), Math.max(0, answerBy - Date.now()));
  });
  try {
    return await Promise.race([work.then((result) => ({ result })), accepted]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether an entry's answer is final: not still running, and not a failure a retry may fix. */
function isFinal(answer: StoredResponse): boolean {
  return answer.status !== 202 && !isRetryableProblem(answer);
}

export function isRetryableProblem(answer: StoredResponse): boolean {
  return answer.status >= 400 && (answer.body as { retryable?: unknown } | null)?.retryable === true;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Paths of the strings in a parsed body (a few levels deep, as the schema allows) that are not well-formed UTF-16. */
function illFormedStrings(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? [path || '(body)'] : [];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, v]) => illFormedStrings(v, path ? `${path}.${key}` : key));
}

export function problemAnswer(p: { status: number }): StoredResponse {
  return { status: p.status, body: p };
}

export function final(p: { status: number }): IdempotentResult {
  return { stored: problemAnswer(p) };
}

/** A target as a body names it, as the app names it. */
export function toTarget(t: TargetBody): TargetRef {
  if ('userId' in t) return { kind: 'user', userId: t.userId.toLowerCase() };
  if ('participantId' in t) return { kind: 'participant', participantId: t.participantId };
  if ('callSid' in t) return { kind: 'participant', participantId: normalizeSid(t.callSid) };
  if ('label' in t) return { kind: 'label', label: t.label };
  return { kind: 'phone', number: t.phoneNumber };
}

/** The call a body names, as the app names it. */
export function toCall(c: Record<string, string>, calls: readonly WebhookCallSyntax[]): CallRef {
  const conversationId = c.conversationId;
  if (conversationId !== undefined) return { kind: 'conversation', conversationId };
  for (const syntax of calls) {
    const idOrName = c[syntax.field];
    if (idOrName !== undefined) return { kind: 'call', provider: syntax.provider, idOrName };
  }
  throw new BouncerError('INTERNAL', 'a call reference passed the schema but names no known call');
}
