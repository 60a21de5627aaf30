import { BouncerError, isOutage } from '../../app/domain/errors.js';
import type { Logger } from '../../app/ports/runtime.js';
import { parseJsonInSlices } from '../../http/json-in-slices.js';
import { httpProblem } from '../../http/problem.js';
import type { HttpAnswer, HttpInput, RawRoute } from '../../http/route.js';
import { commsNotificationsSchema, type CallNotificationHandler } from './call-notifications.js';
import type { CallsTokenVerifier } from './notification-auth.js';

export const CALLS_PATH = '/api/calls';

/**
 * POST /api/calls: Graph call notifications. Authenticated by the calling platform's JWT before
 * the body is read (`admit`), and again before it is looked at; without a Graph client id nothing
 * can be verified, so nothing is accepted. Bodies up to `maxBodyBytes` (CALLS_MAX_BODY_BYTES) are
 * read: a 10,000-participant roster is parsed and stored in turns of a few milliseconds, so other
 * requests go on meanwhile. Answers 202 (no body) once applied; 401 unauthorized, 503 unavailable
 * (the signing keys cannot be had: the platform retries), 400 invalid-body, 413 too large, all as
 * problem+json.
 */
export function callsRoute(deps: {
  verifier?: CallsTokenVerifier;
  handler: CallNotificationHandler;
  logger: Logger;
  maxBodyBytes: number;
}): RawRoute {
  /** A refusal when the request is not from the calling platform, else undefined. */
  async function authenticate(input: Pick<HttpInput, 'header' | 'remoteAddress'>): Promise<HttpAnswer | undefined> {
    if (!deps.verifier) {
      deps.logger.warn({ ip: input.remoteAddress }, 'rejected call notification: Graph is not configured');
      return httpProblem('unauthorized');
    }
    try {
      await deps.verifier.verify(input.header('authorization'));
      return undefined;
    } catch (err) {
      if (isOutage(err)) {
        deps.logger.error({ err }, 'cannot verify call notifications');
        return httpProblem('unavailable');
      }
      if (err instanceof BouncerError && err.code === 'NOTIFICATION_UNAUTHORIZED') {
        deps.logger.warn({ reason: err.message, ip: input.remoteAddress }, 'rejected call notification');
        return httpProblem('unauthorized');
      }
      throw err;
    }
  }

  return {
    kind: 'raw',
    method: 'POST',
    path: CALLS_PATH,
    maxBodyBytes: deps.maxBodyBytes,
    admit: authenticate,
    async handle(input): Promise<HttpAnswer> {
      const refused = await authenticate(input);
      if (refused) return refused;
      let body: unknown;
      try {
        body = await parseJsonInSlices(input.body);
      } catch {
        body = undefined;
      }
      const parsed = commsNotificationsSchema.safeParse(body);
      if (!parsed.success) {
        deps.logger.warn({ issues: parsed.error.issues.slice(0, 5) }, 'malformed call notification');
        return httpProblem('invalid-body', { detail: 'The body is not a Graph commsNotifications object.' });
      }
      await deps.handler.handle(parsed.data);
      return { status: 202 };
    },
  };
}
