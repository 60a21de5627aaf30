import type { Outcome } from '../../domain/outcome.js';
import { liveBinding } from '../../domain/participant.js';
import type { CallProvider, MeetingDetails } from '../../ports/call-provider.js';
import { meetingProviderEntry, now, providerOf, type ModerationDeps } from '../deps.js';
import { decide, type Authority, type Question } from '../policy.js';
import type { BindRequest, Unrecorded } from '../requests.js';
import { CaseRecorder } from '../steps/audit.js';
import type { Access, RequestScope } from '../steps/lookups.js';
import { ensureCall } from '../steps/resolve-call.js';

/** What a bind will act on, known before any lookup. */
export interface BindPlan {
  provider: CallProvider;
  /** The meeting a join link names (a bind from another chat). */
  linked?: MeetingDetails;
}

/** The provider and linked meeting of a bind, or why it cannot be done at all. */
export function planBind(deps: ModerationDeps, req: BindRequest): BindPlan | { refused: Unrecorded } {
  const kind = req.target?.provider ?? meetingProviderEntry(deps)?.kind;
  if (kind === undefined) return { refused: { kind: 'not_configured', missing: [] } };
  const choice = providerOf(deps, kind);
  if ('missing' in choice) return { refused: { kind: 'not_configured', missing: choice.missing } };
  if (req.target?.kind !== 'link') return { provider: choice.provider };
  const linked = choice.provider.meetingFromJoinUrl?.(req.target.url);
  return linked ? { provider: choice.provider, linked } : { refused: { kind: 'not_bound', reason: 'invalid_join_link' } };
}

/**
 * Who may bind, as far as is known before the action runs: moderators of this chat. A meeting
 * named by link is for its organizer and admins from any chat, but its organizer is only known once
 * the backend confirms it (`confirmLinkedMeeting`): the action asks that question itself, and
 * records its denial.
 */
export function bindQuestion(plan: BindPlan, authority: Authority): Question {
  return plan.linked ? { kind: 'use', permission: 'anyone', authority } : { kind: 'use', permission: 'moderator', authority };
}

/**
 * The linked meeting with its organizer and tenant as the backend confirms them; neither is ever
 * taken from the link. Unconfirmed (or a backend that cannot confirm): no organizer, no tenant.
 */
async function confirmLinkedMeeting(provider: CallProvider, linked: MeetingDetails): Promise<MeetingDetails> {
  const confirmed = provider.confirmMeetingOrganizer ? await provider.confirmMeetingOrganizer(linked.joinUrl) : undefined;
  return { meetingId: linked.meetingId, joinUrl: linked.joinUrl, organizerUserId: confirmed?.organizerUserId, tenantId: confirmed?.tenantId };
}

/**
 * Binds the chat to a call: its own meeting's call (joined now), another meeting by its join link,
 * or a provider's call by id or name (Twilio conferences). Audited.
 */
export async function bind(req: BindRequest, scope: RequestScope): Promise<Outcome> {
  const { deps } = scope;
  const recorder = new CaseRecorder(deps, req, 'bind');
  const plan = planBind(deps, req);
  if ('refused' in plan) return recorder.record(plan.refused);
  let access: Access;
  try {
    access = await scope.access();
  } catch (err) {
    return recorder.recordFailure(err);
  }
  const { provider } = plan;
  let linked: MeetingDetails | undefined;
  try {
    linked = plan.linked && (await confirmLinkedMeeting(provider, plan.linked));
  } catch (err) {
    return recorder.recordFailure(err);
  }
  const verdict = decide(
    linked
      ? { kind: 'bind_link', authority: access.authority, confirmedOrganizerUserId: linked.organizerUserId }
      : bindQuestion(plan, access.authority),
  );
  if (!verdict.allowed) return recorder.record({ kind: 'denied', reason: verdict.reason });

  const current = liveBinding(access.binding);
  // Binding to another meeting replaces whatever this chat was bound to.
  const live = linked && current?.joinUrl !== linked.joinUrl ? undefined : current;
  try {
    if (req.target?.kind !== 'named') {
      const ensured = await ensureCall(deps, req, provider, live?.provider === provider.kind ? live : undefined, linked ?? access.meeting);
      if ('outcome' in ensured) return recorder.record(ensured.outcome);
      recorder.on(ensured.binding.callId);
      return recorder.record({ kind: 'bound', provider: provider.kind, callId: ensured.binding.callId, alreadyBound: live?.callId === ensured.binding.callId });
    }
    if (!provider.findCall) return recorder.record({ kind: 'unsupported', provider: provider.kind, capability: 'bind' });
    const { idOrName } = req.target;
    const configuredHere = (call: { callId?: string; callName?: string }) =>
      provider.chatsConfiguredFor?.(call).includes(req.conversationId) ?? false;
    // Decided before the lookup where the name itself settles it, so that a refused asker learns
    // nothing about which conferences exist.
    const early = decide({ kind: 'bind_call', authority: access.authority, configuredForChat: configuredHere({ callId: idOrName, callName: idOrName }) });
    if (!early.allowed && early.reason !== 'call_not_for_chat') return recorder.record({ kind: 'denied', reason: early.reason });
    const found = await provider.findCall(idOrName);
    if (!early.allowed) {
      // Named by id: it may be configured by its friendly name. Not found or not configured: the same answer.
      const configured = found.kind !== 'not_found' && configuredHere({ callId: found.callId, callName: found.kind === 'found' ? found.callName : undefined });
      const late = decide({ kind: 'bind_call', authority: access.authority, configuredForChat: configured });
      if (!late.allowed) return recorder.record({ kind: 'denied', reason: late.reason });
    }
    if (found.kind !== 'found') {
      const reason = found.kind === 'not_found' ? 'conference_not_found' : 'conference_not_in_progress';
      return recorder.record({ kind: 'not_bound', reason, provider: provider.kind });
    }
    recorder.on(found.callId);
    const alreadyBound = live?.provider === provider.kind && live.callId === found.callId;
    if (!alreadyBound) {
      const at = now(deps);
      await deps.store.bindings.save({
        conversationId: req.conversationId,
        provider: provider.kind,
        callId: found.callId,
        callName: found.callName,
        state: 'established',
        replyAddress: req.replyAddress,
        createdAt: at,
        updatedAt: at,
      });
      // Warm the roster now, so that the first kick costs a single call.
      await deps.store.roster.replace(found.callId, await provider.listParticipants(found.callId));
    }
    return recorder.record({ kind: 'bound', provider: provider.kind, callId: found.callId, callName: found.callName, alreadyBound });
  } catch (err) {
    return recorder.recordFailure(err);
  }
}
