import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Activity } from 'botbuilder';
import { describe, expect, it } from 'vitest';
import { decodeEntities, MAX_COMMAND_TEXT_CHARS, stripMarkup, toCommandInput } from '../../src/channels/teams/activity-input.js';
import type { CommandInput } from '../../src/app/commands/command.js';
import { MAX_CHAT_KICK_TARGETS } from '../../src/app/commands/kick.js';
import { parseCommand, type ParsedCommand } from '../../src/app/commands/parse-command.js';
import { commandRegistry } from '../support/commands.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixturesDir = path.resolve(repoRoot, '../shared/contracts/fixtures');
const haveFixtures = existsSync(fixturesDir);
if (!haveFixtures) {
  console.warn(`[activity-input.test] ${fixturesDir} is absent: the recorded Teams activity tests are skipped.`);
}

const loadActivity = (name: string): Partial<Activity> =>
  JSON.parse(readFileSync(path.join(fixturesDir, name), 'utf8')) as Partial<Activity>;

const parse = (input: CommandInput): ParsedCommand => parseCommand(input, commandRegistry);

/** The args of a successfully parsed command, or a failure naming the problem. */
function expectCommand(parsed: ParsedCommand, name: string): unknown {
  if (!parsed.ok) throw new Error(`expected /${name}, got problem ${JSON.stringify(parsed.problem)}`);
  expect(parsed.command.name).toBe(name);
  return parsed.args;
}

describe('decodeEntities', () => {
  it.each([
    ['Tom &amp; Jerry', 'Tom & Jerry'],
    ['don&#39;t', "don't"],
    ['a&#x2F;b', 'a/b'],
    ['a&#X2f;b', 'a/b'],
    ['&lt;b&gt; &quot;x&quot; &apos;y&apos;', '<b> "x" \'y\''],
    ['no&nbsp;break', 'no break'],
    ['&AMP;', '&'],
  ])('%s → %s', (input, expected) => {
    expect(decodeEntities(input)).toBe(expected);
  });

  it.each(['&unknown;', '&#0;', '&#x110000;', 'a & b', '&amp'])('leaves %s as it is', (input) => {
    expect(decodeEntities(input)).toBe(input);
  });

  it('decodes once, not recursively', () => {
    expect(decodeEntities('&amp;amp;')).toBe('&amp;');
  });
});

