import type { ReadResult } from '../requests.js';
import { upstreamFailure } from '../steps/audit.js';
import type { RequestScope } from '../steps/lookups.js';
import { readAccess } from '../steps/read-access.js';

/** The chat's most recent cases, newest first. */
export async function modlog(scope: RequestScope, limit: number): Promise<ReadResult> {
  const read = await readAccess(scope);
  if ('refused' in read) return read.refused;
  const { deps, request } = scope;
  try {
    return { kind: 'modlog', cases: request.conversationId ? await deps.store.cases.list({ conversationId: request.conversationId, limit }) : [] };
  } catch (err) {
    return upstreamFailure(deps, err);
  }
}
