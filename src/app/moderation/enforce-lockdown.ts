import { withDeadline } from '../domain/deadline.js';
import type { Outcome, TargetSummary } from '../domain/outcome.js';
import type { CallBinding, Participant, ProviderKind } from '../domain/participant.js';
import type { CallAdmission } from '../ports/call-admission.js';
import type { CallProvider } from '../ports/call-provider.js';
import { NO_CHAT } from '../ports/chat-directory.js';
import type { ChatNotifier } from '../ports/chat-notifier.js';
import type { Lockdown } from '../ports/store.js';
import { doorOf, lockdownKeys } from './actions/lockdown.js';
import type { ParticipantsSeen } from './call-events.js';
import type { ParticipantReports } from './enforce-bans.js';
import type { Moderation } from './moderation.js';
import type { RequestBase } from './requests.js';
import { CaseRecorder } from './steps/audit.js';
import { claimRemoval, settleRemoval } from './steps/removals-in-flight.js';

export interface LockdownEnforcerDeps {
  moderation: Moderation;
  /** Where the chats bound to a call hear that raid mode locked it down; none: nobody is told. */
  notifier?: ChatNotifier;
  /** RAID_MODE_JOINS: more than `joins` joins within `windowMs` in one call locks it down; undefined: off. */
  raidMode?: { joins: number; windowMs: number };
}

/** How many calls' join windows an instance keeps (the least recently joined are forgotten first). */
const TRACKED_CALLS = 1_000;
/** How many participant ids per call are remembered as seen (a whole roster beyond it is not a raid of newcomers). */
const TRACKED_PARTICIPANTS = 50_000;

interface JoinWindow {
  /** Who has been seen in the call: whoever is seen again did not join now. */
  seen: Set<string>;
  /** When each join within the window was seen (ms), oldest first. */
  joins: number[];
  /** Raid mode is locking this call down now: later joins wait for that, they do not start another. */
  triggering: boolean;
}

/**
 * Keeps locked-down calls shut, and raid mode's watch.
 *
 * - A call whose backend has no meeting options to lock (Twilio) is kept shut by Bouncer itself:
 *   every participant reported joining while its lockdown is on is removed, each as its own case
 *   (source `auto`, actor `bouncer`, detail `lockdownCaseId`), and its voice webhook turns callers
 *   away (`admits`). A Teams meeting's lobby does that by itself.
 * - Raid mode (RAID_MODE_JOINS): joins are counted per call from the backends' reports (a roster
 *   notification's newcomers, a participant-join); more than the limit within the window locks the
 *   call down (the lockdown action, source `auto`), tells its chats, and is audited as that case.
 *   It does not trigger again while the lockdown is on, and stays on until a moderator runs
 *   `/lockdown off`. Joins are counted in memory, per instance: with several instances behind one
 *   URL each counts the notifications it receives. The first whole roster of a call an instance
 *   sees is who was there already, not joins.
 */
export class LockdownEnforcer implements CallAdmission {
  private readonly windows = new Map<string, JoinWindow>();
  private stopListening?: () => void;

  constructor(private readonly deps: LockdownEnforcerDeps) {}

  start(reports: ParticipantReports): void {
    this.stopListening = reports.onParticipants((seen) => this.onSeen(seen));
  }

  stop(): void {
    this.stopListening?.();
  }

  /** False while the call (a Twilio conference, by its name) is locked down and its door is Bouncer's to keep. */
  async admits(call: { provider: ProviderKind; callId?: string; callName?: string }): Promise<boolean> {
    const provider = this.providerOf(call.provider);
    if (!provider || doorOf(provider) !== 'turn_away') return true;
    const held = await this.lockdownOf(call.provider, call);
    if (held) this.md.logger.info({ callName: call.callName, lockdownCaseId: held.caseId }, 'a caller was turned away: the call is locked down');
    return !held;
  }

  private get md() {
    return this.deps.moderation.deps;
  }

  private providerOf(kind: ProviderKind): CallProvider | undefined {
    return this.md.providers.find((p) => p.kind === kind)?.provider;
  }

  /**
   * The lockdown of a call as a backend names it (an id, a name), or as the chats bound to it know
   * it (a Teams meeting's lockdown is kept under its join link: see lockdownKeys).
   */
  private async lockdownOf(provider: ProviderKind, call: { callId?: string; callName?: string }, bindings: readonly CallBinding[] = []): Promise<Lockdown | undefined> {
    const keys = [...new Set([call.callName, call.callId, ...bindings.flatMap(lockdownKeys)].filter((k): k is string => !!k))];
    return keys.length === 0 ? undefined : this.md.store.lockdowns.find(provider, keys);
  }

  /** Failures are logged, never thrown. */
  private async onSeen(seen: ParticipantsSeen): Promise<void> {
    try {
      const provider = this.providerOf(seen.provider);
      if (!provider) return;
      const present = seen.participants.filter((p) => p.kind !== 'application');
      const joined = this.deps.raidMode ? this.count(seen, present) : [];
      // A roster's newcomers (Teams) wait in the lobby; only a backend without one needs Bouncer at the door.
      const arrivals = seen.complete ? [] : present;
      const turnAway = doorOf(provider) === 'turn_away' && arrivals.length > 0;
      const held = turnAway || joined.length > 0 ? await this.lockdownOf(seen.provider, seen, await this.bindingsOf(seen)) : undefined;
      if (held && turnAway) await Promise.all(arrivals.map((p) => this.removeArrival(provider, seen, p, held)));
      if (!held && joined.length > 0 && this.isRaid(seen.callId)) await this.raid(seen);
    } catch (err) {
      this.md.logger.error({ err, callId: seen.callId }, 'could not keep a lockdown or watch for a raid');
    }
  }

