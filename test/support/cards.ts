type Json = Record<string, unknown>;

/** The Action.Submit with this title, anywhere in an Adaptive Card (throws when there is none). */
export function findSubmit(card: unknown, title: string): { data: Json } {
  let found: { data: Json } | undefined;
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const o = node as Json;
    if (o.type === 'Action.Submit' && o.title === title) found = o as { data: Json };
    Object.values(o).forEach(walk);
  };
  walk(card);
  if (!found) throw new Error(`no Action.Submit titled ${title}`);
  return found;
}
