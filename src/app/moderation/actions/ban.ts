import type { NoticeStatus, Outcome, TargetSummary } from '../../domain/outcome.js';
import type { Participant } from '../../domain/participant.js';
import type { CallProvider } from '../../ports/call-provider.js';
import { BAN_EVERYWHERE, type Ban, type BanIdentity, type NewBan } from '../../ports/store.js';
import { now, type ModerationDeps } from '../deps.js';
import { decide } from '../policy.js';
import type { BanRequest, ReadResult, UnbanRequest, Unrecorded } from '../requests.js';
import { CaseRecorder } from '../steps/audit.js';
import type { Access, RequestScope } from '../steps/lookups.js';
import { readAccess } from '../steps/read-access.js';
import { namedCall } from '../steps/resolve-call.js';
import { identifyTarget, locateTarget, vetMatches, type IdentifiedTarget, type LocatedTarget } from '../steps/removal-target.js';
import { newNoticeToken, noticeBeforeRemoval, noticeDetail } from '../steps/notify-participant.js';
import { claimRemoval, settleRemoval } from '../steps/removals-in-flight.js';
import { sweepLiveCalls } from '../steps/sweep-live-calls.js';
import { personKeys, summarize, withUser } from '../steps/resolve-target.js';
import { precheckKick } from './kick.js';

/** The longest ban a duration may ask for; longer ones are refused when parsed. */
export const MAX_BAN_MS = 365 * 24 * 3600_000;
/** How many bans `/bans` shows. */
const LISTED_BANS = 50;

/** What a ban can be refused for before anything is looked up: as for a kick. */
export function precheckBan(req: BanRequest, scope: RequestScope): Unrecorded | undefined {
  return precheckKick(req, scope);
}

/** The ban's audit case, naming its target as far as the request says (and with `lookUp`, the directory). */
export async function banCase(req: BanRequest, scope: RequestScope, lookUp: boolean): Promise<{ recorder: CaseRecorder; summary: TargetSummary }> {
  const t = req.target;
  const user = lookUp && t.kind === 'mention' ? await scope.user(t.chatId).catch(() => undefined) : undefined;
  const summary = withUser(summarize(t), user);
  return { recorder: new CaseRecorder(scope.deps, req, 'ban', req.reason).about(summary, t), summary };
}

/**
 * `/ban`: removes the person from the chat's call now, as a kick does (the same removal rules),
 * and keeps them out of the chat's calls (with `everywhere`, an admin's: every call Bouncer
 * moderates) until the ban is lifted or expires. The ban names the person by what lasts: their
 * Entra object id and the phone numbers their profile lists (a mention), the number (a phone
 * target), the caller's number and the label (a label or CallSid target). Someone not in the call
 * now, or a chat with no call yet, can still be banned when the request says who they are.
 *
 * The ban is stored before the removal, so that a rejoin in between is caught; a removal that
 * fails lifts it again (nobody banned, nobody removed: the reply says to try again). An everywhere
 * ban then sweeps every live call Bouncer moderates (`steps/sweep-live-calls.ts`): the ban
 * enforcer removes the person from each where they are now, as if they had just joined.
 */
