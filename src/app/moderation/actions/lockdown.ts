import { BouncerError } from '../../domain/errors.js';
import type { LockdownDoor, Outcome } from '../../domain/outcome.js';
import type { CallBinding, Participant } from '../../domain/participant.js';
import type { CallProvider } from '../../ports/call-provider.js';
import type { Lockdown } from '../../ports/store.js';
import { meetingProviderEntry, now, providerOf, type ModerationDeps } from '../deps.js';
import { decide } from '../policy.js';
import type { LockdownRequest, Unrecorded } from '../requests.js';
import { CaseRecorder } from '../steps/audit.js';
import type { Access, RequestScope } from '../steps/lookups.js';
import { resolveCall } from '../steps/resolve-call.js';
import { isPersonLeg, personKeys, type PersonKeys } from '../steps/resolve-target.js';

/**
 * The names a call's lockdown is kept under, as the call lasts: a meeting's join link (every call
 * of that meeting), a conference's name (Twilio's voice webhook knows only that), then the call id.
 * The first is the key a new lockdown is stored under.
 */
export function lockdownKeys(call: Pick<CallBinding, 'joinUrl' | 'callName' | 'callId'>): string[] {
  return [...new Set([call.joinUrl, call.callName, call.callId].filter((k): k is string => !!k))];
}

/** How a provider keeps a lockdown's door shut: its meeting's options, else by removing whoever joins. */
export function doorOf(provider: Pick<CallProvider, 'meetingLock'>): LockdownDoor {
  return provider.meetingLock ? 'lobby' : 'turn_away';
}

/**
 * `/lockdown [on|off]`. On: Teams saves the meeting's options (once: a second lockdown keeps the
 * first one's), then only the organizer bypasses the lobby, attendees cannot turn on their mic or
 * camera and, with `chat`, meeting chat is off; Twilio removes every new caller (enforce-lockdown.ts)
 * and, with `mute`, mutes every caller who does not moderate. Off: puts back exactly what was saved,
 * then forgets it. Organizers, co-organizers, named moderators and admins only (the policy's
 * `lockdown` question); raid mode (`trigger`) is Bouncer's own. One audited case either way.
 */
export async function lockdown(req: LockdownRequest, scope: RequestScope): Promise<Outcome> {
  const { deps } = scope;
  const recorder = new CaseRecorder(deps, req, req.action);
  let access: Access;
  try {
    access = await scope.access();
  } catch (err) {
    return recorder.recordFailure(err);
  }
  const verdict = decide({ kind: 'lockdown', authority: access.authority, call: req.call, raidMode: req.trigger !== undefined });
  if (!verdict.allowed) return recorder.record({ kind: 'denied', reason: verdict.reason });
  try {
    return req.action === 'lockdown' ? await lock(req, scope, access, recorder) : await unlock(req, scope, access, recorder);
  } catch (err) {
    return recorder.recordFailure(err);
  }
}

async function lock(req: LockdownRequest, scope: RequestScope, access: Access, recorder: CaseRecorder): Promise<Outcome> {
  const { deps } = scope;
  const resolved = await resolveCall(deps, req, access);
  if ('outcome' in resolved) return recorder.record(resolved.outcome);
  const { provider, binding } = resolved;
  recorder.on(binding.callId, binding.conversationId);
  const keys = lockdownKeys(binding);
  const meetingLock = provider.meetingLock;
  const organizerUserId = binding.organizerUserId ?? access.organizerUserId;
  const joinUrl = binding.joinUrl ?? access.meeting?.joinUrl;
  if (meetingLock && (!organizerUserId || !joinUrl)) return recorder.record({ kind: 'not_bound', reason: 'not_a_meeting' });

  return recorder.act(binding.callId, [], async (caseId): Promise<Unrecorded> => {
    const { store } = deps;
    const base: Lockdown = {
      provider: provider.kind,
      callKey: keys[0]!,
      callId: binding.callId,
      conversationId: binding.conversationId || req.conversationId,
      caseId,
      source: req.source,
      chat: !!req.chat && !!meetingLock,
      mute: !!req.mute && !meetingLock,
      startedAt: now(deps),
      startedBy: req.actor.kind === 'member' ? req.actor.userId : undefined,
    };
    const existing = await store.lockdowns.find(provider.kind, keys);
    let begun: { started: boolean; lockdown: Lockdown };
    if (existing) {
      // Kept as it is (its saved options above all); only chat or mute asked now are added.
      begun = await store.lockdowns.begin({ ...base, callKey: existing.callKey });
    } else if (meetingLock) {
      // The options as they are now are saved before anything changes; the first lockdown's are kept.
      const read = await meetingLock.read({ joinUrl: joinUrl!, organizerUserId: organizerUserId! });
      if (!read) return { kind: 'not_bound', reason: 'not_a_meeting' };
      begun = await store.lockdowns.begin({ ...base, meeting: read.meeting, saved: read.saved });
    } else {
      begun = await store.lockdowns.begin(base);
    }
    const held = begun.lockdown;
    if (meetingLock) {
      if (!held.meeting) throw new BouncerError('INTERNAL', 'a meeting lockdown was stored without its meeting');
      try {
        await meetingLock.lock(held.meeting, { chat: held.chat });
      } catch (err) {
        // Nothing changed: what this request saved is forgotten, so that the next try reads the options again.
        if (begun.started) await store.lockdowns.end(provider.kind, held.callKey);
        throw err;
      }
    }
    const muted = req.mute && !meetingLock ? await muteNonModerators(deps, provider, binding, access, req) : [];
    deps.logger.info({ callId: binding.callId, caseId, lockdownCaseId: held.caseId, started: begun.started, source: req.source }, 'call locked down');
    return {
      kind: 'locked',
      provider: provider.kind,
      callId: binding.callId,
      door: doorOf(provider),
      already: !begun.started,
      chat: held.chat,
      mute: held.mute,
      muted,
      ...(req.trigger ? { trigger: req.trigger } : {}),
    };
  });
}

