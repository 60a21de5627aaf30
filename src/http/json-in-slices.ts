import { TurnBudget } from '../app/domain/event-loop.js';

/**
 * `JSON.parse` for large bodies that lets the event loop run while it works. A Graph roster
 * notification of a 10,000-person meeting is about 8 MB, and one `JSON.parse` of it holds the
 * process for about 40 ms (more on a busy machine): every other request waits that long.
 *
 * Two passes, each in turns of a few milliseconds. The first finds where every container larger
 * than `leafBytes` ends (strings are skipped whole, with the native `indexOf`). The second builds
 * those large containers member by member and hands every smaller value (a participant) to the
 * native `JSON.parse`, which also checks it. The result is what `JSON.parse` gives (own
 * `__proto__` keys and the last of duplicate keys included); malformed text throws a SyntaxError
 * naming the byte offset. Structural characters are ASCII, so the UTF-8 bytes are sliced
 * between them and each slice decodes as the whole text would. Nesting deeper than `maxDepth` is
 * refused.
 */
export async function parseJsonInSlices(body: Buffer, options: JsonSliceOptions = {}): Promise<unknown> {
  const leafBytes = options.leafBytes ?? 64 * 1024;
  const maxDepth = options.maxDepth ?? 1_000;
  if (body.length <= leafBytes) return JSON.parse(body.toString('utf8'));
  const budget = new TurnBudget(options.turnMs ?? 5);
  const big = await largeContainers(body, leafBytes, maxDepth, budget);
  const builder = new Builder(body, big, budget);
  const start = skipSpace(body, 0);
  const [value, end] = await builder.value(start);
  if (skipSpace(body, end) !== body.length) throw syntaxError(end);
  return value;
}

export interface JsonSliceOptions {
  /** Containers up to this size are parsed whole by `JSON.parse` (default 64 KiB). */
  leafBytes?: number;
  /** How long each turn may work before it lets the event loop run (default 5 ms). */
  turnMs?: number;
  /** The deepest nesting accepted (default 1,000). */
  maxDepth?: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** How many bytes the first pass scans between two looks at the clock. */
const SCAN_STRIDE = 64 * 1024;

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(buf: Buffer, pos: number): number {
  while (isSpace(buf[pos])) pos++;
  return pos;
}

function syntaxError(pos: number): SyntaxError {
  return new SyntaxError(`Unexpected token in JSON at position ${pos}`);
}

/** The offset just after the string that opens at `start` (a quote), escapes honoured. */
function stringEnd(buf: Buffer, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = buf.indexOf(QUOTE, from);
    if (quote < 0) throw syntaxError(buf.length);
    let backslashes = 0;
    for (let k = quote - 1; k > start && buf[k] === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** First pass: where each container larger than `leafBytes` ends, by where it starts. */
async function largeContainers(buf: Buffer, leafBytes: number, maxDepth: number, budget: TurnBudget): Promise<Map<number, number>> {
  const big = new Map<number, number>();
  const open: number[] = [];
  let checkAt = SCAN_STRIDE;
  let pos = 0;
  while (pos < buf.length) {
    if (pos >= checkAt) {
      await budget.next();
      checkAt = pos + SCAN_STRIDE;
    }
    const c = buf[pos];
    if (c === QUOTE) {
      pos = stringEnd(buf, pos);
      continue;
    }
    if (c === LBRACE || c === LBRACKET) {
      if (open.length >= maxDepth) throw syntaxError(pos);
      open.push(pos);
    } else if (c === RBRACE || c === RBRACKET) {
      const start = open.pop();
      if (start === undefined || buf[start] !== (c === RBRACE ? LBRACE : LBRACKET)) throw syntaxError(pos);
      if (pos + 1 - start > leafBytes) big.set(start, pos + 1);
    }
    pos++;
  }
  if (open.length > 0) throw syntaxError(buf.length);
  return big;
}

/** Second pass: builds the large containers and parses everything else natively. */
class Builder {
  constructor(
    private readonly buf: Buffer,
    private readonly big: ReadonlyMap<number, number>,
    private readonly budget: TurnBudget,
  ) {}

  /** The value that starts at `pos`, and the offset just after it. */
  async value(pos: number): Promise<[unknown, number]> {
    const end = this.big.get(pos);
    if (end !== undefined) return [this.buf[pos] === LBRACE ? await this.object(pos, end) : await this.array(pos, end), end];
    const stop = this.extent(pos);
    await this.budget.next();
    return [JSON.parse(this.buf.toString('utf8', pos, stop)), stop];
  }

  /** Where a small value ends: a string, a container (balanced, found by the first pass) or a literal. */
  private extent(pos: number): number {
    const { buf } = this;
    const c = buf[pos];
    if (c === QUOTE) return stringEnd(buf, pos);
    if (c === LBRACE || c === LBRACKET) {
      let depth = 0;
      let i = pos;
      while (i < buf.length) {
        const d = buf[i];
        if (d === QUOTE) {
          i = stringEnd(buf, i);
          continue;
        }
        if (d === LBRACE || d === LBRACKET) depth++;
        else if ((d === RBRACE || d === RBRACKET) && --depth === 0) return i + 1;
        i++;
      }
      throw syntaxError(buf.length);
    }
    let i = pos;
    while (i < buf.length && !isSpace(buf[i]) && buf[i] !== COMMA && buf[i] !== RBRACE && buf[i] !== RBRACKET && buf[i] !== COLON) i++;
    if (i === pos) throw syntaxError(pos);
    return i;
  }

  private async object(start: number, end: number): Promise<Record<string, unknown>> {
    const { buf } = this;
    const out: Record<string, unknown> = {};
    let pos = skipSpace(buf, start + 1);
    if (buf[pos] === RBRACE) return this.closes(pos, end, out);
    for (;;) {
      if (buf[pos] !== QUOTE) throw syntaxError(pos);
      const keyEnd = stringEnd(buf, pos);
      const key = JSON.parse(buf.toString('utf8', pos, keyEnd)) as string;
      pos = skipSpace(buf, keyEnd);
      if (buf[pos] !== COLON) throw syntaxError(pos);
      const [value, after] = await this.value(skipSpace(buf, pos + 1));
      // As JSON.parse does: an own property even for "__proto__", the last duplicate winning.
      Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
      pos = skipSpace(buf, after);
      if (buf[pos] === COMMA) pos = skipSpace(buf, pos + 1);
      else if (buf[pos] === RBRACE) return this.closes(pos, end, out);
      else throw syntaxError(pos);
    }
  }

  private async array(start: number, end: number): Promise<unknown[]> {
    const { buf } = this;
    const out: unknown[] = [];
    let pos = skipSpace(buf, start + 1);
    if (buf[pos] === RBRACKET) return this.closes(pos, end, out);
    for (;;) {
      const [value, after] = await this.value(pos);
      out.push(value);
      pos = skipSpace(buf, after);
      if (buf[pos] === COMMA) pos = skipSpace(buf, pos + 1);
      else if (buf[pos] === RBRACKET) return this.closes(pos, end, out);
      else throw syntaxError(pos);
    }
  }

  /** A container's closing bracket must be the one the first pass paired with its opening. */
  private closes<T>(pos: number, end: number, value: T): T {
    if (pos !== end - 1) throw syntaxError(pos);
    return value;
  }
}
