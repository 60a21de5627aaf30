import { BouncerError, isOutage } from '../../app/domain/errors.js';
import type { Logger } from '../../app/ports/runtime.js';
import { httpProblem } from '../../http/problem.js';
import type { HttpAnswer, RawRoute } from '../../http/route.js';
import { commsNotificationsSchema, type CallNotificationHandler } from './call-notifications.js';
import type { CallsTokenVerifier } from './notification-auth.js';

export const CALLS_PATH = '/api/calls';
const MAX_BODY_BYTES = 512 * 1024;

/**
 * POST /api/calls: Graph call notifications. Authenticated by the calling platform's JWT before
 * anything is read; without a Graph client id nothing can be verified, so nothing is accepted.
 * Answers 202 (no body) once applied; 401 unauthorized, 503 unavailable (the signing keys cannot
 * be had: the platform retries), 400 invalid-body, all as problem+json.
 */
export function callsRoute(deps: { verifier?: CallsTokenVerifier; handler: CallNotificationHandler; logger: Logger }): RawRoute {
  return {
    kind: 'raw',
    method: 'POST',
    path: CALLS_PATH,
    maxBodyBytes: MAX_BODY_BYTES,
    async handle(input): Promise<HttpAnswer> {
      if (!deps.verifier) {
        deps.logger.warn({ ip: input.remoteAddress }, 'rejected call notification: Graph is not configured');
        return httpProblem('unauthorized');
      }
      try {
        await deps.verifier.verify(input.header('authorization'));
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
      let body: unknown;
      try {
        body = JSON.parse(input.body.toString('utf8'));
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