describe.skipIf(!haveFixtures)('toCommandInput with recorded Teams activities', () => {
  const recordedName = 'teams-message.bot-mention.channel.recorded-20191020025610932.json';
  const mallory = { id: '29:1mallory-aad-chat-id', name: 'Mallory' };
  const trudy = { id: '29:1trudy-aad-chat-id', name: 'Trudy' };

  /** The recorded channel message with other text and extra people mentioned after the bot. */
  function variant(text: string, people: Array<{ id: string; name: string }> = []): Partial<Activity> {
    const recorded = loadActivity(recordedName);
    const botMention = recorded.entities!.find((e) => e.type === 'mention')!;
    return {
      ...recorded,
      text,
      entities: [
        botMention,
        ...people.map((p) => ({ type: 'mention', mentioned: { id: p.id, name: p.name }, text: `<at>${p.name}</at>` })),
      ],
    };
  }

  it.each([
    ['teams-message.bot-mention.channel.recorded-20191020025610932.json', 'show members'],
    ['teams-message.bot-mention.channel.recorded-20191021205430160.json', 'file'],
  ])('%s: drops the bot mention and marks the message as addressed to the bot', (name, text) => {
    const activity = loadActivity(name);
    const input = toCommandInput(activity);

    expect(input).toEqual({ text, mentions: [], addressedToBot: true });
    // The recorded mention is the recipient: that is how the bot knows itself.
    expect(activity.entities?.some((e) => e.mentioned?.id === activity.recipient?.id)).toBe(true);
  });

  it('reads `<at>My Combined</at>show members\\n` as the unknown command "show"', () => {
    const input = toCommandInput(loadActivity(recordedName));

    expect(input.text).toBe('show members');
    expect(parse(input)).toEqual({ ok: false, problem: { kind: 'unknown_command', name: 'show' } });
  });

  it('takes people from the entities even when the entity text differs from the message (docs example)', () => {
    const activity = loadActivity('teams-message.user-mention.docs.json');
    // The quirk under test: the entity says `<at>@Pranav Smith</at>`, the text `<at>Pranav Smith</at>`.
    expect(activity.entities?.[0]?.text).toBe('<at>@Pranav Smith</at>');
    expect(activity.text).toContain('<at>Pranav Smith</at>');

    const input = toCommandInput(activity);

    // Where the mention stood is known too (one word, "Hey", before it), whatever the entity text says.
    expect(input.mentions).toEqual([{ chatId: '29:08q2j2o3jc09au90eucae', displayName: 'Pranav Smith', at: 1 }]);
    expect(input.addressedToBot).toBe(false);
    expect(input.text).toBe('Hey check out this message');
  });

  it('parses `/kick <at>Mallory</at> too loud` after the bot mention', () => {
    const input = toCommandInput(variant('<at>My Combined</at>/kick <at>Mallory</at> too loud\n', [mallory]));

    expect(input.addressedToBot).toBe(true);
    expect(input.text).toBe('/kick too loud');
    expect(expectCommand(parse(input), 'kick')).toEqual({
      target: { kind: 'mention', chatId: mallory.id, displayName: 'Mallory' },
      reason: 'too loud',
      dryRun: false,
    });
  });

  it.each([
    ['no space after the mention', '<at>My Combined</at>/kick <at>Mallory</at>spam\n'],
    ['no space on either side', '<at>My Combined</at>/kick<at>Mallory</at>spam\n'],
  ])('parses /kick with %s', (_label, text) => {
    const input = toCommandInput(variant(text, [mallory]));

    expect(expectCommand(parse(input), 'kick')).toEqual({
      target: { kind: 'mention', chatId: mallory.id, displayName: 'Mallory' },
      reason: 'spam',
      dryRun: false,
    });
  });

  it.each([
    ['kick without a slash', '<at>My Combined</at> kick <at>Mallory</at> spam'],
    ['/KICK in capitals', '<at>My Combined</at>/KICK <at>Mallory</at> spam'],
    ['/Kick in mixed case', '<at>My Combined</at> /Kick <at>Mallory</at> spam'],
  ])('accepts %s', (_label, text) => {
    const args = expectCommand(parse(toCommandInput(variant(text, [mallory]))), 'kick');
    expect(args).toEqual({ target: { kind: 'mention', chatId: mallory.id, displayName: 'Mallory' }, reason: 'spam', dryRun: false });
  });

  it('decodes HTML entities in the reason', () => {
    const input = toCommandInput(
      variant('<at>My Combined</at>/kick <at>Mallory</at> spam &amp; abuse, won&#39;t&nbsp;stop\n', [mallory]),
    );
    expect(expectCommand(parse(input), 'kick')).toMatchObject({ reason: "spam & abuse, won't stop" });
  });

  it('has no reason when nothing follows the target', () => {
    const input = toCommandInput(variant('<at>My Combined</at>/kick <at>Mallory</at>\n', [mallory]));
    expect(expectCommand(parse(input), 'kick')).toEqual({
      target: { kind: 'mention', chatId: mallory.id, displayName: 'Mallory' },
      reason: undefined,
      dryRun: false,
    });
  });

  it('reports no_target for /kick without a mention', () => {
    const input = toCommandInput(variant('<at>My Combined</at>/kick Mallory please\n'));
    expect(parse(input)).toEqual({ ok: false, problem: { kind: 'no_target', command: 'kick' } });
  });

  it('takes every person mentioned first as a target, in order, and the words after them as the reason (issue 12, item 4)', () => {
    const input = toCommandInput(
      variant('<at>My Combined</at>/kick <at>Mallory</at> <at>Trudy</at> both spam\n', [mallory, trudy]),
    );

    expect(input.mentions).toEqual([
      { chatId: mallory.id, displayName: 'Mallory', at: 1 },
      { chatId: trudy.id, displayName: 'Trudy', at: 1 },
    ]);
    expect(expectCommand(parse(input), 'kick')).toEqual({
      target: { kind: 'mention', chatId: mallory.id, displayName: 'Mallory' },
      targets: [
        { kind: 'mention', chatId: mallory.id, displayName: 'Mallory' },
        { kind: 'mention', chatId: trudy.id, displayName: 'Trudy' },
      ],
      reason: 'both spam',
      dryRun: false,
    });
  });

  it('does not remove someone mentioned in the reason', () => {
    const eve = { id: '29:1eve-aad-chat-id', name: 'Eve' };
    const input = toCommandInput(
      variant('<at>My Combined</at>/kick <at>Mallory</at>, <at>Trudy</at>, for insulting <at>Eve</at> --dry-run\n', [mallory, trudy, eve]),
    );

    expect(expectCommand(parse(input), 'kick')).toEqual({
      target: { kind: 'mention', chatId: mallory.id, displayName: 'Mallory' },
      targets: [
        { kind: 'mention', chatId: mallory.id, displayName: 'Mallory' },
        { kind: 'mention', chatId: trudy.id, displayName: 'Trudy' },
      ],
      reason: 'for insulting',
      dryRun: true,
    });
  });

  it('keeps one target when the same person is mentioned twice', () => {
    const input = toCommandInput(
      variant('<at>My Combined</at>/kick <at>Mallory</at> because <at>Mallory</at> spams\n', [mallory, mallory]),
    );

    expect(input.mentions).toEqual([{ chatId: mallory.id, displayName: 'Mallory', at: 1 }]);
    expect(expectCommand(parse(input), 'kick')).toEqual({
      target: { kind: 'mention', chatId: mallory.id, displayName: 'Mallory' },
      reason: 'because spams',
      dryRun: false,
    });
  });

  it('parses /help', () => {
    const parsed = parse(toCommandInput(variant('<at>My Combined</at>/help\n')));
    expect(expectCommand(parsed, 'help')).toEqual({});
  });

  it('reports empty for a message that is only the bot mention', () => {
    const input = toCommandInput(variant('<at>My Combined</at>\n'));

    expect(input).toEqual({ text: '', mentions: [], addressedToBot: true });
    expect(parse(input)).toEqual({ ok: false, problem: { kind: 'empty' } });
  });

  it('ignores mention entities without an id, and entities of other types', () => {
    const activity = variant('<at>My Combined</at>/kick <at>Mallory</at>', [mallory]);
    activity.entities = [
      { type: 'mention', mentioned: { name: 'No Id' } },
      { type: 'mention', mentioned: { id: '', name: 'Blank Id' } },
      { type: 'clientInfo', locale: 'en-US' },
      ...activity.entities!,
    ];

    expect(toCommandInput(activity).mentions).toEqual([{ chatId: mallory.id, displayName: 'Mallory', at: 1 }]);
  });
});

