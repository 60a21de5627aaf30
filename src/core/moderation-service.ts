import type { CallStateEvents } from './call-events.js';
import { UpstreamError } from './errors.js';
import type { DenialReason, NotBoundReason, Outcome, TargetSummary } from './outcome.js';
import type { CallBinding, Participant, ProviderKind } from './participant.js';
import { decideKick } from './policy.js';
import type {
  AuditCase,
  CallProvider,
  CaseResult,
  ChatDirectory,
  ChatUser,
  Clock,
  Logger,
  MeetingDetails,
  MeetingRole,
  ModerationAction,
  NewCase,
  RequestSource,
  Store,
  UserPhoneDirectory,
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
  /** The chat the request came from; its binding names the call. Absent for webhook calls named directly. */
  conversationId?: string;
  /** Bot Framework service URL of the chat, kept with the binding for later messages. */
  serviceUrl?: string;
  /** The bot's own chat id, so that nobody can make it remove itself. */
  botChatId?: string;
  actor: Actor;
}

/** Whom to remove: a mentioned chat member, a phone number (E.164), a label, or a participant id / CallSid. */
export type TargetRef =
  | { kind: 'mention'; chatId: string; displayName?: string }
  | { kind: 'user'; userId: string }
  | { kind: 'phone'; number: string }
  | { kind: 'label'; label: string }
  | { kind: 'participant'; participantId: string; displayName?: string };

export type ReadView = { kind: 'status' } | { kind: 'roster' } | { kind: 'modlog'; limit: number };

export type ReadResult =
  | {
      kind: 'status';
      binding?: CallBinding;
      live: boolean;
      rosterSize: number;
      configured: Record<ProviderKind, boolean>;
      /** Calls and conferences are simulated by the local sandbox (npm run playground). */
      sandbox: boolean;
    }
  | { kind: 'roster'; binding?: CallBinding; participants: Participant[] }
  | { kind: 'modlog'; cases: AuditCase[] }
  | { kind: 'denied'; reason: DenialReason }
  | Extract<Unrecorded, { kind: 'upstream_failed' }>;

/** A call named directly (webhooks), instead of through the chat's binding. */
export type CallRef =
  | { kind: 'conversation'; conversationId: string }
  | { kind: 'teams_call'; callId: string }
  | { kind: 'twilio_conference'; sidOrName: string };

export interface KickRequest extends RequestBase {
  action: 'kick';
  target: TargetRef;
  reason?: string;
  /** Names the call directly; otherwise the call bound to `conversationId` (joined on demand for Teams). */
  call?: CallRef;
  /** Resolve and authorize, but remove nobody; audited as a dry run. */
  dryRun?: boolean;
  /** The call a card button was made for: when the chat's call has changed, the card is stale. */
  expectedCallId?: string;
}

export interface BindRequest extends RequestBase {
  action: 'bind';
  conversationId: string;
  /** Bind to the meeting of this Teams join link (from any chat) instead of the chat's own meeting. */
  joinUrl?: string;
  /** Bind to a Twilio conference (SID or friendly name) instead of the chat's Teams meeting. */
  twilioConference?: string;
}

export interface UnbindRequest extends RequestBase {
  action: 'unbind';
  conversationId: string;
}

export type ModerationRequest = KickRequest | BindRequest | UnbindRequest;

export interface ModerationServiceDeps {
  store: Store;
  /** The configured backends; a missing one answers `not_configured` with `missingConfig[kind]`. */
  providers: Partial<Record<ProviderKind, CallProvider>>;
  missingConfig: Partial<Record<ProviderKind, string[]>>;
  /** Phone numbers of directory users (Graph), to match a mention to a phone participant. */
  phones?: UserPhoneDirectory;
  events: CallStateEvents;
  clock: Clock;
  logger: Logger;
  adminUserIds: ReadonlySet<string>;
  /** `${PUBLIC_BASE_URL}/api/calls`; undefined when no public URL is configured. */
  callbackUrl?: string;
  joinTimeoutMs: number;
  /** Sandbox mode: said in /status so nobody mistakes simulated calls for real ones. */
  sandbox?: boolean;
}

