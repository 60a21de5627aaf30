import type { TargetSummary } from '../domain/outcome.js';
import type { CallBinding, Participant, ProviderKind } from '../domain/participant.js';
import type { CallAdmission } from '../ports/call-admission.js';
import type { CallProvider } from '../ports/call-provider.js';
import type { ChatNotifier } from '../ports/chat-notifier.js';
import { BAN_EVERYWHERE, type Ban, type BanIdentity } from '../ports/store.js';
import type { ParticipantsSeen } from './call-events.js';
import { now, type ModerationDeps } from './deps.js';
import { NoticeCoalescer } from './notice-coalescer.js';
import type { RequestBase } from './requests.js';
import { CaseRecorder } from './steps/audit.js';
import { newNoticeToken, noticeBeforeRemoval, noticeDetail } from './steps/notify-participant.js';
import { claimRemoval, settleRemoval } from './steps/removals-in-flight.js';

export interface BanEnforcerDeps extends Pick<ModerationDeps, 'store' | 'providers' | 'clock' | 'logger' | 'notifyRemoved' | 'publicBaseUrl' | 'notices'> {
  /** Where the chats bound to a call hear of each removal; none: nobody is told. */
  notifier?: ChatNotifier;
  /** At most one summary notice per chat per interval after the first (BAN_NOTICE_INTERVAL_MS). */
  noticeIntervalMs: number;
}

/** What subscribes the enforcer to the backends' reports of who is in a call. */
export interface ParticipantReports {
  onParticipants(listener: (seen: ParticipantsSeen) => Promise<void>): () => void;
}

/**
 * Keeps banned people out. Every report of participants in a call (a roster notification, a
 * conference's participant-join) is checked against the active bans of the call's chats (bound to
 * it by id or by name, or configured for it) and the everywhere bans; each banned participant,
 * lobby included, is removed through the call's provider as its own audit case (source `auto`,
 * detail `banCaseId`), and the chats bound to the call are told, coalesced. Before a call is
 * answered (Twilio's voice webhook), `admits` says whether the caller is banned.
 */
export class BanEnforcer implements CallAdmission {
  private readonly notices?: NoticeCoalescer;
  private stopListening?: () => void;

  constructor(private readonly deps: BanEnforcerDeps) {
    if (deps.notifier) this.notices = new NoticeCoalescer(deps.notifier, deps.noticeIntervalMs, deps.logger);
  }

  /** Starts enforcing on every report of participants. */
  start(reports: ParticipantReports): void {
    this.stopListening = reports.onParticipants((seen) => this.enforce(seen));
  }

  /** Stops enforcing, and sends the summaries still due. */
  async stop(): Promise<void> {
    this.stopListening?.();
    await this.notices?.flush();
  }

  async admits(call: { provider: ProviderKind; callId?: string; callName?: string }, caller: { phoneNumber?: string }): Promise<boolean> {
    if (!caller.phoneNumber) return true;
    const { chats } = await this.chatsOf(call);
    const bans = await this.deps.store.bans.findActive([...chats, BAN_EVERYWHERE], [{ kind: 'phone', value: caller.phoneNumber }], now(this.deps));
    if (bans.length > 0) this.deps.logger.info({ callName: call.callName, banCaseId: bans[0]!.caseId }, 'a banned caller was turned away');
    return bans.length === 0;
  }

  /** Removes the banned among the participants seen. Failures are logged, never thrown. */
  async enforce(seen: ParticipantsSeen): Promise<void> {
    const { deps } = this;
    try {
      const provider = deps.providers.find((p) => p.kind === seen.provider)?.provider;
      const present = seen.participants.filter((p) => p.kind !== 'application' && identitiesOf(p).length > 0);
      if (!provider || present.length === 0) return;
      const { chats, bindings } = await this.chatsOf(seen);
      const bans = await this.activeBans([...chats, BAN_EVERYWHERE], present);
      if (bans.length === 0) return;
      const removals: Array<Promise<void>> = [];
      for (const participant of present) {
        // The oldest ban that names them is the one enforced.
        const ban = bans.find((b) => names(b, participant));
        if (ban) removals.push(this.remove(provider, seen, participant, ban, bindings));
      }
      await Promise.all(removals);
    } catch (err) {
      deps.logger.error({ err, callId: seen.callId }, 'could not enforce bans');
    }
  }

  /**
   * The active bans of `scopes` that name any of `present`, oldest first. A few participants (a
   * join) are looked up by identity; a whole roster (a Graph roster notification lists everyone,
   * thousands in a big meeting) is matched against the scopes' bans when they are few, as they
   * usually are, and looked up by identity otherwise.
   */
  private async activeBans(scopes: string[], present: Participant[]): Promise<Ban[]> {
    const { store } = this.deps;
    const at = now(this.deps);
    const identities = present.flatMap(identitiesOf);
    if (identities.length <= FEW_IDENTITIES) return store.bans.findActive(scopes, identities, at);
    const listed = await store.bans.listActive(scopes, at, FEW_BANS + 1);
    if (listed.length > FEW_BANS) return store.bans.findActive(scopes, identities, at);
    const keys = new Set(identities.map(keyOf));
    return listed.filter((b) => b.identities.some((i) => keys.has(keyOf(i)))).reverse();
  }

