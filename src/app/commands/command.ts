import { BouncerError } from '../domain/errors.js';
import type { Outcome } from '../domain/outcome.js';
import type { Moderation } from '../moderation/moderation.js';
import type { Authority, Permission, Question } from '../moderation/policy.js';
import type { ReadResult, RequestBase, Unrecorded } from '../moderation/requests.js';
import type { RequestScope } from '../moderation/steps/lookups.js';

/** A person mentioned in the command (never the bot itself). */
export interface Mention {
  /** Chat id (Teams `29:…`). */
  chatId: string;
  displayName?: string;
  /**
   * Where the mention stood in the message: how many words of `CommandInput.text` came before it
   * (its first mention, when the person is mentioned twice). Unknown when the channel cannot tell.
   */
  at?: number;
}

/** A chat message reduced to what commands need: its words and its mentions, in order. */
export interface CommandInput {
  /** The message text with mention tags removed, entities decoded and whitespace collapsed. */
  text: string;
  mentions: Mention[];
}

/** Why a message could not become a command; each has its own reply. */
export type ParseProblem =
  | { kind: 'empty' }
  | { kind: 'unknown_command'; name: string }
  | { kind: 'no_target'; command: string }
  /** A command that takes one person was given several (`/moderators add @a @b`). */
  | { kind: 'several_targets'; command: string; names: string[] }
  | { kind: 'too_many_targets'; command: string; count: number; limit: number }
  | { kind: 'invalid_label'; label: string; why: 'slash' | 'too_long' }
  /** A ban length that is not a number of minutes, hours or days, or is longer than `maxDays`. */
  | { kind: 'invalid_duration'; text: string; maxDays: number }
  | { kind: 'bad_arguments'; command: string; usage: string };

export type ParseResult<A> = { ok: true; args: A } | { ok: false; problem: ParseProblem };

/** What every command needs to run, from whichever transport it came. */
export interface CommandContext {
  moderation: Moderation;
  /** The request's identity and its shared lookups. */
  scope: RequestScope;
}

export type CommandResult =
  | { type: 'outcome'; outcome: Outcome }
  | { type: 'read'; result: ReadResult }
  | { type: 'help'; commands: Array<Pick<CommandDefinition<unknown>, 'name' | 'usage' | 'summary'>>; hidden: number }
  /** A bulk invocation (`/kick @a @b`): each part's result, in order. */
  | { type: 'batch'; results: CommandResult[] };

/** Why a command was not run: answered without a lookup, refused by the policy, or a lookup failed. */
export type Refusal = Unrecorded;

/**
 * One command. Adding a command over an existing action is one file like kick.ts plus one line in
 * registry.ts. The runner (run-command.ts) enforces `permission` before `run`, for typed commands,
 * card buttons and webhook calls alike.
 */
export interface CommandDefinition<A> {
  name: string;
  usage: string;
  summary: string;
  /** Who may run it; /help lists moderator commands only for moderators. */
  permission: Permission;
  /** `rest` is the text after the command word; `input.mentions` are the mentioned people. */
  parse(rest: string, input: CommandInput): ParseResult<A>;
  /**
   * The parts of a bulk invocation (`/kick @a @b`: one per target), or undefined for a single one.
   * The runner runs each part as an invocation of its own (precheck, permission, deadline, case)
   * and answers one `batch` result.
   */
  split?(args: A): A[] | undefined;
  /** Starts lookups the command will need, so that they run alongside the permission check. */
  prepare?(args: A, ctx: CommandContext): void;
  /** Refusals that need no lookup and come before the permission check (e.g. "you can't remove yourself"). */
  precheck?(args: A, ctx: CommandContext): Refusal | undefined;
  /** The policy question for this invocation, when it is narrower than the declared permission. */
  question?(args: A, ctx: CommandContext, authority: Authority): Question;
  /** The answer to a refusal. Audited commands record it as a case; by default it is a read answer. */
  refuse?(args: A, ctx: CommandContext, refusal: Refusal): Promise<CommandResult>;
  run(args: A, ctx: CommandContext, registry: CommandRegistry): Promise<CommandResult>;
}

/** Every command, in the order /help lists them. */
export type CommandRegistry = readonly CommandDefinition<unknown>[];

/** Keeps each command's argument type while storing them in one list. */
export function defineCommand<A>(command: CommandDefinition<A>): CommandDefinition<unknown> {
  return command as CommandDefinition<unknown>;
}

/** A refusal as a read answer (reads are not audited). */
export function readRefusal(refusal: Refusal): CommandResult {
  if (refusal.kind === 'denied') return { type: 'read', result: { kind: 'denied', reason: refusal.reason } };
  if (refusal.kind === 'upstream_failed') return { type: 'read', result: refusal };
  throw new BouncerError('INTERNAL', `a read command cannot be refused with ${refusal.kind}`);
}

/** The chat a chat-only command runs in. */
export function chatOf(ctx: CommandContext): RequestBase & { conversationId: string } {
  const request = ctx.scope.request;
  if (request.conversationId === undefined) throw new BouncerError('INTERNAL', 'a chat command ran without a chat');
  return { ...request, conversationId: request.conversationId };
}