type Unrecorded = DistributiveOmit<Outcome, 'caseId'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Ensured = { binding: CallBinding } | { outcome: Unrecorded };

/**
 * The one place moderation happens, whatever the transport: authorize → resolve → act → audit.
 * Every request becomes an audit case; a removal is written as pending before the upstream call.
 */
export class ModerationService {
  constructor(private readonly deps: ModerationServiceDeps) {}

  execute(request: ModerationRequest, directory: ChatDirectory): Promise<Outcome> {
    switch (request.action) {
      case 'kick':
        return this.kick(request, directory);
      case 'bind':
        return this.bind(request, directory);
      case 'unbind':
        return this.unbind(request, directory);
    }
  }

  private async kick(req: KickRequest, directory: ChatDirectory): Promise<Outcome> {
    const base = this.caseBase(req, 'kick');
    base.reason = req.reason;
    const summary = summarize(req.target);
    describeTarget(base, summary, req.target);

    const t = req.target;
    if (t.kind === 'mention' && req.botChatId && t.chatId === req.botChatId) {
      return this.record(base, { kind: 'denied', reason: 'bot', target: summary });
    }
    if (t.kind === 'mention' && req.actor.chatId && t.chatId === req.actor.chatId) {
      return this.record(base, { kind: 'denied', reason: 'self', target: summary });
    }

    // With no backend at all nothing can happen: say so before asking Teams anything.
    if (Object.keys(this.deps.providers).length === 0) {
      return this.record(base, { kind: 'not_configured', missing: this.deps.missingConfig.teams ?? [] });
    }

    let looked: Lookups & { user?: ChatUser };
    try {
      // Independent lookups run together: target identity, actor role, meeting, binding.
      const [user, rest] = await Promise.all([
        t.kind === 'mention' ? directory.getUser(t.chatId) : t.kind === 'user' ? { userId: t.userId } : undefined,
        this.lookups(req, directory),
      ]);
      looked = { ...rest, user };
    } catch (err) {
      return this.recordUpstreamFailure(base, err);
    }
    const targetUserId = looked.user?.userId?.toLowerCase();
    if (looked.user) {
      summary.userId = targetUserId;
      summary.displayName = looked.user.displayName ?? summary.displayName;
      describeTarget(base, summary, t);
    }

    const decision = decideKick({
      actorRole: looked.role,
      // A webhook sender proved it holds a configured secret: it acts as an admin.
      actorIsAdmin: req.source === 'webhook' || this.isAdmin(req.actor.userId),
      targetIsActor: !!targetUserId && targetUserId === req.actor.userId?.toLowerCase(),
      targetIsBot: false,
      targetIsOrganizer: !!targetUserId && targetUserId === looked.organizerUserId?.toLowerCase(),
    });
    if (!decision.allowed) return this.record(base, { kind: 'denied', reason: decision.reason, target: summary });

    const call = await this.callFor(req, looked);
    if ('outcome' in call) return this.record(base, call.outcome);
    if ('error' in call) return this.recordUpstreamFailure(base, call.error);
    const { provider, binding } = call;
    const kind = provider.kind;
    base.conversationId ??= binding.conversationId || undefined;
    base.callId = binding.callId;

    let matches: Participant[];
    try {
      matches = await this.findParticipants(provider, binding.callId, t, looked.user, req.dryRun === true);
    } catch (err) {
      return this.recordUpstreamFailure(base, err);
    }

    // The same Teams user in the call from several devices is one person: remove every endpoint.
    const samePerson =
      (t.kind === 'mention' || t.kind === 'user') &&
      matches.length > 1 &&
      matches.every((m) => m.kind === 'user' && m.identityId === targetUserId);
    if (matches.length > 1 && !samePerson) {
      return this.record(base, {
        kind: 'ambiguous_target',
        target: summary,
        candidates: matches.map((m) => ({
          participantId: m.participantId,
          displayName: m.displayName,
          label: m.label,
          phoneNumber: m.phoneNumbers?.[0],
        })),
      });
    }

    // Targets named by number, label or id are only known now: apply the same rules to who they are.
    if (t.kind !== 'mention') {
      const actorId = req.actor.userId?.toLowerCase();
      const organizer = looked.organizerUserId?.toLowerCase();
      const late = decideKick({
        actorRole: looked.role,
        actorIsAdmin: req.source === 'webhook' || this.isAdmin(req.actor.userId),
        targetIsActor: !!actorId && matches.some((m) => m.kind === 'user' && m.identityId === actorId),
        targetIsBot: matches.some((m) => m.kind === 'application'),
        targetIsOrganizer: !!organizer && matches.some((m) => m.kind === 'user' && m.identityId === organizer),
      });
      if (!late.allowed) return this.record(base, { kind: 'denied', reason: late.reason, target: summary });
    }

    // Name the person as the call knows them when the request did not (webhooks give ids).
    if (!summary.displayName && matches[0]?.displayName) {
      summary.displayName = matches[0].displayName;
      describeTarget(base, summary, t);
    }

    // A label names a Twilio participant by itself: even with a cold roster, one DELETE does it.
    const byLabelOnly = matches.length === 0 && t.kind === 'label' && kind === 'twilio';
    if (matches.length === 0 && !byLabelOnly) {
      return this.record(base, { kind: 'target_not_found', target: summary, callId: binding.callId });
    }
    const keys = byLabelOnly ? [(t as { label: string }).label] : matches.map((p) => p.participantId);
    if (req.dryRun) {
      return this.record(base, { kind: 'dry_run', target: summary, callId: binding.callId, participantIds: keys });
    }

    const caseId = await this.deps.store.openCase(base);
    try {
      const results: Array<'removed' | 'already_gone'> = [];
      for (const key of keys) results.push(await provider.removeParticipant(binding.callId, key));
      if (!byLabelOnly) await this.deps.store.removeParticipants(binding.callId, keys);
      const outcome: Outcome = results.includes('removed')
        ? { kind: 'removed', caseId, target: summary, callId: binding.callId, participantIds: keys }
        : byLabelOnly
          ? { kind: 'target_not_found', caseId, target: summary, callId: binding.callId }
          : { kind: 'already_gone', caseId, target: summary, callId: binding.callId };
      await this.deps.store.closeCase(caseId, { outcome: outcome.kind, callId: binding.callId, participantIds: keys }, this.now());
      return outcome;
    } catch (err) {
      const failure = this.upstreamFailure(err);
      await this.deps.store.closeCase(
        caseId,
        { outcome: failure.kind, callId: binding.callId, participantIds: keys, detail: detailOf(failure) },
        this.now(),
      );
      return { ...failure, caseId };
    }
  }

