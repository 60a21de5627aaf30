import type { KickArgs } from '../../app/commands/kick.js';
import type { Outcome } from '../../app/domain/outcome.js';
import type { RawRoute } from '../../http/route.js';
import { moderationActionRoute, toTarget, type ActionRouteDeps } from './action-route.js';
import { outcomeResponse } from './problems.js';
import { bulkKickRequestSchema, kickRequestSchema } from './schemas.js';

export interface KickRouteDeps extends ActionRouteDeps {
  /** Tells the chat bound to the call about a removal a system made. */
  onRemoved?: (outcome: Extract<Outcome, { kind: 'removed' }>, request: { actor?: string; reason?: string }) => void;
}

/**
 * POST /api/moderation/kick: the kick command for one target (`target`) or several (`targets`),
 * through the shared signed route (action-route.ts); a removal is told to the bound chat.
 */
export function moderationKickRoute(deps: KickRouteDeps): RawRoute {
  const { onRemoved } = deps;
  return moderationActionRoute(deps, {
    path: '/api/moderation/kick',
    command: 'kick',
    single: kickRequestSchema(deps.calls),
    bulk: { schema: bulkKickRequestSchema(deps.calls), split: ({ targets, ...rest }) => targets.map((target) => ({ ...rest, target })) },
    args: (body, call): KickArgs => ({ target: toTarget(body.target), call, reason: body.reason, dryRun: body.dryRun }),
    respond: (outcome) => outcomeResponse(outcome, 'kick', deps.labels),
    after: onRemoved
      ? (outcome, body) => {
          if (outcome.kind === 'removed') onRemoved(outcome, { actor: body.actor, reason: body.reason });
        }
      : undefined,
  });
}
