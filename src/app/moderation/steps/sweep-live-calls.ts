import type { CallBinding, Participant } from '../../domain/participant.js';
import type { BanIdentity } from '../../ports/store.js';
import type { ModerationDeps } from '../deps.js';

/** At most this many live calls are swept for one ban. */
const MAX_SWEPT_CALLS = 1000;

/**
 * An everywhere ban reaches the calls the person is in now, not only those they join later: every
 * live call Bouncer moderates (a chat is bound to it) whose roster shows one of the ban's
 * identities is reported to the ban enforcer as its backend would report them (`participantsSeen`).
 * The enforcer then removes each as its own `auto` case naming the ban, and tells that call's chats,
 * exactly as for a rejoin (the call the ban's own command acted in has no one of them left to find).
 * Resolves once every removal is done; failures are logged, never thrown (the ban stands).
 */
export async function sweepLiveCalls(deps: ModerationDeps, identities: readonly BanIdentity[]): Promise<void> {
  try {
    const calls = new Map<string, CallBinding>();
    for (const b of await deps.store.bindings.listLive(MAX_SWEPT_CALLS)) {
      if (!calls.has(b.callId)) calls.set(b.callId, b);
    }
    await Promise.all(
      [...calls.values()].map(async (b) => {
        const participants = await present(deps, b.callId, identities);
        if (participants.length === 0) return;
        await deps.events.participantsSeen({ provider: b.provider, callId: b.callId, callName: b.callName, participants });
      }),
    );
  } catch (err) {
    deps.logger.error({ err }, 'could not sweep the live calls for an everywhere ban');
  }
}

/** The participants of a call's roster that one of the identities names (index lookups only). */
async function present(deps: ModerationDeps, callId: string, identities: readonly BanIdentity[]): Promise<Participant[]> {
  const { roster } = deps.store;
  const found = await Promise.all(
    identities.map((i) => {
      switch (i.kind) {
        case 'user':
          return roster.findByIdentity(callId, i.value);
        case 'phone':
          return roster.findByPhone(callId, i.value);
        case 'label':
          return roster.findByLabel(callId, i.value);
      }
    }),
  );
  const byId = new Map<string, Participant>();
  for (const p of found.flat()) if (p.kind !== 'application') byId.set(p.participantId, p);
  return [...byId.values()];
}
