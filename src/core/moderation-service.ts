import type { CallStateEvents } from './call-events.js';
import { UpstreamError } from './errors.js';
import type { DenialReason, NotBoundReason, Outcome, TargetSummary } from './outcome.js';
import type { CallBinding, Participant } from './participant.js';
import { decideKick } from './policy.js';
import type {
  CallProvider,
  CaseResult,
  ChatDirectory,
  Clock,
  Logger,
  MeetingDetails,
  MeetingRole,
  ModerationAction,
  NewCase,
  RequestSource,
  Store,
} from './ports.js';

/** Who asked, as the transport authenticated them. */
export interface Actor {
  /** Chat id (Teams `29:…`). */
  chatId?: string;
  /** Entra object id. */
  userId?: string;
  displayName?: string;
}

/** What every moderation request carries, whatever its action. */
export interface RequestBase {
  source: RequestSource;
  requestId: string;
  /** The chat the request came from; its binding names the call. */
  conversationId: string;
  /** Bot Framework service URL of the chat, kept with the binding for later messages. */
  serviceUrl?: string;
  /** The bot's own chat id, so that nobody can make it remove itself. */
  botChatId?: string;
  actor: Actor;
}

export interface KickRequest extends RequestBase {
  action: 'kick';
  target: { chatId: string; displayName?: string };
  reason?: string;
}

export interface BindRequest extends RequestBase {
  action: 'bind';
}

export type ModerationRequest = KickRequest | BindRequest;

export interface ModerationServiceDeps {
  store: Store;
  /** Absent when the backend is not configured; `missingConfig` then says what to set. */
  provider?: CallProvider;
  missingConfig: string[];
  events: CallStateEvents;
  clock: Clock;
  logger: Logger;
  adminUserIds: ReadonlySet<string>;
  /** `${PUBLIC_BASE_URL}/api/calls`; undefined when no public URL is configured. */
  callbackUrl?: string;
  joinTimeoutMs: number;
}

type Unrecorded = DistributiveOmit<Outcome, 'caseId'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * The one place moderation happens, whatever the transport: authorize → resolve → act → audit.
 * Every request becomes an audit case; a removal is written as pending before the upstream call.
 */
export class ModerationService {
  constructor(private readonly deps: ModerationServiceDeps) {}

  execute(request: ModerationRequest, directory: ChatDirectory): Promise<Outcome> {
    return request.action === 'kick' ? this.kick(request, directory) : this.bind(request, directory);
  }

