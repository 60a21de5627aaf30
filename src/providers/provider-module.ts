import type { z } from 'zod';
import type { BindSyntax } from '../app/commands/bind.js';
import type { ProviderLabels } from '../app/domain/provider-labels.js';
import type { CallStateEvents } from '../app/moderation/call-events.js';
import type { CallAdmission } from '../app/ports/call-admission.js';
import type { CallProvider, UserPhoneDirectory } from '../app/ports/call-provider.js';
import type { Clock, Logger } from '../app/ports/runtime.js';
import type { Store } from '../app/ports/store.js';
import type { Route } from '../http/route.js';

/** What a provider's configuration step sees. */
export interface ProviderEnvInput {
  /** The validated environment: every slice's output, keyed by variable name. */
  env: Record<string, unknown>;
  /** The raw non-blank values, for checks across variables that must run even when a value did not parse. */
  given: Readonly<Record<string, string>>;
  /** The bot registration (Teams' Graph settings default to it). */
  bot: { appId: string; appPassword: string; appTenantId: string };
  /** UPSTREAM_TIMEOUT_MS: the deadline of each of the provider's upstream calls (token requests included). */
  upstreamTimeoutMs: number;
  /** UPSTREAM_CONCURRENCY: requests in flight at once to one upstream account. */
  upstreamConcurrency: number;
}

/** A provider's part of the configuration. */
export interface ProviderConfigResult<C> {
  /** Problems that stop Bouncer from starting (listed with every other problem at once). */
  problems: string[];
  /** What is not configured, said at start. */
  notices: string[];
  /** Undefined only when there are problems. */
  config?: C;
  /** Endpoints it would call with credentials, checked in sandbox mode. */
  endpoints: Array<{ name: string; value: string | undefined; inUse: boolean }>;
}

/** What the composition root gives a provider. */
export interface ProviderDeps {
  store: Store;
  /** Call state changes, for actions waiting on a join. */
  events: CallStateEvents;
  clock: Clock;
  logger: Logger;
  /** `PUBLIC_BASE_URL`, when set (callback signatures are computed over public URLs). */
  publicBaseUrl?: string;
  /** Used for the provider's HTTP calls (tests and the sandbox inject their own). */
  fetch?: typeof fetch;
  /** Whether a caller may join a call (the bans), for a backend that answers calls before they join (Twilio's voice webhook). */
  admission?: CallAdmission;
}

/** A provider, set up from its configuration. */
export interface ProviderSetup {
  /** Present when configured. */
  provider?: CallProvider;
  /** What an administrator must set to configure it (empty when configured). */
  missing: string[];
  /** Phone numbers of directory users, when this provider's directory has them. */
  phones?: UserPhoneDirectory;
  /** Its callback routes; present (and refusing) even when not configured. */
  routes: Route[];
  /** Starts work worth doing ahead of the first request (e.g. a token); failures are logged by the caller. */
  warmUp?(): Promise<void>;
}

/**
 * Everything about one calling backend, in its folder under src/providers/. Adding a provider is
 * one folder exporting one of these, plus its line in src/providers/index.ts.
 */
export interface ProviderModule<K extends string, C> {
  kind: K;
  /** Its name under `configured` in /healthz. */
  healthKey: string;
  /** It joins a chat's own meeting: the default for chats with no binding (one provider at most). */
  joinsMeetings: boolean;
  labels: ProviderLabels;
  /** Its environment variables: a slice of the env schema, every key documented in .env.example. */
  env: z.ZodObject;
  configure(input: ProviderEnvInput): ProviderConfigResult<C>;
  setUp(config: C, deps: ProviderDeps): ProviderSetup;
  /** How `/bind` names one of its calls. */
  bindSyntax?: BindSyntax;
  /** How a webhook names one of its calls: a one-key object (e.g. `{ twilioConference }`). */
  webhookCall?: { field: string; schema: z.ZodObject };
}

/** Keeps a module's kind as a literal type. */
export function defineProvider<const K extends string, C>(module: ProviderModule<K, C>): ProviderModule<K, C> {
  return module;
}
