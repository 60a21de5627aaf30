import type { MeetingRole } from '../ports/chat-directory.js';
import type { CallState, ProviderKind } from '../domain/participant.js';
import type { CallProvider, UserPhoneDirectory } from '../ports/call-provider.js';
import type { ParticipantNotifier } from '../ports/participant-notifier.js';
import type { Clock, Logger } from '../ports/runtime.js';
import type { Store } from '../ports/store.js';
import type { ParticipantsSeen } from './call-events.js';

/** One provider Bouncer knows, configured or not (built from src/providers/index.ts by main.ts). */
export interface ProviderEntry {
  kind: ProviderKind;
  /** This provider joins a chat's own meeting: the default for a chat with no binding. */
  joinsMeetings: boolean;
  /** Present when configured. */
  provider?: CallProvider;
  /** What an administrator must set to configure it (empty when configured). */
  missing: string[];
}

/** Waits for a call's state, as its backend notifies it. */
export interface CallStateWaiter {
  /** The last state notified for the call, if it is recent enough to be remembered. */
  lastState(callId: string): CallState | undefined;
  /** Resolves with the first state in `wanted` seen for the call, or undefined after `timeoutMs`. */
  waitFor(callId: string, wanted: readonly CallState[], timeoutMs: number): Promise<CallState | undefined>;
}

/** Reports participants in a call as a backend's notification does: the ban enforcer hears them (call-events.ts). */
export interface ParticipantReporter {
  participantsSeen(seen: ParticipantsSeen): Promise<void>;
}

/** Everything the moderation actions need, injected once by main.ts. */
export interface ModerationDeps {
  store: Store;
  /** Every provider, in display order. */
  providers: readonly ProviderEntry[];
  /** Phone numbers of directory users, to match a mention to a phone participant. */
  phones?: UserPhoneDirectory;
  events: CallStateWaiter & ParticipantReporter;
  clock: Clock;
  logger: Logger;
  adminUserIds: ReadonlySet<string>;
  /** The meeting roles that moderate (MODERATOR_ROLES). */
  moderatorRoles: ReadonlySet<MeetingRole>;
  /** Where a provider posts call notifications (`${PUBLIC_BASE_URL}/api/calls`); undefined without a public URL. */
  callbackUrl?: string;
  joinTimeoutMs: number;
  /** The overall deadline of one command (src/app/domain/deadline.ts). */
  commandDeadlineMs: number;
  /** PUBLIC_BASE_URL: private notices are fetched back from Bouncer there (a notice page, Twilio's AnnounceUrl). */
  publicBaseUrl?: string;
  /** NOTIFY_REMOVED: a person being removed is told why, privately, just before. */
  notifyRemoved: boolean;
  /** Private notices through the chat's channel, for providers with meetingNotifications (Teams). */
  notices?: ParticipantNotifier;
}

export type ProviderChoice = { provider: CallProvider } | { missing: string[] };

/** The provider of a kind: configured, or what is missing (unknown kinds miss nothing nameable). */
export function providerOf(deps: ModerationDeps, kind: ProviderKind): ProviderChoice {
  const entry = deps.providers.find((p) => p.kind === kind);
  return entry?.provider ? { provider: entry.provider } : { missing: entry?.missing ?? [] };
}

/** The provider that joins a chat's own meeting. */
export function meetingProviderEntry(deps: ModerationDeps): ProviderEntry | undefined {
  return deps.providers.find((p) => p.joinsMeetings);
}

export function now(deps: Pick<ModerationDeps, 'clock'>): string {
  return deps.clock.now().toISOString();
}
