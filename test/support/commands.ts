import { buildCommandRegistry } from '../../src/app/commands/registry.js';
import { bindSyntaxes } from '../../src/providers/index.js';

/** The command registry as main.ts builds it, with every provider's /bind syntax. */
export const commandRegistry = buildCommandRegistry({ bindSyntaxes: bindSyntaxes() });