  /** The provider and call a kick acts on: named directly, or the chat's binding (Teams joins on demand). */
  private async callFor(
    req: KickRequest,
    looked: Lookups,
  ): Promise<{ provider: CallProvider; binding: CallBinding } | { outcome: Unrecorded } | { error: unknown }> {
    try {
      let live: CallBinding | undefined;
      if (req.call) {
        const explicit = await this.explicitCall(req.call);
        if ('outcome' in explicit) return explicit;
        live = explicit.binding;
      } else {
        live = liveBinding(looked.binding);
        if (req.expectedCallId !== undefined && live?.callId !== req.expectedCallId) {
          return { outcome: { kind: 'not_bound', reason: 'card_stale' } };
        }
        // A chat whose conference ended (or was unbound) is not silently switched to its Teams meeting.
        if (!live && looked.binding?.provider === 'twilio') return { outcome: { kind: 'not_bound', reason: 'no_binding' } };
      }
      const kind: ProviderKind = live?.provider ?? 'teams';
      const provider = this.deps.providers[kind];
      if (!provider) return { outcome: { kind: 'not_configured', missing: this.deps.missingConfig[kind] ?? [] } };
      const ensured = await this.ensureCall(req, provider, live, looked.meeting);
      return 'outcome' in ensured ? ensured : { provider, binding: ensured.binding };
    } catch (err) {
      return { error: err };
    }
  }

