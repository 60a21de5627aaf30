import { liveBinding } from '../../domain/participant.js';
import type { ReadResult } from '../requests.js';
import { upstreamFailure } from '../steps/audit.js';
import type { RequestScope } from '../steps/lookups.js';
import { readAccess } from '../steps/read-access.js';

/** The chat's binding, its call's state and size, and which providers are configured. */
export async function status(scope: RequestScope): Promise<ReadResult> {
  const read = await readAccess(scope);
  if ('refused' in read) return read.refused;
  const { deps } = scope;
  const binding = liveBinding(read.access.binding);
  try {
    const rosterSize = binding ? (await deps.store.roster.list(binding.callId)).filter((p) => p.kind !== 'application').length : 0;
    return {
      kind: 'status',
      binding: read.access.binding,
      live: !!binding,
      rosterSize,
      providers: deps.providers.map((p) => ({ kind: p.kind, configured: !!p.provider })),
    };
  } catch (err) {
    return upstreamFailure(deps, err);
  }
}