describe('bulk /kick from a Teams message (issue 12, item 4)', () => {
  const bot = { id: '28:bot', name: 'Bouncer' };
  const people = { a: { id: '29:a', name: 'Ana' }, b: { id: '29:b', name: 'Ben Two' }, c: { id: '29:c', name: 'Cy' } };
  const message = (text: string, mentioned: Array<{ id: string; name: string }>): Partial<Activity> => ({
    text,
    recipient: bot,
    entities: [bot, ...mentioned].map((m) => ({ type: 'mention', mentioned: m, text: `<at>${m.name}</at>` })),
  });
  const kickArgs = (text: string, mentioned: Array<{ id: string; name: string }>) =>
    expectCommand(parse(toCommandInput(message(`<at>Bouncer</at> ${text}`, [bot, ...mentioned].slice(1)))), 'kick') as Record<string, unknown>;
  const ids = (args: Record<string, unknown>) => ((args.targets ?? [args.target]) as Array<{ chatId: string }>).map((t) => t.chatId);

  it('the people mentioned first are the targets; the rest is the reason', () => {
    const args = kickArgs('/kick <at>Ana</at> <at>Ben Two</at> <at>Cy</at> raid', [people.a, people.b, people.c]);
    expect(ids(args)).toEqual(['29:a', '29:b', '29:c']);
    expect(args.reason).toBe('raid');
  });

  it('a mention inside the reason is not a target', () => {
    const args = kickArgs('/kick <at>Ana</at> <at>Ben Two</at> for shouting at <at>Cy</at>', [people.a, people.b, people.c]);
    expect(ids(args)).toEqual(['29:a', '29:b']);
    expect(args.reason).toBe('for shouting at');
  });

  it('commas between the people are not part of the reason', () => {
    const args = kickArgs('/kick <at>Ana</at>, <at>Ben Two</at> &amp; <at>Cy</at>, spam', [people.a, people.b, people.c]);
    expect(ids(args)).toEqual(['29:a', '29:b', '29:c']);
    expect(args.reason).toBe('spam');
  });

  it('/mute and /warn take the one person mentioned first; one mentioned in the reason is not a target', () => {
    const warn = parse(toCommandInput(message('<at>Bouncer</at> /warn <at>Ana</at> stop insulting <at>Cy</at>', [people.a, people.c])));
    expect(expectCommand(warn, 'warn')).toEqual({ target: { kind: 'mention', chatId: '29:a', displayName: 'Ana' }, reason: 'stop insulting' });
    const mute = parse(toCommandInput(message('<at>Bouncer</at> /mute <at>Ana</at>, <at>Ben Two</at> noise', [people.a, people.b])));
    expect(mute).toEqual({ ok: false, problem: { kind: 'several_targets', command: 'mute', names: ['Ana', 'Ben Two'] } });
    const unmute = parse(toCommandInput(message('<at>Bouncer</at> /unmute <at>Ana</at>', [people.a])));
    expect(expectCommand(unmute, 'unmute')).toEqual({ target: { kind: 'mention', chatId: '29:a', displayName: 'Ana' }, reason: undefined });
  });

  it('a reason before the one person mentioned is still the reason (as before bulk kicks)', () => {
    const args = kickArgs('/kick spam <at>Ana</at>', [people.a]);
    expect(args).toEqual({ target: { kind: 'mention', chatId: '29:a', displayName: 'Ana' }, reason: 'spam', dryRun: false });
  });

  it('a mention inside other markup has no known place, and counts as a target', () => {
    const input = toCommandInput(message('<at>Bouncer</at> /kick <b <at>Ana</at> > <at>Ben Two</at> spam', [people.a, people.b]));
    expect(input.mentions.map((m) => m.at)).toEqual([undefined, undefined]);
    expect(ids(expectCommand(parse(input), 'kick') as Record<string, unknown>)).toEqual(['29:a', '29:b']);
  });
});

