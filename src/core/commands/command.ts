import type { ModerationService, ReadResult, RequestBase } from '../moderation-service.js';
import type { Outcome } from '../outcome.js';
import type { ChatDirectory } from '../ports.js';

/** A person mentioned in the command (never the bot itself). */
export interface Mention {
  /** Chat id (Teams `29:…`). */
  chatId: string;
  displayName?: string;
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
  | { kind: 'several_targets'; command: string; names: string[] }
  | { kind: 'invalid_label'; label: string }
  | { kind: 'bad_arguments'; command: string; usage: string };

export type ParseResult<A> = { ok: true; args: A } | { ok: false; problem: ParseProblem };

/** What every command needs to run, from whichever transport it came. */
export interface CommandContext extends RequestBase {
  /** Chat commands always come from a chat. */
  conversationId: string;
  service: ModerationService;
  directory: ChatDirectory;
}

/** The request fields of a command context, for building a ModerationRequest. */
export function requestBase(ctx: CommandContext): RequestBase & { conversationId: string } {
  const { source, requestId, conversationId, serviceUrl, botChatId, actor } = ctx;
  return { source, requestId, conversationId, serviceUrl, botChatId, actor };
}

export type CommandResult =
  | { type: 'outcome'; outcome: Outcome }
  | { type: 'read'; result: ReadResult }
  | { type: 'help'; commands: Array<Pick<CommandDefinition<unknown>, 'name' | 'usage' | 'summary'>>; hidden: number };

/** One chat command. Adding a command is one file like kick.ts plus one line in registry.ts. */
export interface CommandDefinition<A> {
  name: string;
  usage: string;
  summary: string;
  /** Only meeting organizers, presenters and admins may use it (and /help lists it only for them). */
  moderatorOnly: boolean;
  /** `rest` is the text after the command word; `input.mentions` are the mentioned people. */
  parse(rest: string, input: CommandInput): ParseResult<A>;
  run(args: A, ctx: CommandContext, registry: readonly CommandDefinition<unknown>[]): Promise<CommandResult>;
}

/** Helper that keeps each command's argument type while storing them in one list. */
export function defineCommand<A>(command: CommandDefinition<A>): CommandDefinition<unknown> {
  return command as CommandDefinition<unknown>;
}
