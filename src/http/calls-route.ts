import type { Request, Response } from 'restify';
import { BouncerError, UpstreamError } from '../core/errors.js';
import type { Logger } from '../core/ports.js';
import { commsNotificationsSchema, type CallNotificationHandler } from '../providers/graph/call-notifications.js';
import type { CallsTokenVerifier } from '../providers/graph/notification-auth.js';

/**
 * POST /api/calls: Graph call notifications. Authenticated by the calling platform's JWT before
 * anything is read; without Graph configuration nothing can be verified, so nothing is accepted.
 */
export function callsRoute(deps: {
  verifier?: CallsTokenVerifier;
  handler: CallNotificationHandler;
  logger: Logger;
}) {
  return async (req: Request, res: Response): Promise<void> => {
    if (!deps.verifier) {
      res.send(401, { error: 'unauthorized' });
      return;
    }
    try {
      await deps.verifier.verify(req.header('authorization'));
    } catch (err) {
      if (err instanceof UpstreamError) {
        deps.logger.error({ err }, 'cannot verify call notifications');
        res.send(503, { error: 'unavailable' });
        return;
      }
      if (err instanceof BouncerError && err.code === 'NOTIFICATION_UNAUTHORIZED') {
        deps.logger.warn({ reason: err.message, ip: req.socket.remoteAddress }, 'rejected call notification');
        res.send(401, { error: 'unauthorized' });
        return;
      }
      throw err;
    }
    let body: unknown;
    try {
      body = JSON.parse(typeof req.body === 'string' ? req.body : String(req.body ?? ''));
    } catch {
      body = undefined;
    }
    const parsed = commsNotificationsSchema.safeParse(body);
    if (!parsed.success) {
      deps.logger.warn({ issues: parsed.error.issues.slice(0, 5) }, 'malformed call notification');
      res.send(400, { error: 'invalid notification body' });
      return;
    }
    await deps.handler.handle(parsed.data);
    res.send(202);
  };
}
