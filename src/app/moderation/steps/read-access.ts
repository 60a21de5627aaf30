import { decide } from '../policy.js';
import type { ReadResult } from '../requests.js';
import { upstreamFailure } from './audit.js';
import type { Access, RequestScope } from './lookups.js';

/**
 * The lookups of a read-only view, authorized like any moderator command. Reads are not audited
 * (nothing changes), so a refusal is an answer, not a case.
 */
export async function readAccess(scope: RequestScope): Promise<{ access: Access } | { refused: ReadResult }> {
  let access: Access;
  try {
    access = await scope.access();
  } catch (err) {
    return { refused: upstreamFailure(scope.deps, err) };
  }
  const verdict = decide({ kind: 'use', permission: 'moderator', authority: access.authority });
  return verdict.allowed ? { access } : { refused: { kind: 'denied', reason: verdict.reason } };
}