describe('toCommandInput without fixtures', () => {
  it('accepts an activity with no text and no entities', () => {
    expect(toCommandInput({})).toEqual({ text: '', mentions: [], addressedToBot: false });
  });

  it('removes other HTML tags and collapses whitespace', () => {
    const input = toCommandInput({ text: '<p>/kick</p>\n\n<b>now</b>\t please' });
    expect(input.text).toBe('/kick now please');
  });
});

describe('parseCommand', () => {
  it('reports empty for whitespace only', () => {
    expect(parse({ text: '   ', mentions: [] })).toEqual({ ok: false, problem: { kind: 'empty' } });
  });

  it('keeps the spelling of an unknown command in the problem', () => {
    expect(parse({ text: '/Smite someone', mentions: [] })).toEqual({
      ok: false,
      problem: { kind: 'unknown_command', name: 'Smite' },
    });
  });

  it('finds /bind', () => {
    expect(expectCommand(parse({ text: '/bind', mentions: [] }), 'bind')).toEqual({});
  });

  it('takes every mention as a target when the channel cannot tell where they stood', () => {
    const parsed = parse({ text: '/kick spam', mentions: [{ chatId: '29:a' }, { chatId: '29:b', displayName: 'Bee' }] });
    expect(parsed).toMatchObject({
      ok: true,
      args: { targets: [{ kind: 'mention', chatId: '29:a' }, { kind: 'mention', chatId: '29:b', displayName: 'Bee' }], reason: 'spam' },
    });
  });

  it('a command that takes one person still refuses several (/moderators add)', () => {
    const parsed = parse({ text: '/moderators add', mentions: [{ chatId: '29:a' }, { chatId: '29:b', displayName: 'Bee' }] });
    expect(parsed).toEqual({ ok: false, problem: { kind: 'several_targets', command: 'moderators', names: ['29:a', 'Bee'] } });
  });

  it(`refuses more than ${MAX_CHAT_KICK_TARGETS} people in one /kick, plainly`, () => {
    const many = Array.from({ length: MAX_CHAT_KICK_TARGETS + 1 }, (_, i) => ({ chatId: `29:p${i}`, at: 1 }));
    expect(parse({ text: '/kick spam', mentions: many })).toEqual({
      ok: false,
      problem: { kind: 'too_many_targets', command: 'kick', count: MAX_CHAT_KICK_TARGETS + 1, limit: MAX_CHAT_KICK_TARGETS },
    });
    expect(parse({ text: '/kick spam', mentions: many.slice(1) })).toMatchObject({ ok: true });
  });

  it('lists every command in the registry, in /help order', () => {
    expect(commandRegistry.map((c) => c.name)).toEqual(['kick', 'mute', 'unmute', 'warn', 'ban', 'unban', 'bans', 'lockdown', 'bind', 'unbind', 'status', 'participants', 'modlog', 'case', 'cases', 'reason', 'moderators', 'help']);
  });
});

