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
  const parts = invocation.command.split?.(invocation.args);
  if (parts && parts.length > 1) return runParts(invocation.command, parts, ctx, registry);
  return runOne(invocation, ctx, registry);
}

async function runOne(invocation: Invocation, ctx: CommandContext, registry: CommandRegistry): Promise<CommandResult> {
  // Every upstream call and wait made for the command fits inside its deadline.
  const result = await withDeadline(ctx.moderation.deps.commandDeadlineMs, () => runChecked(invocation, ctx, registry));
  // What the command wrote (its case, completed) is on disk before anyone is told of it.
  await ctx.moderation.deps.store.durable();
  return result;
}

/** A bulk invocation: every part through the same checks, as if sent on its own, with the request's lookups shared. */
async function runParts(command: CommandDefinition<unknown>, parts: unknown[], ctx: CommandContext, registry: CommandRegistry): Promise<CommandResult> {
  const results = await runEach(parts, (args, _index, ready) =>
    runOne({ command, args }, { ...ctx, scope: ctx.scope.part({ requestId: ctx.scope.request.requestId, onCaseOpened: ready }) }, registry),
  );
  return { type: 'batch', results };
}

/**
 * Runs the parts of a bulk request and gives their results in order. The first part runs alone
 * until it is ready (`ready()`: its case is open, so its call is resolved, joined if it had to be)
 * or done, so that the others find that call instead of each joining it; then the others run at
 * once (each upstream's scheduler bounds them). A part that throws is rethrown once every part
 * has settled, so that none is left running unobserved.
 */
export async function runEach<P, R>(parts: readonly P[], run: (part: P, index: number, ready: () => void) => Promise<R>): Promise<R[]> {
  const [first, ...others] = parts;
  if (first === undefined) return [];
  let ready!: () => void;
  const firstReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const head = run(first, 0, ready);
  await Promise.race([firstReady, head.then(() => undefined, () => undefined)]);
  const settled = await Promise.allSettled([head, ...others.map((part, i) => run(part, i + 1, () => undefined))]);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
  return settled.map((s) => (s as PromiseFulfilledResult<R>).value);
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