  /** Records the joins in a report; returns the participants that joined now. */
  private count(seen: ParticipantsSeen, present: Participant[]): Participant[] {
    const now = this.md.clock.now().getTime();
    let window = this.windows.get(seen.callId);
    const baseline = !window && !!seen.complete;
    if (!window) window = { seen: new Set(), joins: [], triggering: false };
    this.windows.delete(seen.callId);
    this.windows.set(seen.callId, window);
    if (this.windows.size > TRACKED_CALLS) this.windows.delete(this.windows.keys().next().value!);
    const joined = present.filter((p) => !window.seen.has(p.participantId));
    for (const p of joined) if (window.seen.size < TRACKED_PARTICIPANTS) window.seen.add(p.participantId);
    if (baseline) return [];
    for (const _p of joined) window.joins.push(now);
    const from = now - this.deps.raidMode!.windowMs;
    while (window.joins.length > 0 && window.joins[0]! <= from) window.joins.shift();
    return joined;
  }

  private isRaid(callId: string): boolean {
    const window = this.windows.get(callId);
    return !!window && !window.triggering && window.joins.length > this.deps.raidMode!.joins;
  }

  /** Locks the call down as raid mode, tells its chats, and starts the count again. */
  private async raid(seen: ParticipantsSeen): Promise<void> {
    const window = this.windows.get(seen.callId)!;
    const raidMode = this.deps.raidMode!;
    window.triggering = true;
    try {
      const joins = window.joins.length;
      const bindings = await this.bindingsOf(seen);
      const conversationId = bindings[0]?.conversationId;
      const request = {
        action: 'lockdown' as const,
        source: 'auto' as const,
        requestId: `raid:${seen.callId}:${this.md.clock.now().getTime()}`,
        conversationId,
        actor: { kind: 'bouncer' as const, displayName: 'Bouncer' },
        call: { kind: 'call' as const, provider: seen.provider, idOrName: seen.callId },
        trigger: { joins, windowMs: raidMode.windowMs },
      };
      const { moderation } = this.deps;
      // The count starts again whatever comes of it: a lockdown that failed (a 403, say) is tried
      // again only after another raid's worth of joins, not on every notification.
      window.joins = [];
      const outcome = await withDeadline(this.md.commandDeadlineMs, () => moderation.execute(request, moderation.scope(request, NO_CHAT)));
      this.md.logger.warn({ callId: seen.callId, joins, windowMs: raidMode.windowMs, caseId: outcome.caseId, outcome: outcome.kind }, 'raid mode');
      // The chat hears either way: a lockdown that failed says why (an access policy missing, say).
      if (outcome.kind !== 'locked' || !outcome.already) await this.tell(bindings, { joins, windowMs: raidMode.windowMs }, outcome);
    } finally {
      window.triggering = false;
    }
  }

  private async tell(bindings: CallBinding[], trigger: { joins: number; windowMs: number }, outcome: Outcome): Promise<void> {
    const { notifier } = this.deps;
    if (!notifier) return;
    for (const b of bindings) {
      if (!b.replyAddress || !b.conversationId) continue;
      await notifier.notify({ conversationId: b.conversationId, replyAddress: b.replyAddress, tenantId: b.tenantId }, { kind: 'raid', trigger, outcome });
    }
  }

  private async bindingsOf(call: { provider: ProviderKind; callId: string; callName?: string }): Promise<CallBinding[]> {
    const { store } = this.md;
    const [byId, byName] = await Promise.all([
      store.bindings.listByCallId(call.callId),
      call.callName ? store.bindings.listByCallName(call.provider, call.callName) : [],
    ]);
    return [...byId, ...byName.filter((b) => !byId.some((x) => x.conversationId === b.conversationId))];
  }

  /** Removes someone who joined a locked-down call, as a case of its own that names the lockdown's. */
  private async removeArrival(provider: CallProvider, seen: ParticipantsSeen, p: Participant, held: Lockdown): Promise<void> {
    const { store, logger } = this.md;
    if (!claimRemoval(store, seen.callId, p.participantId)) return;
    let done = false;
    try {
      const target: TargetSummary = {
        displayName: p.displayName,
        userId: p.kind === 'user' ? p.identityId : undefined,
        label: p.label,
        phoneNumber: p.phoneNumbers?.[0],
        participantId: p.participantId,
      };
      const request: RequestBase = {
        source: 'auto',
        requestId: `lockdown-${held.caseId}:${seen.callId}:${p.participantId}`,
        conversationId: held.conversationId,
        actor: { kind: 'bouncer', displayName: 'Bouncer' },
      };
      const recorder = new CaseRecorder(this.md, request, 'kick', 'the call is locked down')
        .about(target, { kind: 'participant', participantId: p.participantId })
        .detail({ lockdownCaseId: held.caseId });
      const outcome = await recorder.act(seen.callId, [p.participantId], async () => {
        const result = await provider.removeParticipant(seen.callId, p.participantId);
        await store.roster.remove(seen.callId, [p.participantId]);
        return result === 'removed'
          ? { kind: 'removed', target, callId: seen.callId, participantIds: [p.participantId] }
          : { kind: 'already_gone', target, callId: seen.callId };
      });
      done = outcome.kind === 'removed' || outcome.kind === 'already_gone';
      logger.info({ callId: seen.callId, caseId: outcome.caseId, lockdownCaseId: held.caseId, outcome: outcome.kind }, 'removed a caller who joined a locked-down call');
    } catch (err) {
      logger.error({ err, callId: seen.callId, lockdownCaseId: held.caseId }, 'could not remove a caller who joined a locked-down call');
    } finally {
      settleRemoval(store, seen.callId, p.participantId, done);
    }
  }
}