  private async kick(req: KickRequest, directory: ChatDirectory): Promise<Outcome> {
    const base = this.caseBase(req, 'kick');
    base.targetChatId = req.target.chatId;
    base.targetName = req.target.displayName;
    base.reason = req.reason;
    const summary: TargetSummary = { displayName: req.target.displayName };

    if (req.botChatId && req.target.chatId === req.botChatId) {
      return this.record(base, { kind: 'denied', reason: 'bot', target: summary });
    }
    if (req.actor.chatId && req.target.chatId === req.actor.chatId) {
      return this.record(base, { kind: 'denied', reason: 'self', target: summary });
    }
    // Without a backend nothing can happen; say so before asking Teams anything.
    const provider = this.deps.provider;
    if (!provider) return this.record(base, { kind: 'not_configured', missing: this.deps.missingConfig });

    let looked: Lookups & { target?: { userId?: string; displayName?: string } };
    try {
      // Independent lookups run together: target identity, actor role, meeting, binding.
      const [target, rest] = await Promise.all([directory.getUser(req.target.chatId), this.lookups(req, directory)]);
      looked = { ...rest, target };
    } catch (err) {
      return this.recordUpstreamFailure(base, err);
    }
    const targetUserId = looked.target?.userId?.toLowerCase();
    summary.userId = targetUserId;
    summary.displayName = looked.target?.displayName ?? summary.displayName;
    base.targetUserId = targetUserId;
    base.targetName = summary.displayName;

    const decision = decideKick({
      actorRole: looked.role,
      actorIsAdmin: this.isAdmin(req.actor.userId),
      targetIsActor: !!targetUserId && targetUserId === req.actor.userId?.toLowerCase(),
      targetIsBot: false,
      targetIsOrganizer: !!targetUserId && targetUserId === looked.meeting?.organizerUserId?.toLowerCase(),
    });
    if (!decision.allowed) return this.record(base, { kind: 'denied', reason: decision.reason, target: summary });

    let binding: CallBinding;
    try {
      const ensured = await this.ensureCall(req, looked.binding, looked.meeting);
      if ('reason' in ensured) return this.record(base, { kind: 'not_bound', reason: ensured.reason });
      if ('missing' in ensured) return this.record(base, { kind: 'not_configured', missing: ensured.missing });
      binding = ensured.binding;
    } catch (err) {
      return this.recordUpstreamFailure(base, err);
    }
    base.callId = binding.callId;

    let matches: Participant[];
    try {
      matches = targetUserId ? await this.findParticipants(binding.callId, targetUserId) : [];
    } catch (err) {
      return this.recordUpstreamFailure(base, err);
    }
    if (matches.length === 0) {
      return this.record(base, { kind: 'target_not_found', target: summary, callId: binding.callId });
    }

    const participantIds = matches.map((p) => p.participantId);
    const caseId = await this.deps.store.openCase(base);
    try {
      // The same person may be in the call from several devices: remove every endpoint.
      const results: Array<'removed' | 'already_gone'> = [];
      for (const id of participantIds) results.push(await provider.removeParticipant(binding.callId, id));
      await this.deps.store.removeParticipants(binding.callId, participantIds);
      const outcome: Outcome = results.includes('removed')
        ? { kind: 'removed', caseId, target: summary, callId: binding.callId, participantIds }
        : { kind: 'already_gone', caseId, target: summary, callId: binding.callId };
      await this.deps.store.closeCase(caseId, { outcome: outcome.kind, callId: binding.callId, participantIds }, this.now());
      return outcome;
    } catch (err) {
      const failure = this.upstreamFailure(err);
      await this.deps.store.closeCase(
        caseId,
        { outcome: failure.kind, callId: binding.callId, participantIds, detail: detailOf(failure) },
        this.now(),
      );
      return { ...failure, caseId };
    }
  }

  private async bind(req: BindRequest, directory: ChatDirectory): Promise<Outcome> {
    const base = this.caseBase(req, 'bind');
    if (!this.deps.provider) return this.record(base, { kind: 'not_configured', missing: this.deps.missingConfig });
    let looked: Lookups;
    try {
      looked = await this.lookups(req, directory);
    } catch (err) {
      return this.recordUpstreamFailure(base, err);
    }
    const isAdmin = this.isAdmin(req.actor.userId);
    if (!isAdmin && looked.role !== 'organizer' && looked.role !== 'presenter') {
      const reason: DenialReason = looked.role === 'unknown' ? 'unknown_role' : 'not_permitted';
      return this.record(base, { kind: 'denied', reason });
    }
    const alreadyBound = !!looked.binding && looked.binding.state !== 'terminated';
    try {
      const ensured = await this.ensureCall(req, looked.binding, looked.meeting);
      if ('reason' in ensured) return this.record(base, { kind: 'not_bound', reason: ensured.reason });
      if ('missing' in ensured) return this.record(base, { kind: 'not_configured', missing: ensured.missing });
      base.callId = ensured.binding.callId;
      return this.record(base, { kind: 'bound', callId: ensured.binding.callId, alreadyBound });
    } catch (err) {
      return this.recordUpstreamFailure(base, err);
    }
  }

  private async lookups(req: RequestBase, directory: ChatDirectory): Promise<Lookups> {
    const [role, meeting, binding] = await Promise.all([
      directory.getActorMeetingRole(),
      directory.getMeeting(),
      this.deps.store.getBinding(req.conversationId),
    ]);
    return { role, meeting, binding };
  }