  /** A call named by a webhook: a bound chat, a Teams call id, or a Twilio conference (SID or name). */
  private async explicitCall(call: CallRef): Promise<{ binding: CallBinding } | { outcome: Unrecorded }> {
    const { store } = this.deps;
    const adHoc = (provider: ProviderKind, callId: string, callName?: string): CallBinding => {
      const now = this.now();
      return { conversationId: '', provider, callId, callName, state: 'established', createdAt: now, updatedAt: now };
    };
    switch (call.kind) {
      case 'conversation': {
        const bound = liveBinding(await store.getBinding(call.conversationId));
        return bound ? { binding: bound } : { outcome: { kind: 'not_bound', reason: 'no_binding' } };
      }
      case 'teams_call': {
        const bound = liveBinding(await store.findBindingByCallId(call.callId));
        return { binding: bound ?? adHoc('teams', call.callId) };
      }
      case 'twilio_conference': {
        const twilio = this.deps.providers.twilio;
        if (!twilio) return { outcome: { kind: 'not_configured', missing: this.deps.missingConfig.twilio ?? [] } };
        if (!twilio.findConference) return { outcome: { kind: 'unsupported', provider: 'twilio', capability: 'find conference' } };
        const found = await twilio.findConference(call.sidOrName);
        if (found.kind !== 'found') {
          return { outcome: { kind: 'not_bound', reason: found.kind === 'not_found' ? 'conference_not_found' : 'conference_not_in_progress' } };
        }
        const bound = liveBinding(await store.findBindingByCallId(found.sid));
        return { binding: bound ?? adHoc('twilio', found.sid, found.friendlyName) };
      }
    }
  }

  private async bind(req: BindRequest, directory: ChatDirectory): Promise<Outcome> {
    const base = this.caseBase(req, 'bind');
    const kind: ProviderKind = req.twilioConference !== undefined ? 'twilio' : 'teams';
    const provider = this.deps.providers[kind];
    if (!provider) return this.record(base, { kind: 'not_configured', missing: this.deps.missingConfig[kind] ?? [] });
    // A join link names a meeting of another chat: its organizer (from the link) or an admin may bind it.
    const meeting = req.joinUrl !== undefined ? provider.meetingFromJoinUrl?.(req.joinUrl) : undefined;
    if (req.joinUrl !== undefined && !meeting) return this.record(base, { kind: 'not_bound', reason: 'invalid_join_link' });
    const managed = await this.authorizeManagement(req, base, directory, meeting?.organizerUserId);
    if ('outcome' in managed) return managed.outcome;
    const { looked } = managed;
    // Binding to another meeting replaces whatever this chat was bound to.
    const live = meeting && managed.live?.joinUrl !== meeting.joinUrl ? undefined : managed.live;

    try {
      if (kind === 'teams') {
        const ensured = await this.ensureCall(req, provider, live?.provider === 'teams' ? live : undefined, meeting ?? looked.meeting);
        if ('outcome' in ensured) return this.record(base, ensured.outcome);
        base.callId = ensured.binding.callId;
        return this.record(base, {
          kind: 'bound',
          provider: kind,
          callId: ensured.binding.callId,
          alreadyBound: live?.callId === ensured.binding.callId,
        });
      }
      if (!provider.findConference) return this.record(base, { kind: 'unsupported', provider: kind, capability: 'bind' });
      const found = await provider.findConference(req.twilioConference!);
      if (found.kind !== 'found') {
        const reason: NotBoundReason = found.kind === 'not_found' ? 'conference_not_found' : 'conference_not_in_progress';
        return this.record(base, { kind: 'not_bound', reason });
      }
      base.callId = found.sid;
      const alreadyBound = live?.provider === 'twilio' && live.callId === found.sid;
      if (!alreadyBound) {
        const now = this.now();
        await this.deps.store.saveBinding({
          conversationId: req.conversationId,
          provider: 'twilio',
          callId: found.sid,
          callName: found.friendlyName,
          state: 'established',
          serviceUrl: req.serviceUrl,
          createdAt: now,
          updatedAt: now,
        });
        // Warm the roster now, so that the first kick costs a single call.
        await this.deps.store.replaceRoster(found.sid, await provider.listParticipants(found.sid));
      }
      return this.record(base, { kind: 'bound', provider: kind, callId: found.sid, callName: found.friendlyName, alreadyBound });
    } catch (err) {
      return this.recordUpstreamFailure(base, err);
    }
  }

