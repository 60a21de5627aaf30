import type { BanArgs } from '../../app/commands/ban.js';
import type { MuteArgs } from '../../app/commands/mute.js';
import type { UnbanArgs } from '../../app/commands/unban.js';
import type { WarnArgs } from '../../app/commands/warn.js';
import { BouncerError } from '../../app/domain/errors.js';
import type { RawRoute } from '../../http/route.js';
import type { Outcome } from '../../app/domain/outcome.js';
import type { CallRef } from '../../app/moderation/requests.js';
import { moderationActionRoute, toCall, toTarget, type ActionFields, type ActionRouteDeps } from './action-route.js';
import { parseIsoDuration } from './iso-duration.js';
import { outcomeResponse } from './problems.js';
import {
  banRequestSchema,
  bulkBanRequestSchema,
  bulkMuteRequestSchema,
  bulkUnbanRequestSchema,
  bulkWarnRequestSchema,
  muteRequestSchema,
  unbanRequestSchema,
  warnRequestSchema,
  type WebhookPersonAction,
} from './schemas.js';

/** A bulk body's entries as bodies of their own: the same fields, one target each. */
const eachTarget = <T, R extends object>({ targets, ...rest }: R & { targets: readonly T[] }) => targets.map((target) => ({ ...rest, target }));

/** A change a system made that the chat bound to the call should hear of (main.ts tells it). */
export type SystemChange = Extract<Outcome, { kind: 'banned' | 'unbanned' | 'muted' | 'unmuted' }>;

export interface PersonRoutesDeps extends ActionRouteDeps {
  /**
   * Tells the chat of the call a body names about a ban, a lifted ban, a mute or an unmute (never a
   * warning: that is private), once its answer is kept. `call` as the body named it.
   */
  onChanged?: (outcome: SystemChange, request: { actor?: string; reason?: string; call: CallRef }) => void;
}

/**
 * POST /api/moderation/ban, /unban, /mute, /unmute and /warn: the chat commands of the same names
 * (so the same actions, policy and audit, with source `webhook`), through the shared signed route
 * (action-route.ts), each with the kick's body: `call`, `target` or `targets`, `reason`, `actor`,
 * `dryRun`. A ban also takes `duration` (ISO 8601); an unban may name the ban's case (`caseId`)
 * instead of a target; a warning's reason is required (it is what the person is told).
 */
export function moderationPersonRoutes(deps: PersonRoutesDeps): RawRoute[] {
  const { calls } = deps;
  const respond = (action: WebhookPersonAction) => (outcome: Parameters<typeof outcomeResponse>[0]) => outcomeResponse(outcome, action, deps.labels);
  const path = (action: WebhookPersonAction) => `/api/moderation/${action}`;
  const { onChanged } = deps;
  const after = onChanged
    ? <B extends ActionFields>(outcome: Outcome, body: B) => {
        const told = outcome.kind === 'banned' || outcome.kind === 'muted' || outcome.kind === 'unmuted' || (outcome.kind === 'unbanned' && outcome.banCaseIds.length > 0);
        if (told) onChanged(outcome, { actor: body.actor, reason: body.reason, call: toCall(body.call as Record<string, string>, calls) });
      }
    : undefined;
  const muteRoute = (action: 'mute' | 'unmute') =>
    moderationActionRoute(deps, {
      path: path(action),
      command: action,
      keysPerPath: true,
      single: muteRequestSchema(calls),
      bulk: { schema: bulkMuteRequestSchema(calls), split: eachTarget },
      args: (body, call): MuteArgs => ({ target: toTarget(body.target), call, reason: body.reason, dryRun: body.dryRun }),
      respond: respond(action),
      after,
    });

  return [
    moderationActionRoute(deps, {
      path: path('ban'),
      command: 'ban',
      keysPerPath: true,
      single: banRequestSchema(calls),
      bulk: { schema: bulkBanRequestSchema(calls), split: eachTarget },
      args: (body, call): BanArgs => ({
        target: toTarget(body.target),
        call,
        reason: body.reason,
        durationMs: body.duration === undefined ? undefined : durationMs(body.duration),
        everywhere: false,
        dryRun: body.dryRun,
      }),
      respond: respond('ban'),
      after,
    }),
    moderationActionRoute(deps, {
      path: path('unban'),
      command: 'unban',
      keysPerPath: true,
      single: unbanRequestSchema(calls),
      bulk: { schema: bulkUnbanRequestSchema(calls), split: eachTarget },
      args: (body, call): UnbanArgs => {
        const target = body.target && toTarget(body.target);
        return {
          // The schema takes exactly one of the two; a target that names a call leg is not among its forms.
          ban: target && target.kind !== 'participant' ? { kind: 'target', target } : { kind: 'case', caseId: body.caseId ?? 0 },
          call,
          reason: body.reason,
          dryRun: body.dryRun,
        };
      },
      respond: respond('unban'),
      after,
    }),
    muteRoute('mute'),
    muteRoute('unmute'),
    moderationActionRoute(deps, {
      path: path('warn'),
      command: 'warn',
      keysPerPath: true,
      single: warnRequestSchema(calls),
      bulk: { schema: bulkWarnRequestSchema(calls), split: eachTarget },
      args: (body, call): WarnArgs => ({ target: toTarget(body.target), call, reason: body.reason, dryRun: body.dryRun }),
      respond: respond('warn'),
    }),
  ];
}

/** A duration the schema has accepted, in milliseconds. */
function durationMs(text: string): number {
  const parsed = parseIsoDuration(text);
  if ('problem' in parsed) throw new BouncerError('INTERNAL', `a ban duration passed the schema but does not parse: ${text}`);
  return parsed.ms;
}
