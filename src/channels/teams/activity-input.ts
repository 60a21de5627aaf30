import type { Activity } from 'botbuilder';
import type { CommandInput, Mention } from '../../app/commands/command.js';

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Decodes the HTML entities Teams puts in message text (`&amp;`, `&#39;`, `&#x2F;`, `&nbsp;` …). */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

/**
 * The longest message text read as a command, in UTF-16 code units of the raw text (markup
 * included). A command with a few mentions and a reason is well under 1 KiB; Teams messages can
 * be about 28 KB, and a hostile one is read no further than this.
 */
export const MAX_COMMAND_TEXT_CHARS = 4096;

export interface ActivityCommandInput extends CommandInput {
  /** The bot was @mentioned (so the message is meant for it even when it is not a command). */
  addressedToBot: boolean;
  /**
   * The text is longer than MAX_COMMAND_TEXT_CHARS: it is not a command (only its first
   * MAX_COMMAND_TEXT_CHARS were read, into `text`, to tell whether it was meant for the bot).
   */
  tooLong?: true;
}

/**
 * Reduces a Teams message to a command input. People come from the `mention` entities (never from
 * the display text, which may differ: `<at>@Pranav Smith</at>` vs `<at>Pranav Smith</at>`); the
 * bot's own mention is dropped; the words are the text with every `<at>…</at>` removed.
 */
export function toCommandInput(activity: Partial<Activity>): ActivityCommandInput {
  const botId = activity.recipient?.id;
  const people: Array<{ chatId: string; displayName?: string; said: string[] }> = [];
  let addressedToBot = false;
  for (const entity of activity.entities ?? []) {
    if (entity.type !== 'mention') continue;
    const mentioned = (entity as { mentioned?: { id?: unknown; name?: unknown } }).mentioned;
    if (typeof mentioned?.id !== 'string' || mentioned.id === '') continue;
    if (mentioned.id === botId) {
      addressedToBot = true;
      continue;
    }
    const name = typeof mentioned.name === 'string' ? mentioned.name : undefined;
    // How the message may show them: the entity's own text, and their name.
    const shownAs: unknown = (entity as { text?: unknown }).text;
    const said = [typeof shownAs === 'string' ? mentionWords(shownAs) : '', name ? mentionWords(name) : ''].filter(Boolean);
    const known = people.find((p) => p.chatId === mentioned.id);
    if (known) known.said.push(...said);
    else people.push({ chatId: mentioned.id, displayName: name, said });
  }
  const raw = activity.text ?? '';
  const tooLong = raw.length > MAX_COMMAND_TEXT_CHARS;
  // Each <at>…</at> becomes a NUL word (the message's own NULs are spaces; no entity decodes to NUL),
  // so that where every mention stood can be counted in words of the text.
  const blocks: string[] = [];
  const marked = decodeEntities(stripTags(stripMentions((tooLong ? raw.slice(0, MAX_COMMAND_TEXT_CHARS) : raw).replace(/\0/g, ' '), MENTION_MARK, blocks)))
    .replace(/\s+/g, ' ')
    .trim();
  const words = marked.replace(/\0/g, ' ').replace(/\s+/g, ' ').trim();
  const at = mentionPlaces(marked, blocks, people);
  const mentions: Mention[] = people.map((p) => ({ chatId: p.chatId, displayName: p.displayName, ...(at.has(p.chatId) ? { at: at.get(p.chatId)! } : {}) }));
  return { text: words, mentions, addressedToBot, ...(tooLong ? { tooLong: true as const } : {}) };
}

const MENTION_MARK = ' \0 ';