  /** The chat's live call, joining the meeting's call when there is none yet. */
  private async ensureCall(
    req: RequestBase,
    existing: CallBinding | undefined,
    meeting: MeetingDetails | undefined,
  ): Promise<{ binding: CallBinding } | { reason: NotBoundReason } | { missing: string[] }> {
    const { provider, events, store, callbackUrl, joinTimeoutMs } = this.deps;
    if (existing && existing.state === 'established') return { binding: existing };
    if (!provider) throw new Error('ensureCall needs a provider');

    let binding = existing && existing.state === 'establishing' ? existing : undefined;
    if (!binding) {
      if (!meeting) return { reason: 'not_a_meeting' };
      if (!callbackUrl) return { missing: ['PUBLIC_BASE_URL'] };
      const joined = await provider.joinMeeting({ joinUrl: meeting.joinUrl, tenantId: meeting.tenantId, callbackUrl });
      const now = this.now();
      binding = {
        conversationId: req.conversationId,
        provider: provider.kind,
        callId: joined.callId,
        state: events.lastState(joined.callId) ?? joined.state,
        meetingId: meeting.meetingId,
        joinUrl: meeting.joinUrl,
        tenantId: meeting.tenantId,
        serviceUrl: req.serviceUrl,
        createdAt: now,
        updatedAt: now,
      };
      await store.saveBinding(binding);
      this.deps.logger.info({ callId: binding.callId, conversationId: req.conversationId }, 'joined meeting call');
    }
    if (binding.state === 'established') return { binding };
    const state = await events.waitFor(binding.callId, ['established', 'terminated'], joinTimeoutMs);
    if (state === 'established') return { binding: { ...binding, state } };
    if (state === 'terminated') return { reason: 'call_ended' };
    return { reason: 'join_timeout' };
  }

  /** The target's endpoints in the call: from the roster, else (cold or stale) from a list call. */
  private async findParticipants(callId: string, userId: string): Promise<Participant[]> {
    const match = (roster: Participant[]) =>
      roster.filter((p) => p.kind === 'user' && p.identityId?.toLowerCase() === userId);
    const roster = await this.deps.store.listRoster(callId);
    const fromRoster = match(roster);
    if (fromRoster.length > 0 || !this.deps.provider) return fromRoster;
    const listed = await this.deps.provider.listParticipants(callId);
    await this.deps.store.upsertParticipants(callId, listed);
    return match(listed);
  }

  private caseBase(req: RequestBase, action: ModerationAction): NewCase {
    return {
      createdAt: this.now(),
      source: req.source,
      action,
      requestId: req.requestId,
      conversationId: req.conversationId,
      actorChatId: req.actor.chatId,
      actorUserId: req.actor.userId?.toLowerCase(),
      actorName: req.actor.displayName,
    };
  }

  private async record(base: NewCase, outcome: Unrecorded): Promise<Outcome> {
    const result: CaseResult = {
      outcome: outcome.kind,
      callId: 'callId' in outcome ? outcome.callId : base.callId,
      detail: detailOf(outcome),
    };
    const caseId = await this.deps.store.openCase(base, result, this.now());
    return { ...outcome, caseId } as Outcome;
  }

  private recordUpstreamFailure(base: NewCase, err: unknown): Promise<Outcome> {
    return this.record(base, this.upstreamFailure(err));
  }

  /** Outages become an outcome the user can read; anything else is a bug and is rethrown. */
  private upstreamFailure(err: unknown): Extract<Unrecorded, { kind: 'upstream_failed' }> {
    if (!(err instanceof UpstreamError)) throw err;
    this.deps.logger.warn({ err, service: err.service, requestId: err.requestId }, 'upstream failure');
    return { kind: 'upstream_failed', service: err.service, requestId: err.requestId, retryable: err.retryable };
  }

  private isAdmin(userId: string | undefined): boolean {
    return !!userId && this.deps.adminUserIds.has(userId.toLowerCase());
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

interface Lookups {
  role: MeetingRole;
  meeting?: MeetingDetails;
  binding?: CallBinding;
}

function detailOf(outcome: Unrecorded): Record<string, unknown> {
  switch (outcome.kind) {
    case 'denied':
    case 'not_bound':
      return { reason: outcome.reason };
    case 'not_configured':
      return { missing: outcome.missing };
    case 'upstream_failed':
      return { service: outcome.service, requestId: outcome.requestId, retryable: outcome.retryable };
    default:
      return {};
  }
}