  private async unbind(req: UnbindRequest, directory: ChatDirectory): Promise<Outcome> {
    const base = this.caseBase(req, 'unbind');
    const managed = await this.authorizeManagement(req, base, directory);
    if ('outcome' in managed) return managed.outcome;
    const { live } = managed;
    if (!live) return this.record(base, { kind: 'not_bound', reason: 'no_binding' });
    base.callId = live.callId;
    await this.deps.store.saveBinding({ ...live, state: 'terminated', updatedAt: this.now() });
    try {
      await this.deps.providers[live.provider]?.leaveCall?.(live.callId);
    } catch (err) {
      // The chat is unbound either way; a call leg left behind ends with the meeting.
      this.deps.logger.warn({ err, callId: live.callId }, 'could not leave the call');
    }
    return this.record(base, { kind: 'unbound', provider: live.provider, callId: live.callId, callName: live.callName });
  }

  /** Binding and unbinding: organizers, presenters and admins. Returns the lookups, or the recorded outcome. */
  private async authorizeManagement(
    req: RequestBase,
    base: NewCase,
    directory: ChatDirectory,
    /** The organizer of a meeting named by link, who may manage it from any chat. */
    linkedOrganizer?: string,
  ): Promise<{ looked: Lookups; live?: CallBinding } | { outcome: Outcome }> {
    let looked: Lookups;
    try {
      looked = await this.lookups(req, directory);
    } catch (err) {
      return { outcome: await this.recordUpstreamFailure(base, err) };
    }
    const role = looked.role;
    const allowed = linkedOrganizer
      ? this.isAdmin(req.actor.userId) || req.actor.userId?.toLowerCase() === linkedOrganizer.toLowerCase()
      : this.isAdmin(req.actor.userId) || role === 'organizer' || role === 'presenter';
    if (!allowed) {
      const reason: DenialReason = !linkedOrganizer && role === 'unknown' ? 'unknown_role' : 'not_permitted';
      return { outcome: await this.record(base, { kind: 'denied', reason }) };
    }
    return { looked, live: liveBinding(looked.binding) };
  }

  /** Whether the actor may use moderator commands here (for /help); false when Teams cannot say. */
  async isModerator(req: RequestBase, directory: ChatDirectory): Promise<boolean> {
    if (this.isAdmin(req.actor.userId)) return true;
    try {
      const role = await directory.getActorMeetingRole();
      return role === 'organizer' || role === 'presenter';
    } catch {
      return false;
    }
  }

  /**
   * Read-only moderator views of the chat: its status, its call's roster, its recent cases.
   * Authorized like /bind; not audited (nothing changes).
   */
  async read(req: RequestBase, directory: ChatDirectory, view: ReadView): Promise<ReadResult> {
    let looked: Lookups;
    try {
      looked = await this.lookups(req, directory);
    } catch (err) {
      return this.upstreamFailure(err);
    }
    if (!this.isAdmin(req.actor.userId) && looked.role !== 'organizer' && looked.role !== 'presenter') {
      return { kind: 'denied', reason: looked.role === 'unknown' ? 'unknown_role' : 'not_permitted' };
    }
    const binding = liveBinding(looked.binding);
    const configured = { teams: !!this.deps.providers.teams, twilio: !!this.deps.providers.twilio };
    try {
      switch (view.kind) {
        case 'status': {
          const rosterSize = binding ? (await this.deps.store.listRoster(binding.callId)).filter((p) => p.kind !== 'application').length : 0;
          return { kind: 'status', binding: looked.binding, live: !!binding, rosterSize, configured, sandbox: !!this.deps.sandbox };
        }
        case 'roster': {
          if (!binding) return { kind: 'roster', participants: [] };
          let participants = await this.deps.store.listRoster(binding.callId);
          const provider = this.deps.providers[binding.provider];
          if (participants.length === 0 && provider) {
            participants = await provider.listParticipants(binding.callId);
            await this.deps.store.upsertParticipants(binding.callId, participants);
          }
          return { kind: 'roster', binding, participants: participants.filter((p) => p.kind !== 'application') };
        }
        case 'modlog':
          return {
            kind: 'modlog',
            cases: req.conversationId ? await this.deps.store.listCases({ conversationId: req.conversationId, limit: view.limit }) : [],
          };
      }
    } catch (err) {
      return this.upstreamFailure(err);
    }
  }