/** A mention's words as they compare: tags and a leading `@` dropped, whitespace collapsed, lower case. */
function mentionWords(text: string): string {
  return decodeEntities(text.replace(/<[^>]*>/g, ' '))
    .replace(/^\s*@/, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

/**
 * How many words came before each person's first mention in the text: the n-th NUL word of
 * `marked` is the n-th `<at>` block, matched to the first person whose entity text or name it
 * shows (Teams' entity text may differ from the message's, e.g. `<at>@Pranav Smith</at>`). When
 * the blocks cannot all be placed (markup around a mention), no place is known.
 */
function mentionPlaces(marked: string, blocks: readonly string[], people: ReadonlyArray<{ chatId: string; said: string[] }>): Map<string, number> {
  const places = new Map<string, number>();
  const tokens = marked === '' ? [] : marked.split(' ');
  if (tokens.filter((t) => t === '\0').length !== blocks.length) return places;
  let block = 0;
  let wordsBefore = 0;
  for (const token of tokens) {
    if (token !== '\0') {
      wordsBefore++;
      continue;
    }
    const shown = mentionWords(blocks[block++]!);
    const person = people.find((p) => p.said.includes(shown));
    if (person && !places.has(person.chatId)) places.set(person.chatId, wordsBefore);
  }
  return places;
}

/**
 * Replaces every `<at …>…</at>` block, then every other tag (`<` and `>` around at least one
 * character), by a space: the result of
 * `text.replace(/<at\b[^>]*>[\s\S]*?<\/at>/gi, ' ').replace(/<[^>]+>/g, ' ')`, computed in
 * linear time. Those expressions are quadratic on text with many `<` and no `>` after them (each
 * `<` scans to the end), which a 200 KiB message turns into seconds of a blocked event loop.
 */
export function stripMarkup(text: string): string {
  return stripTags(stripMentions(text));
}

/**
 * The first index at or after `from` where `find` finds something, remembering the last answer:
 * calls with growing `from` scan each character once in all (a search is only repeated past the
 * last match, and a search that found nothing finds nothing later either).
 */
function forwardSearch(find: (from: number) => number): (from: number) => number {
  let last = -2; // -2: not searched yet
  return (from) => {
    if (last === -1) return -1;
    if (last < from) last = find(from);
    return last;
  };
}

const isWordChar = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_]/.test(c);

/**
 * `<at\b[^>]*>[\s\S]*?<\/at>` (case-insensitive) → `mark` (a space by default), leftmost first, as
 * String.replace does; each block replaced is pushed onto `blocks`.
 */
function stripMentions(text: string, mark = ' ', blocks: string[] = []): string {
  const nextGt = forwardSearch((from) => text.indexOf('>', from));
  const closeAt = /<\/at>/gi;
  const nextClose = forwardSearch((from) => {
    closeAt.lastIndex = from;
    return closeAt.exec(text)?.index ?? -1;
  });
  let out = '';
  let copied = 0;
  for (let i = text.indexOf('<'); i >= 0; ) {
    const opens = text.slice(i + 1, i + 3).toLowerCase() === 'at' && !isWordChar(text[i + 3]);
    if (opens) {
      const gt = nextGt(i + 3);
      if (gt < 0) break; // no '>' left: nothing further can match
      const close = nextClose(gt + 1);
      if (close < 0) break; // no '</at>' after the first '>': nothing further can match
      out += `${text.slice(copied, i)}${mark}`;
      blocks.push(text.slice(i, close + '</at>'.length));
      copied = close + '</at>'.length;
      i = text.indexOf('<', copied);
    } else {
      i = text.indexOf('<', i + 1);
    }
  }
  return out + text.slice(copied);
}

/** `<[^>]+>` → ' ', leftmost first, as String.replace does. */
function stripTags(text: string): string {
  const nextGt = forwardSearch((from) => text.indexOf('>', from));
  let out = '';
  let copied = 0;
  for (let i = text.indexOf('<'); i >= 0; ) {
    const gt = nextGt(i + 1);
    if (gt < 0) break; // no '>' left: no more tags
    if (gt === i + 1) {
      i = text.indexOf('<', i + 1); // '<>' is not a tag
      continue;
    }
    out += `${text.slice(copied, i)} `;
    copied = gt + 1;
    i = text.indexOf('<', copied);
  }
  return out + text.slice(copied);
}
