import { isUpstreamHint, type UpstreamHint } from '../../domain/errors.js';
import { liveBinding } from '../../domain/participant.js';
import type { CaseStore } from '../../ports/store.js';
import type { ReadResult } from '../requests.js';
import { upstreamFailure } from '../steps/audit.js';
import type { RequestScope } from '../steps/lookups.js';
import { readAccess } from '../steps/read-access.js';
import { lockdownKeys } from './lockdown.js';

/** How many of the chat's latest cases are searched for setup problems. */
const SETUP_LOOKBACK_CASES = 20;

/**
 * The tenant setup steps the chat's latest actions failed for (a removal refused by the tenant's
 * policy, a join refused for permissions or tenant, a lockdown refused for the meeting access policy), newest first; a later success of the same
 * action clears them, since the step has then been done.
 */
async function setupHints(cases: CaseStore, conversationId: string): Promise<UpstreamHint[]> {
  const hints: UpstreamHint[] = [];
  const succeeded = new Set<string>();
  for (const c of await cases.list({ conversationId, limit: SETUP_LOOKBACK_CASES })) {
    if (c.outcome === 'removed' || c.outcome === 'bound' || c.outcome === 'locked') succeeded.add(c.action);
    const hint = c.outcome === 'upstream_failed' ? c.detail.hint : undefined;
    if (isUpstreamHint(hint) && !succeeded.has(c.action) && !hints.includes(hint)) hints.push(hint);
  }
  return hints;
}

/** The chat's binding, its call's state and size, which providers are configured, and setup steps missing. */
export async function status(scope: RequestScope): Promise<ReadResult> {
  const read = await readAccess(scope);
  if ('refused' in read) return read.refused;
  const { deps } = scope;
  const binding = liveBinding(read.access.binding);
  try {
    const [rosterSize, lockdown] = binding
      ? await Promise.all([
          deps.store.roster.count(binding.callId, { excludeKinds: ['application'] }),
          deps.store.lockdowns.find(binding.provider, lockdownKeys(binding)),
        ])
      : [0, undefined];
    return {
      ...(lockdown ? { lockdown } : {}),
      kind: 'status',
      binding: read.access.binding,
      live: !!binding,
      rosterSize,
      providers: deps.providers.map((p) => ({ kind: p.kind, configured: !!p.provider })),
      setupHints: scope.request.conversationId === undefined ? [] : await setupHints(deps.store.cases, scope.request.conversationId),
    };
  } catch (err) {
    return upstreamFailure(deps, err);
  }
}