export async function ban(req: BanRequest, scope: RequestScope): Promise<Outcome> {
  const { deps } = scope;
  const t = req.target;
  const refused = precheckBan(req, scope);
  if (refused) return (await banCase(req, scope, false)).recorder.record(refused);

  const recorder = new CaseRecorder(deps, req, 'ban', req.reason);
  let identified: IdentifiedTarget;
  let located: LocatedTarget;
  try {
    const who = await identifyTarget(scope, req, recorder);
    if ('refused' in who) return recorder.record(who.refused);
    identified = who;
    if (req.everywhere) {
      const verdict = decide({ kind: 'ban_everywhere', authority: identified.access.authority });
      if (!verdict.allowed) return recorder.record({ kind: 'denied', reason: verdict.reason, target: identified.summary });
    }
    // Looked at even where a label would do by itself: the caller's number is what the ban keeps.
    located = await locateTarget(deps, req, identified, recorder, true);
  } catch (err) {
    return recorder.recordFailure(err);
  }
  // No call now: the ban still stands for the chat's calls, unless only the call could say who the
  // target is (a CallSid).
  if (located.kind === 'no_call' && t.kind === 'participant') return recorder.record(located.outcome);
  const call = located.kind === 'located' ? located : undefined;
  const matches = call?.matches ?? [];

  const refusal = await vetMatches(req, identified, matches);
  if (refusal) return recorder.record(refusal);

  let summary = identified.summary;
  if (!summary.displayName && matches[0]?.displayName) {
    summary = { ...summary, displayName: matches[0].displayName };
    recorder.about(summary, t);
  }
  const callId = call?.binding.callId;
  const identities = await identitiesOf(deps, req, identified, matches);
  if (identities.length === 0) {
    if (matches.length > 0 && call) {
      return recorder.record({ kind: 'unsupported', provider: call.provider.kind, capability: 'ban someone with no lasting identity (a guest)' });
    }
    return recorder.record({ kind: 'target_not_found', target: summary, callId: callId ?? '' });
  }
  const banScope = req.everywhere ? BAN_EVERYWHERE : (req.conversationId ?? call?.binding.conversationId);
  if (!banScope) return recorder.record({ kind: 'not_bound', reason: 'no_binding' });
  const keys = matches.map((p) => p.participantId);
  if (req.dryRun) return recorder.record({ kind: 'dry_run', target: summary, callId: callId ?? '', participantIds: keys });

  // One reading of the clock: the ban lasts exactly its duration from its creation.
  const at = now(deps);
  const expiresAt = req.durationMs === undefined ? undefined : new Date(Date.parse(at) + req.durationMs).toISOString();
  const actor = req.actor.kind === 'member' ? req.actor : undefined;
  const newBan = (caseId: number): NewBan => ({
    caseId,
    scope: banScope,
    identities,
    targetName: summary.displayName ?? summary.label ?? summary.phoneNumber ?? summary.participantId,
    reason: req.reason,
    createdBy: actor?.userId,
    createdByName: req.actor.displayName,
    createdAt: at,
    expiresAt,
  });
  const banned = (removed: string[], notice?: NoticeStatus): Unrecorded => ({
    kind: 'banned',
    target: summary,
    everywhere: req.everywhere,
    expiresAt,
    callId,
    participantIds: removed,
    removed: removed.length > 0,
    ...(notice ? { notice } : {}),
  });
  // With NOTIFY_REMOVED the person is told why just before the removal (as a kick does); the
  // notice's token is in the pending case, so that the backend can fetch the notice back by then.
  const token = deps.notifyRemoved && call && keys.length > 0 ? newNoticeToken() : undefined;
  const outcome = await recorder.act(
    callId,
    keys,
    async (caseId) => {
      if (!call || keys.length === 0) {
        await deps.store.bans.add(newBan(caseId));
        return banned([]);
      }
      const { provider, binding } = call;
      // Claimed first: the enforcer, which sees the ban as soon as it is stored, leaves these to us.
      const claimed = keys.filter((key) => claimRemoval(deps.store, binding.callId, key));
      let settled = false;
      try {
        await deps.store.bans.add(newBan(caseId));
        const notice = token ? await noticeBeforeRemoval(deps, req, { provider, binding, matches, keys, user: identified.user }, { caseId, token }) : undefined;
        let removed: string[];
        try {
          removed = await removeAll(provider, binding.callId, claimed);
        } catch (err) {
          await liftAfterFailure(deps, caseId);
          throw err;
        }
        settled = true;
        await deps.store.roster.remove(binding.callId, keys);
        // Those the enforcer was removing already (under this ban, or an older one) are out too.
        return banned([...removed, ...keys.filter((key) => !claimed.includes(key))], notice);
      } finally {
        for (const key of claimed) settleRemoval(deps.store, binding.callId, key, settled);
      }
    },
    token ? noticeDetail(token) : undefined,
  );
  // Banned everywhere: out of every live call Bouncer moderates where they are now, too.
  if (req.everywhere && outcome.kind === 'banned') await sweepLiveCalls(deps, identities);
  return outcome;
}

/** Removes each participant; returns those that were there to remove. */
async function removeAll(provider: CallProvider, callId: string, keys: string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const key of keys) if ((await provider.removeParticipant(callId, key)) === 'removed') removed.push(key);
  return removed;
}

/** A ban whose removal failed is lifted by its own case; a failure to lift is logged (the outage is what the user hears). */
async function liftAfterFailure(deps: ModerationDeps, caseId: number): Promise<void> {
  try {
    await deps.store.bans.lift(caseId, { at: now(deps), caseId });
  } catch (err) {
    deps.logger.error({ err, caseId }, 'the removal failed and the ban could not be lifted; it stands');
  }
}

/** What the ban names the person by: lasting identities only (a guest's id is per meeting). */
async function identitiesOf(deps: ModerationDeps, req: BanRequest, identified: IdentifiedTarget, matches: Participant[]): Promise<BanIdentity[]> {
  const t = req.target;
  const out = new Map<string, BanIdentity>();
  const add = (kind: BanIdentity['kind'], value: string | undefined) => {
    if (value) out.set(`${kind}:${kind === 'user' ? value.toLowerCase() : value}`, { kind, value: kind === 'user' ? value.toLowerCase() : value });
  };
  const userId = identified.user?.userId;
  if (userId) {
    add('user', userId);
    for (const phone of (await personKeys(deps, userId)).phones) add('phone', phone);
  }
  if (t.kind === 'phone') add('phone', t.number);
  if (t.kind === 'label') add('label', t.label);
  for (const m of matches) {
    if (m.kind === 'user') add('user', m.identityId);
    for (const phone of m.phoneNumbers ?? []) add('phone', phone);
  }
  return [...out.values()];
}

