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

export interface ActivityCommandInput extends CommandInput {
  /** The bot was @mentioned (so the message is meant for it even when it is not a command). */
  addressedToBot: boolean;
}

/**
 * Reduces a Teams message to a command input. People come from the `mention` entities (never from
 * the display text, which may differ: `<at>@Pranav Smith</at>` vs `<at>Pranav Smith</at>`); the
 * bot's own mention is dropped; the words are the text with every `<at>…</at>` removed.
 */
export function toCommandInput(activity: Partial<Activity>): ActivityCommandInput {
  const botId = activity.recipient?.id;
  const mentions: Mention[] = [];
  let addressedToBot = false;
  for (const entity of activity.entities ?? []) {
    if (entity.type !== 'mention') continue;
    const mentioned = (entity as { mentioned?: { id?: unknown; name?: unknown } }).mentioned;
    if (typeof mentioned?.id !== 'string' || mentioned.id === '') continue;
    if (mentioned.id === botId) {
      addressedToBot = true;
      continue;
    }
    if (mentions.some((m) => m.chatId === mentioned.id)) continue;
    mentions.push({ chatId: mentioned.id, displayName: typeof mentioned.name === 'string' ? mentioned.name : undefined });
  }
  const words = decodeEntities(
    (activity.text ?? '')
      .replace(/<at\b[^>]*>[\s\S]*?<\/at>/gi, ' ')
      .replace(/<[^>]+>/g, ' '),
  )
    .replace(/\s+/g, ' ')
    .trim();
  return { text: words, mentions, addressedToBot };
}
