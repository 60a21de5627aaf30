import { withDeadline } from '../domain/deadline.js';
import { isOutage } from '../domain/errors.js';
import { decide } from '../moderation/policy.js';
import { upstreamFailure } from '../moderation/steps/audit.js';
import { readRefusal, type CommandContext, type CommandDefinition, type CommandRegistry, type CommandResult, type Refusal } from './command.js';

/** A parsed command with its arguments. */
export interface Invocation {
  command: CommandDefinition<unknown>;
  args: unknown;
}

/**
 * Runs a command for whichever entry flow brought it (typed command, card button, webhook):
 * prechecks → the command's permission, asked of the policy with the request's shared lookups →
 * run. Nothing runs a command any other way.
 */
export function runCommand(invocation: Invocation, ctx: CommandContext, registry: CommandRegistry): Promise<CommandResult> {
  // Every upstream call and wait made for the command fits inside its deadline.
  return withDeadline(ctx.moderation.deps.commandDeadlineMs, () => runChecked(invocation, ctx, registry));
}

async function runChecked(invocation: Invocation, ctx: CommandContext, registry: CommandRegistry): Promise<CommandResult> {
  const { command, args } = invocation;
  const refuse = (refusal: Refusal) => (command.refuse ? command.refuse(args, ctx, refusal) : Promise.resolve(readRefusal(refusal)));
  const early = command.precheck?.(args, ctx);
  if (early) return refuse(early);
  if (command.permission !== 'anyone' || command.question) {
    command.prepare?.(args, ctx);
    let authority;
    try {
      authority = (await ctx.scope.access()).authority;
    } catch (err) {
      return refuse(upstreamFailure(ctx.moderation.deps, err));
    }
    const question = command.question?.(args, ctx, authority) ?? { kind: 'use', permission: command.permission, authority };
    const verdict = decide(question);
    if (!verdict.allowed) return refuse({ kind: 'denied', reason: verdict.reason });
  }
  return command.run(args, ctx, registry);
}

/** Whether the actor may use commands of this permission here; false when an outage keeps it from being established. */
export async function mayUse(command: Pick<CommandDefinition<unknown>, 'permission'>, ctx: CommandContext): Promise<boolean> {
  if (command.permission === 'anyone') return true;
  try {
    const { authority } = await ctx.scope.access();
    return decide({ kind: 'use', permission: command.permission, authority }).allowed;
  } catch (err) {
    if (isOutage(err)) return false;
    throw err;
  }
}