/**
 * `/unban`: lifts the active bans that name the person (their Entra id, or their profile's numbers;
 * a number; a label), or the ban made by a case number, among the chat's bans and the everywhere
 * bans. Lifting an everywhere ban is for admins; a moderator who names only someone banned
 * everywhere is refused. Audited, like the ban.
 */
export async function unban(req: UnbanRequest, scope: RequestScope): Promise<Outcome> {
  const { deps } = scope;
  const recorder = new CaseRecorder(deps, req, 'unban', req.reason);
  let access: Access;
  let candidates: Ban[];
  let target: TargetSummary;
  let conversationId = req.conversationId;
  const at = now(deps);
  try {
    if (conversationId === undefined && req.call) {
      // A webhook naming a call: the bans of the chat bound to it (none bound: the everywhere bans only).
      const named = await namedCall(deps, req.call);
      if ('outcome' in named) return recorder.record(named.outcome);
      conversationId = named.binding.conversationId || undefined;
      recorder.on(named.binding.callId, conversationId);
    }
    const scopes = conversationId === undefined ? [BAN_EVERYWHERE] : [conversationId, BAN_EVERYWHERE];
    if (req.ban.kind === 'case') {
      access = await scope.access();
      const found = await deps.store.bans.get(req.ban.caseId);
      // A ban of another chat is not this chat's to see.
      const visible = found && scopes.includes(found.scope) ? found : undefined;
      target = { displayName: visible?.targetName };
      candidates = visible && isActive(visible, at) ? [visible] : [];
    } else {
      const t = req.ban.target;
      const [user, looked] = await Promise.all([t.kind === 'mention' ? scope.user(t.chatId) : undefined, scope.access()]);
      access = looked;
      target = withUser(summarize(t), user);
      recorder.about(target, t);
      const identities: BanIdentity[] = [];
      if (t.kind === 'phone') identities.push({ kind: 'phone', value: t.number });
      if (t.kind === 'label') identities.push({ kind: 'label', value: t.label });
      if (t.kind === 'user') identities.push({ kind: 'user', value: t.userId });
      if (user?.userId) {
        identities.push({ kind: 'user', value: user.userId });
        for (const phone of (await personKeys(deps, user.userId)).phones) identities.push({ kind: 'phone', value: phone });
      }
      candidates = await deps.store.bans.findActive(scopes, identities, at);
    }
  } catch (err) {
    return recorder.recordFailure(err);
  }
  const asked = req.ban.kind === 'case' ? req.ban.caseId : undefined;
  const admin = decide({ kind: 'ban_everywhere', authority: access.authority });
  const liftable = admin.allowed ? candidates : candidates.filter((b) => b.scope !== BAN_EVERYWHERE);
  if (liftable.length === 0 && candidates.length > 0 && !admin.allowed) return recorder.record({ kind: 'denied', reason: admin.reason, target });
  // Named by an id alone (a webhook's userId): the ban knows the name they were banned under.
  const bannedAs = liftable[0]?.targetName;
  if (!target.displayName && !target.phoneNumber && !target.label && bannedAs) target = { ...target, displayName: bannedAs };
  if (req.dryRun) return recorder.record({ kind: 'dry_run', target, callId: '', participantIds: [], banCaseIds: liftable.map((b) => b.caseId) });
  const by = access.authority.userId;
  return recorder.act(undefined, [], async (caseId) => {
    const lifted: number[] = [];
    for (const b of liftable) if (await deps.store.bans.lift(b.caseId, { at, by, caseId })) lifted.push(b.caseId);
    return { kind: 'unbanned', target, banCaseIds: lifted, asked };
  });
}

function isActive(b: Ban, at: string): boolean {
  return b.liftedAt === undefined && (b.expiresAt === undefined || b.expiresAt > at);
}

/** The chat's active bans and the everywhere bans (moderators only, like every read). */
export async function listBans(scope: RequestScope): Promise<ReadResult> {
  const read = await readAccess(scope);
  if ('refused' in read) return read.refused;
  const { deps, request } = scope;
  const scopes = request.conversationId === undefined ? [BAN_EVERYWHERE] : [request.conversationId, BAN_EVERYWHERE];
  return { kind: 'bans', bans: await deps.store.bans.listActive(scopes, now(deps), LISTED_BANS) };
}
