import type { z } from 'zod';
import type { BindSyntax } from '../app/commands/bind.js';
import type { ProviderLabels } from '../app/domain/provider-labels.js';
import type { ProviderDeps, ProviderModule, ProviderSetup } from './provider-module.js';
import { teamsProvider } from './teams/module.js';
import { twilioProvider } from './twilio/module.js';

/**
 * Every calling backend, in display order. Adding one is a folder under src/providers/ exporting
 * its module, plus its entry here; configuration, routes, /bind, webhooks and labels follow.
 */
export const PROVIDER_MODULES = [teamsProvider, twilioProvider] as const;

type AnyModule = (typeof PROVIDER_MODULES)[number];

/** The kinds of the registered providers ('teams' | 'twilio'). */
export type ProviderKind = AnyModule['kind'];

/** Each provider's configuration, by kind (Config.providers). */
export type ProviderConfigs = {
  [M in AnyModule as M['kind']]: M extends ProviderModule<string, infer C> ? C : never;
};

/** One provider module, with its configuration type erased (what code iterating over the list sees). */
export type RegisteredProvider = ProviderModule<ProviderKind, unknown>;

/** A provider module and what its setUp gave, in list order. */
export interface ProviderInstance {
  module: RegisteredProvider;
  setup: ProviderSetup;
}

/** Sets every provider up from its own configuration, in list order. */
export function setUpProviders(configs: ProviderConfigs, deps: ProviderDeps): ProviderInstance[] {
  return PROVIDER_MODULES.map((m) => {
    // Each module receives its own configuration: `configs[m.kind]` is m's config type.
    const module = m as RegisteredProvider;
    return { module, setup: module.setUp(configs[m.kind], deps) };
  });
}

/** How `/bind` names each provider's calls, in list order (for the command registry). */
export function bindSyntaxes(): BindSyntax[] {
  return PROVIDER_MODULES.flatMap((m) => (m.bindSyntax ? [m.bindSyntax] : []));
}

/** How a webhook names each provider's calls, in list order (for the webhook schema and its OpenAPI document). */
export function webhookCallSyntaxes(): Array<{ provider: ProviderKind; field: string; schema: z.ZodObject }> {
  return PROVIDER_MODULES.flatMap((m) => (m.webhookCall ? [{ provider: m.kind, ...m.webhookCall }] : []));
}

/**
 * How a provider's calls are named to people. A kind no module has (a binding stored by a
 * provider since removed) gets neutral wording rather than an error.
 */
export function labelsOf(kind: string): ProviderLabels {
  return PROVIDER_MODULES.find((m) => m.kind === kind)?.labels ?? unknownLabels(kind);
}

function unknownLabels(kind: string): ProviderLabels {
  return {
    product: kind,
    calls: `${kind} calls`,
    callNoun: `${kind} call`,
    callInSentence: () => 'the call',
    callFact: ({ callName, callId }) => `${kind}: ${callName ?? callId}`,
  };
}
