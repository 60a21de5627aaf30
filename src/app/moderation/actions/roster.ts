import { liveBinding } from '../../domain/participant.js';
import { providerOf } from '../deps.js';
import type { ReadResult } from '../requests.js';
import { upstreamFailure } from '../steps/audit.js';
import type { RequestScope } from '../steps/lookups.js';
import { readAccess } from '../steps/read-access.js';

/** Who is in the chat's call: the roster, or (when it is empty) the provider's list, kept for next time. */
export async function roster(scope: RequestScope): Promise<ReadResult> {
  const read = await readAccess(scope);
  if ('refused' in read) return read.refused;
  const { deps } = scope;
  const binding = liveBinding(read.access.binding);
  if (!binding) return { kind: 'roster', participants: [] };
  try {
    let participants = await deps.store.roster.list(binding.callId);
    const choice = providerOf(deps, binding.provider);
    if (participants.length === 0 && 'provider' in choice) {
      participants = await choice.provider.listParticipants(binding.callId);
      await deps.store.roster.upsert(binding.callId, participants);
    }
    return { kind: 'roster', binding, participants: participants.filter((p) => p.kind !== 'application') };
  } catch (err) {
    return upstreamFailure(deps, err);
  }
}
