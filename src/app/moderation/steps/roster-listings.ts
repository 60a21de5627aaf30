import type { Participant } from '../../domain/participant.js';
import type { CallProvider } from '../../ports/call-provider.js';
import type { RosterStore } from '../../ports/store.js';
import type { Clock } from '../../ports/runtime.js';

/**
 * How long a participant listing of a call is trusted after it was asked for. A target the roster
 * misses within this window is answered from the roster as it now stands (not found) instead of
 * listing the call again: in a 20,000-person meeting a listing (Graph's pages, then the upsert of
 * every row) costs Bouncer 90-150 ms of CPU, and a burst of kicks of people who are not there (or
 * a sender retrying kicks of people already removed) would pay it per request.
 *
 * Five seconds: long enough that a burst, or a sender's retries, costs at most one listing per
 * call every five seconds (under 3 % of a core at 20,000 participants); short enough that a
 * moderator who is told "not in the call" about someone who just joined and tries again a few
 * seconds later gets a fresh look. Roster notifications keep the roster current in between:
 * Graph's `updated` notification carries the whole roster, Twilio's participant-join callback the
 * newcomer, usually within a second of the join. Someone who joins inside the window is found as
 * soon as that notification has reached Bouncer; before it, a kick of them answers as for anyone
 * not in the call (`target_not_found`, "not in the call"), as a kick sent a moment before they
 * joined would have.
 */
export const LISTING_FRESH_MS = 5_000;

interface Listing {
  /** When the listing now trusted was asked for (ms since the epoch, by the deps' clock). */
  askedAt?: number;
  /** The listing under way, which concurrent misses in the call wait for instead of listing again. */
  running?: Promise<Participant[]>;
}

/**
 * The participant listings of one provider's calls, made when a target misses the roster: one at
 * a time per call (concurrent misses share it) and none while the last is fresh (`LISTING_FRESH_MS`).
 * Per instance: several Bouncer instances behind one URL list a call at most once each per window.
 */
export class RosterListings {
  private readonly calls = new Map<string, Listing>();

  constructor(
    private readonly clock: Clock,
    private readonly freshMs = LISTING_FRESH_MS,
  ) {}

  /**
   * Lists `callId` and upserts the list into its roster, unless a listing made within the window
   * already has: returns the list (shared by the misses that waited for it), or undefined when the
   * roster as it stands is to be trusted. A failed listing is thrown to every caller that shared
   * it, and nothing is remembered of it (the next miss lists again).
   */
  async refresh(provider: CallProvider, roster: RosterStore, callId: string): Promise<Participant[] | undefined> {
    const known = this.calls.get(callId);
    if (known?.running) return known.running;
    const now = this.clock.now().getTime();
    if (known?.askedAt !== undefined && now - known.askedAt < this.freshMs) return undefined;
    this.prune(now);
    const entry: Listing = { askedAt: known?.askedAt };
    const running = (async () => {
      const listed = await provider.listParticipants(callId);
      await roster.upsert(callId, listed);
      return listed;
    })();
    entry.running = running;
    this.calls.set(callId, entry);
    try {
      const listed = await running;
      entry.askedAt = now;
      return listed;
    } finally {
      entry.running = undefined;
      if (entry.askedAt === undefined) this.calls.delete(callId);
    }
  }

  /** Forgets listings past their window, so the map holds only the calls listed lately. */
  private prune(now: number): void {
    for (const [callId, entry] of this.calls) {
      if (!entry.running && (entry.askedAt === undefined || now - entry.askedAt >= this.freshMs)) this.calls.delete(callId);
    }
  }
}

const byProvider = new WeakMap<CallProvider, RosterListings>();

/** The listings of `provider`'s calls in this process (one provider object per running Bouncer). */
export function listingsOf(provider: CallProvider, clock: Clock): RosterListings {
  let listings = byProvider.get(provider);
  if (!listings) byProvider.set(provider, (listings = new RosterListings(clock)));
  return listings;
}