  /** The chats a call belongs to: bound to it by id, or by name (a conference of that name), or configured for it. */
  private async chatsOf(call: { provider: ProviderKind; callId?: string; callName?: string }): Promise<{ chats: string[]; bindings: CallBinding[] }> {
    const { store, providers } = this.deps;
    const [byId, byName] = await Promise.all([
      call.callId ? store.bindings.listByCallId(call.callId) : [],
      call.callName ? store.bindings.listByCallName(call.provider, call.callName) : [],
    ]);
    const bindings = [...byId, ...byName.filter((b) => !byId.some((x) => x.conversationId === b.conversationId))];
    const configured = providers.find((p) => p.kind === call.provider)?.provider?.chatsConfiguredFor?.(call) ?? [];
    return { chats: [...new Set([...bindings.map((b) => b.conversationId), ...configured])], bindings };
  }

  private async remove(provider: CallProvider, seen: ParticipantsSeen, p: Participant, ban: Ban, bindings: CallBinding[]): Promise<void> {
    const { deps } = this;
    // A roster repeated (or late) while they are being removed, or just after, starts nothing.
    if (!claimRemoval(deps.store, seen.callId, p.participantId)) return;
    let done = false;
    try {
      const target: TargetSummary = {
        displayName: p.displayName ?? ban.targetName,
        userId: p.kind === 'user' ? p.identityId : undefined,
        label: p.label,
        phoneNumber: p.phoneNumbers?.[0],
        participantId: p.participantId,
      };
      const request: RequestBase = {
        source: 'auto',
        requestId: `ban-${ban.caseId}:${seen.callId}:${p.participantId}`,
        conversationId: ban.scope === BAN_EVERYWHERE ? bindings[0]?.conversationId : ban.scope,
        actor: { kind: 'bouncer', displayName: 'Bouncer' },
      };
      const targetRef = { kind: 'participant', participantId: p.participantId } as const;
      const recorder = new CaseRecorder(deps, request, 'kick', ban.reason).about(target, targetRef).detail({ banCaseId: ban.caseId });
      // NOTIFY_REMOVED: told they are banned, and why, just before (in the meeting, where a chat of
      // the call has one). A caller is not: an announcement would keep them in the conference for as
      // long as it takes to say it (the voice webhook turns them away before they are answered).
      const meeting = bindings.find((b) => b.meetingId && b.replyAddress) ?? bindings[0];
      const token = deps.notifyRemoved && provider.capabilities.meetingNotifications && !provider.announce && meeting ? newNoticeToken() : undefined;
      const outcome = await recorder.act(
        seen.callId,
        [p.participantId],
        async (caseId) => {
          const notice = token
            ? await noticeBeforeRemoval(
                deps,
                { target: targetRef, reason: ban.reason },
                { provider, binding: meeting!, matches: [p], keys: [p.participantId] },
                { caseId, token },
                { kind: 'banned', maxMs: ENFORCEMENT_NOTICE_MAX_MS },
              )
            : undefined;
          const result = await provider.removeParticipant(seen.callId, p.participantId);
          await deps.store.roster.remove(seen.callId, [p.participantId]);
          return result === 'removed'
            ? { kind: 'removed', target, callId: seen.callId, participantIds: [p.participantId], ...(notice ? { notice } : {}) }
            : { kind: 'already_gone', target, callId: seen.callId };
        },
        token ? noticeDetail(token) : undefined,
      );
      done = outcome.kind === 'removed' || outcome.kind === 'already_gone';
      deps.logger.info({ callId: seen.callId, caseId: outcome.caseId, banCaseId: ban.caseId, outcome: outcome.kind }, 'enforced a ban');
      if (outcome.kind !== 'removed') return;
      for (const b of bindings) {
        if (!b.replyAddress || !b.conversationId) continue;
        this.notices?.removal(
          { conversationId: b.conversationId, replyAddress: b.replyAddress, tenantId: b.tenantId },
          { kind: 'ban_enforced', outcome, banCaseId: ban.caseId, everywhere: ban.scope === BAN_EVERYWHERE },
        );
      }
    } catch (err) {
      deps.logger.error({ err, callId: seen.callId, banCaseId: ban.caseId }, 'could not remove a banned participant');
    } finally {
      settleRemoval(deps.store, seen.callId, p.participantId, done);
    }
  }
}

/** What a participant can be banned by: a Teams user's Entra id, their numbers, their label. */
function identitiesOf(p: Participant): BanIdentity[] {
  const out: BanIdentity[] = [];
  if (p.kind === 'user' && p.identityId) out.push({ kind: 'user', value: p.identityId.toLowerCase() });
  for (const phone of p.phoneNumbers ?? []) out.push({ kind: 'phone', value: phone });
  if (p.label) out.push({ kind: 'label', value: p.label });
  return out;
}

function names(ban: Ban, p: Participant): boolean {
  const mine = new Set(identitiesOf(p).map(keyOf));
  return ban.identities.some((i) => mine.has(keyOf(i)));
}

/** An identity as a comparable key (user ids in lower case). */
function keyOf(i: BanIdentity): string {
  return `${i.kind}:${i.kind === 'user' ? i.value.toLowerCase() : i.value}`;
}

/**
 * The longest a banned person's notice may hold up their removal: a rejoin is undone within a
 * second, told or not.
 */
const ENFORCEMENT_NOTICE_MAX_MS = 500;

/** Up to this many identities, bans are looked up by identity. */
const FEW_IDENTITIES = 200;
/** Up to this many active bans in a call's scopes, a whole roster is matched against them in memory. */
const FEW_BANS = 500;
