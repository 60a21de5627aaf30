import type { CommandDefinition, CommandInput, CommandRegistry, ParseProblem } from './command.js';

export type ParsedCommand =
  | { ok: true; command: CommandDefinition<unknown>; args: unknown }
  | { ok: false; problem: ParseProblem };

/**
 * Finds the command in a message: the first word, with or without a leading `/`
 * (`/kick`, `kick`, `/Kick`), then lets the command parse the rest.
 */
export function parseCommand(input: CommandInput, registry: CommandRegistry): ParsedCommand {
  const match = /^\s*\/?([^\s]+)\s*([\s\S]*)$/.exec(input.text);
  if (!match) return { ok: false, problem: { kind: 'empty' } };
  const name = match[1]!.toLowerCase();
  const command = registry.find((c) => c.name === name);
  if (!command) return { ok: false, problem: { kind: 'unknown_command', name: match[1]! } };
  const parsed = command.parse(match[2] ?? '', input);
  return parsed.ok ? { ok: true, command, args: parsed.args } : parsed;
}
