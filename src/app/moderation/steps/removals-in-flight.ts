/**
 * Removals under way or just done, by call and participant, per store (so per running Bouncer),
 * shared by the ban and its enforcer: a roster notification that still lists someone being (or
 * just) removed, delivered late as Graph's first roster after a join often is, does not start a
 * second removal and a second case. A rejoin is a new participant (a new id), so it is not held
 * back. In memory: with several instances, another may still act twice (the second finds them gone).
 */
const registries = new WeakMap<object, Map<string, number | 'in_flight'>>();

/** How long a participant just removed is not removed again. */
const REMEMBER_MS = 60_000;
const PRUNE_ABOVE = 1_000;

function registryOf(owner: object): Map<string, number | 'in_flight'> {
  let registry = registries.get(owner);
  if (!registry) registries.set(owner, (registry = new Map()));
  return registry;
}

/** Claims the removal of a participant; false when it is under way, or done within the last minute. */
export function claimRemoval(owner: object, callId: string, participantId: string): boolean {
  const registry = registryOf(owner);
  const key = `${callId}|${participantId}`;
  const held = registry.get(key);
  const at = Date.now();
  if (held === 'in_flight' || (held !== undefined && held > at)) return false;
  if (registry.size > PRUNE_ABOVE) {
    for (const [k, until] of registry) if (until !== 'in_flight' && until <= at) registry.delete(k);
  }
  registry.set(key, 'in_flight');
  return true;
}

/** Ends a claim: `done` (removed, or already gone) is remembered for a while; a failure frees it at once. */
export function settleRemoval(owner: object, callId: string, participantId: string, done: boolean): void {
  const registry = registryOf(owner);
  const key = `${callId}|${participantId}`;
  if (done) registry.set(key, Date.now() + REMEMBER_MS);
  else registry.delete(key);
}
