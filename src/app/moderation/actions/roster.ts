import { compareRosterOrder, liveBinding, type Participant } from '../../domain/participant.js';
import type { RosterQuery } from '../../ports/store.js';
import { providerOf } from '../deps.js';
import { lockdownKeys } from './lockdown.js';
import type { ReadResult } from '../requests.js';
import { upstreamFailure } from '../steps/audit.js';
import type { RequestScope } from '../steps/lookups.js';
import { readAccess } from '../steps/read-access.js';

/**
 * How many people `/participants` shows: a card with a Remove button each stays readable (and
 * within Teams' message size) in a meeting of any size; the reply says how many there are.
 */
export const ROSTER_SHOWN = 25;

/** People, not bots (Bouncer's own leg included). */
const PEOPLE: RosterQuery = { excludeKinds: ['application'] };

/**
 * Who is in the chat's call: the first `ROSTER_SHOWN` people by name and how many there are, from
 * the roster, or (when it is empty) from the provider's list, kept for next time.
 */
export async function roster(scope: RequestScope): Promise<ReadResult> {
  const read = await readAccess(scope);
  if ('refused' in read) return read.refused;
  const { deps } = scope;
  const binding = liveBinding(read.access.binding);
  if (!binding) return { kind: 'roster', participants: [], total: 0 };
  try {
    const { callId } = binding;
    const choice = providerOf(deps, binding.provider);
    if ((await deps.store.roster.count(callId)) === 0 && 'provider' in choice) {
      const listed = await choice.provider.listParticipants(callId);
      await deps.store.roster.upsert(callId, listed);
      const people = listed.filter((p: Participant) => p.kind !== 'application').sort(compareRosterOrder);
      const lockdown = await deps.store.lockdowns.find(binding.provider, lockdownKeys(binding));
      return { kind: 'roster', binding, participants: people.slice(0, ROSTER_SHOWN), total: people.length, ...(lockdown ? { lockdown } : {}) };
    }
    const [participants, total, lockdown] = await Promise.all([
      deps.store.roster.page(callId, { ...PEOPLE, offset: 0, limit: ROSTER_SHOWN }),
      deps.store.roster.count(callId, PEOPLE),
      deps.store.lockdowns.find(binding.provider, lockdownKeys(binding)),
    ]);
    return { kind: 'roster', binding, participants, total, ...(lockdown ? { lockdown } : {}) };
  } catch (err) {
    return upstreamFailure(deps, err);
  }
}