/**
 * Issue 11, item 13: parsing is linear and bounded. These tests pin the behaviour (what is stripped,
 * how much is read), not the time it takes.
 */
describe('stripMarkup: the tag stripping, in one linear pass per kind of tag', () => {
  /** The stripping as it was, two regular expressions (quadratic on text with many `<` and no `>`). */
  const reference = (text: string) => text.replace(/<at\b[^>]*>[\s\S]*?<\/at>/gi, ' ').replace(/<[^>]+>/g, ' ');

  it('gives the same result as the regular expressions for every short mix of tag fragments', () => {
    const pieces = ['<at>', '</at>', '<AT id="1">', '</At>', '<', '>', '<at', '<atom>', '</at', 'x', ' ', '<>', '<b>', 'at>', '/'];
    let checked = 0;
    const differences: string[] = [];
    const walk = (prefix: string, depth: number) => {
      const [got, want] = [stripMarkup(prefix), reference(prefix)];
      if (got !== want && differences.length < 5) differences.push(`${JSON.stringify(prefix)}: ${JSON.stringify(got)} ≠ ${JSON.stringify(want)}`);
      checked++;
      if (depth === 0) return;
      for (const p of pieces) walk(prefix + p, depth - 1);
    };
    walk('', 4);
    expect(differences).toEqual([]);
    expect(checked).toBe(1 + 15 + 15 ** 2 + 15 ** 3 + 15 ** 4);
  });

  it.each([
    ['an unclosed mention before a closed one', '<at x <at>Bob</at> rest', '  rest'],
    ['a mention without </at> is an ordinary tag', '/kick <at>Mallory spam', '/kick  Mallory spam'],
    ['<atom> is not a mention', '<atom>x</at> y', ' x  y'],
    ['a mention spanning lines', 'a<at>B\nC</at>b', 'a b'],
    ['case-insensitive mention tags', 'a<AT>B</aT>b', 'a b'],
    ['<> is not a tag', 'a<>b', 'a<>b'],
    ['a < with no > after it stays', 'a < b', 'a < b'],
    ['nested <', '<<b>>', ' >'],
  ])('%s', (_label, input, expected) => {
    expect(stripMarkup(input)).toBe(expected);
    expect(reference(input)).toBe(expected);
  });

  it.each([
    ['many < and no >', '<<\u2039'.repeat(20_000), '<<\u2039'.repeat(20_000)],
    ['many <at> and no </at>', '<at>'.repeat(20_000), ' '.repeat(20_000)],
    ['many <at and one > at the end', `${'<at '.repeat(20_000)}>`, ' '],
    ['many <at>x and an unfinished </at at the end', `${'<at>x'.repeat(20_000)}</at`, `${' x'.repeat(20_000)}</at`],
    ['many </at> and one <at> at the end', `${'</at>'.repeat(20_000)}<at>`, ' '.repeat(20_001)],
  ])('strips hostile input of about 80 KB as the regular expressions would: %s', (_label, input, expected) => {
    expect(stripMarkup(input)).toBe(expected);
    // The reference takes seconds on the full input: it checks a short copy only.
    const short = input.slice(0, 400);
    expect(stripMarkup(short)).toBe(reference(short));
  });
});