  private async lookups(req: RequestBase, directory: ChatDirectory): Promise<Lookups> {
    const [role, meeting, binding] = await Promise.all([
      directory.getActorMeetingRole(),
      directory.getMeeting(),
      req.conversationId === undefined ? undefined : this.deps.store.getBinding(req.conversationId),
    ]);
    // In a chat bound to a meeting by its link there is no meeting role to read: the meeting's
    // organizer is known from the link, and is the organizer here too.
    const organizer = meeting?.organizerUserId ?? liveBinding(binding)?.organizerUserId;
    const actor = req.actor.userId?.toLowerCase();
    const effective = role === 'unknown' && !meeting && !!actor && actor === organizer?.toLowerCase() ? 'organizer' : role;
    return { role: effective, meeting, binding, organizerUserId: organizer };
  }

  /** The chat's live call; for Teams, joins the meeting's call when there is none yet. */
  private async ensureCall(
    req: RequestBase,
    provider: CallProvider,
    live: CallBinding | undefined,
    meeting: MeetingDetails | undefined,
  ): Promise<Ensured> {
    const { events, store, callbackUrl, joinTimeoutMs } = this.deps;
    if (live && live.state === 'established') return { binding: live };
    let binding = live && live.state === 'establishing' ? live : undefined;
    if (!binding) {
      const conversationId = req.conversationId;
      if (!meeting || conversationId === undefined) return { outcome: { kind: 'not_bound', reason: 'not_a_meeting' } };
      if (!provider.joinMeeting) return { outcome: { kind: 'unsupported', provider: provider.kind, capability: 'join' } };
      // A link the backend cannot read (e.g. a newer short link) is an answer, not a crash.
      if (provider.meetingFromJoinUrl && !provider.meetingFromJoinUrl(meeting.joinUrl)) {
        return { outcome: { kind: 'not_bound', reason: 'invalid_join_link' } };
      }
      if (!callbackUrl) return { outcome: { kind: 'not_configured', missing: ['PUBLIC_BASE_URL'] } };
      const joined = await provider.joinMeeting({ joinUrl: meeting.joinUrl, tenantId: meeting.tenantId, callbackUrl });
      const now = this.now();
      binding = {
        conversationId,
        provider: provider.kind,
        callId: joined.callId,
        state: events.lastState(joined.callId) ?? joined.state,
        meetingId: meeting.meetingId,
        joinUrl: meeting.joinUrl,
        tenantId: meeting.tenantId,
        organizerUserId: meeting.organizerUserId,
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
    return { outcome: { kind: 'not_bound', reason: state === 'terminated' ? 'call_ended' : 'join_timeout' } };
  }

  /** The target's participants: from the roster, else (cold or stale) from a list call. */
  private async findParticipants(
    provider: CallProvider,
    callId: string,
    target: TargetRef,
    user: ChatUser | undefined,
    verify: boolean,
  ): Promise<Participant[]> {
    const roster = await this.deps.store.listRoster(callId);
    let matcher = participantMatcher(target, user, []);
    let found = roster.filter(matcher);
    // A Twilio label addresses the participant by itself: no list call, the DELETE will tell
    // (unless nothing will be deleted, as in a dry run: then look).
    if (found.length > 0 || (target.kind === 'label' && provider.kind === 'twilio' && !verify)) return found;
    // Phone callers can be matched to a mention through the user's profile numbers (one lookup).
    if ((target.kind === 'mention' || target.kind === 'user') && provider.kind !== 'teams' && user?.userId) {
      matcher = participantMatcher(target, user, await this.profilePhones(user.userId));
      found = roster.filter(matcher);
      if (found.length > 0) return found;
    }
    const listed = await provider.listParticipants(callId);
    await this.deps.store.upsertParticipants(callId, listed);
    return listed.filter(matcher);
  }

  /** Profile phone numbers, or none when the directory is missing or fails (the kick goes on). */
  private async profilePhones(userId: string): Promise<string[]> {
    if (!this.deps.phones) return [];
    try {
      return await this.deps.phones.getPhoneNumbers(userId);
    } catch (err) {
      this.deps.logger.warn({ err, userId }, 'could not read the user\'s phone numbers');
      return [];
    }
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
    return {
      kind: 'upstream_failed',
      service: err.service,
      requestId: err.requestId,
      code: err.vendorCode,
      moreInfo: err.moreInfo,
      retryable: err.retryable,
    };
  }

  private isAdmin(userId: string | undefined): boolean {
    return !!userId && this.deps.adminUserIds.has(userId.toLowerCase());
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

function liveBinding(binding: CallBinding | undefined): CallBinding | undefined {
  return binding && binding.state !== 'terminated' ? binding : undefined;
}

interface Lookups {
  role: MeetingRole;
  /** The meeting's organizer: from the meeting, else from the binding (a chat bound by link). */
  organizerUserId?: string;
  meeting?: MeetingDetails;
  binding?: CallBinding;
}

/**
 * Which roster entries a target names. A mention matches a Teams user by Entra id, or a phone
 * participant whose label is the user's id, UPN or display name (case-insensitive) or whose number
 * is one of the user's phone numbers.
 */
export function participantMatcher(target: TargetRef, user: ChatUser | undefined, userPhones: string[]) {
  switch (target.kind) {
    case 'phone':
      return (p: Participant) => !!p.phoneNumbers?.includes(target.number);
    case 'label':
      return (p: Participant) => p.label === target.label;
    case 'participant':
      return (p: Participant) => p.participantId === target.participantId;
    case 'user':
    case 'mention': {
      const userId = user?.userId?.toLowerCase();
      const names = new Set(
        [userId, user?.userPrincipalName, user?.displayName, target.kind === 'mention' ? target.displayName : undefined]
          .filter((n): n is string => !!n)
          .map((n) => n.toLowerCase()),
      );
      return (p: Participant) =>
        (p.kind === 'user' && !!userId && p.identityId?.toLowerCase() === userId) ||
        (p.label !== undefined && names.has(p.label.toLowerCase())) ||
        (p.kind !== 'user' && !!p.phoneNumbers?.some((n) => userPhones.includes(n)));
    }
  }
}

function summarize(target: TargetRef): TargetSummary {
  switch (target.kind) {
    case 'mention':
      return { displayName: target.displayName };
    case 'user':
      return { userId: target.userId.toLowerCase() };
    case 'phone':
      return { phoneNumber: target.number };
    case 'label':
      return { label: target.label };
    case 'participant':
      return { participantId: target.participantId, displayName: target.displayName };
  }
}

function describeTarget(base: NewCase, summary: TargetSummary, target: TargetRef): void {
  base.targetChatId = target.kind === 'mention' ? target.chatId : undefined;
  base.targetUserId = summary.userId;
  base.targetName = summary.displayName ?? summary.label ?? summary.phoneNumber ?? summary.participantId;
}

function detailOf(outcome: Unrecorded): Record<string, unknown> {
  switch (outcome.kind) {
    case 'denied':
    case 'not_bound':
      return { reason: outcome.reason };
    case 'not_configured':
      return { missing: outcome.missing };
    case 'ambiguous_target':
      return { candidates: outcome.candidates };
    case 'unsupported':
      return { provider: outcome.provider, capability: outcome.capability };
    case 'upstream_failed':
      return {
        service: outcome.service,
        requestId: outcome.requestId,
        code: outcome.code,
        moreInfo: outcome.moreInfo,
        retryable: outcome.retryable,
      };
    default:
      return {};
  }
}