async function unlock(req: LockdownRequest, scope: RequestScope, access: Access, recorder: CaseRecorder): Promise<Outcome> {
  const { deps } = scope;
  // The call as it was locked: named, or the chat's binding even once its call ended (a meeting's
  // options stay changed after its call ends, so they can still be put back), else its meeting.
  let provider: CallProvider;
  let call: Pick<CallBinding, 'joinUrl' | 'callName' | 'callId'>;
  if (req.call) {
    const resolved = await resolveCall(deps, req, access);
    if ('outcome' in resolved) return recorder.record(resolved.outcome);
    provider = resolved.provider;
    call = resolved.binding;
  } else {
    const binding = access.binding;
    const kind = binding?.provider ?? meetingProviderEntry(deps)?.kind;
    const joinUrl = binding?.joinUrl ?? access.meeting?.joinUrl;
    if (kind === undefined || (!binding && !joinUrl)) return recorder.record({ kind: 'not_bound', reason: 'no_binding' });
    const choice = providerOf(deps, kind);
    if ('missing' in choice) return recorder.record({ kind: 'not_configured', missing: choice.missing });
    provider = choice.provider;
    call = { joinUrl, callName: binding?.callName, callId: binding?.callId ?? '' };
  }
  recorder.on(call.callId || undefined);
  const held = await deps.store.lockdowns.find(provider.kind, lockdownKeys(call));
  const door = doorOf(provider);
  if (!held) return recorder.record({ kind: 'unlocked', provider: provider.kind, callId: call.callId, door, wasLocked: false });
  return recorder.act(call.callId || held.callId, [], async (): Promise<Unrecorded> => {
    // Put back exactly what was saved, then forget it; a restore that fails keeps the lockdown on.
    if (provider.meetingLock && held.meeting && held.saved) await provider.meetingLock.restore(held.meeting, held.saved);
    await deps.store.lockdowns.end(provider.kind, held.callKey);
    deps.logger.info({ callId: held.callId, lockdownCaseId: held.caseId }, 'lockdown ended');
    return { kind: 'unlocked', provider: provider.kind, callId: call.callId || held.callId, door, wasLocked: true, lockdownCaseId: held.caseId };
  });
}

/**
 * Mutes every caller in the call who does not moderate it (`--mute`): everyone but the actor, the
 * organizer, the chat's named moderators and the admins, matched by their Teams id, or on the phone
 * by the label or number their directory profile gives. One that cannot be muted is logged and
 * passed over (the door is shut either way). Returns who was muted.
 */
async function muteNonModerators(deps: ModerationDeps, provider: CallProvider, binding: CallBinding, access: Access, req: LockdownRequest): Promise<string[]> {
  if (!provider.muteParticipant) return [];
  const userIds = new Set<string>([...deps.adminUserIds]);
  if (req.actor.kind === 'member' && req.actor.userId) userIds.add(req.actor.userId.toLowerCase());
  if (access.organizerUserId) userIds.add(access.organizerUserId.toLowerCase());
  const conversationId = req.conversationId ?? (binding.conversationId || undefined);
  if (conversationId) for (const m of await deps.store.moderators.list(conversationId)) userIds.add(m.userId);
  const moderators: PersonKeys[] = await Promise.all([...userIds].map((id) => personKeys(deps, id)));
  const callers = (await deps.store.roster.list(binding.callId)).filter(
    (p: Participant) => p.kind !== 'application' && !moderators.some((keys) => isPersonLeg(p, keys)),
  );
  const muted: string[] = [];
  for (const p of callers) {
    try {
      if ((await provider.muteParticipant(binding.callId, p.participantId)) === 'muted') muted.push(p.participantId);
    } catch (err) {
      deps.logger.warn({ err, callId: binding.callId, participantId: p.participantId }, 'could not mute a caller in a lockdown');
    }
  }
  return muted;
}