describe('toCommandInput reads at most MAX_COMMAND_TEXT_CHARS of a message', () => {
  it('is 4 KiB of text', () => {
    expect(MAX_COMMAND_TEXT_CHARS).toBe(4096);
  });

  it('reads a message of exactly the limit as usual', () => {
    const text = `/kick spam ${'x'.repeat(MAX_COMMAND_TEXT_CHARS - 11)}`;
    expect(text).toHaveLength(MAX_COMMAND_TEXT_CHARS);
    const input = toCommandInput({ text });
    expect(input.tooLong).toBeUndefined();
    expect(input.text).toBe(text);
  });

  it('marks a longer message as too long, and reads only the limit of it (enough to see whether it was meant for the bot)', () => {
    const hostile = `/kick ${'<<\u2039'.repeat(70_000)}`;
    const input = toCommandInput({ text: hostile, entities: [{ type: 'mention', mentioned: { id: 'bot' } }], recipient: { id: 'bot', name: 'Bouncer' } });
    expect(input.tooLong).toBe(true);
    expect(input.addressedToBot).toBe(true);
    expect(input.text.length).toBeLessThanOrEqual(MAX_COMMAND_TEXT_CHARS);
    expect(input.text.startsWith('/kick <<\u2039<<\u2039')).toBe(true);
  });
});

describe('/lockdown parsing (issue 14, item 1)', () => {
  const lockdown = (text: string) => parse({ text, mentions: [] });
  it('is on by default; on, off, --chat and --mute in any order', () => {
    expect(expectCommand(lockdown('/lockdown'), 'lockdown')).toEqual({ on: true, chat: false, mute: false });
    expect(expectCommand(lockdown('/lockdown on --chat'), 'lockdown')).toEqual({ on: true, chat: true, mute: false });
    expect(expectCommand(lockdown('/lockdown --mute ON'), 'lockdown')).toEqual({ on: true, chat: false, mute: true });
    expect(expectCommand(lockdown('/lockdown off'), 'lockdown')).toEqual({ on: false, chat: false, mute: false });
  });
  it('refuses anything else, and options with off', () => {
    for (const text of ['/lockdown please', '/lockdown on off', '/lockdown off --chat']) {
      const parsed = lockdown(text);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.problem).toEqual({ kind: 'bad_arguments', command: 'lockdown', usage: '/lockdown [on|off] [--chat] [--mute]' });
    }
  });
});
