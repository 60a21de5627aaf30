import { describe, expect, it } from 'vitest';
import { parseJsonInSlices } from '../../src/http/json-in-slices.js';

/** mulberry32: a small seeded PRNG, so one seed gives the same documents. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = ['', 'plain', 'quote " inside', 'back\\slash\\', 'ünïcødé', '😀 astral', '\u0000 control', 'ends with \\', '{"not": [json]}', '__proto__'];
const KEYS = ['a', 'b', 'id', '__proto__', 'constructor', 'é', '😀', '', 'a'];

/** A random JSON text, with random (valid) spacing between tokens. */
function randomJson(random: () => number, depth = 0): string {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const space = () => pick(['', '', ' ', '\n', '\t', ' \r\n  ']);
  const r = random();
  if (depth < 5 && r < 0.25) {
    const n = Math.floor(random() * 6);
    return `{${space()}${Array.from({ length: n }, () => `${JSON.stringify(pick(KEYS))}${space()}:${space()}${randomJson(random, depth + 1)}`).join(`${space()},${space()}`)}${space()}}`;
  }
  if (depth < 5 && r < 0.5) {
    const n = Math.floor(random() * 7);
    return `[${space()}${Array.from({ length: n }, () => randomJson(random, depth + 1)).join(`${space()},${space()}`)}${space()}]`;
  }
  return pick([
    () => JSON.stringify(pick(STRINGS)),
    () => String(Math.floor(random() * 2000) - 1000),
    () => String((random() - 0.5) * 1e6),
    () => '1e-7',
    () => '-0',
    () => pick(['true', 'false', 'null']),
  ])();
}

/** What JSON.parse says: the value, or that it throws. */
function reference(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

async function sliced(buf: Buffer, leafBytes: number): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await parseJsonInSlices(buf, { leafBytes }) };
  } catch (error) {
    return { ok: false, error };
  }
}

describe('parseJsonInSlices gives what JSON.parse gives', () => {
  it('for 2,000 seeded documents, split at many sizes', async () => {
    const random = prng(7);
    for (let i = 0; i < 2_000; i++) {
      const text = `${i % 3 === 0 ? ' \n' : ''}${randomJson(random)}${i % 5 === 0 ? '\n' : ''}`;
      const expected = reference(text);
      expect(expected.ok).toBe(true);
      for (const leafBytes of [1, 8, 40]) {
        const got = await sliced(Buffer.from(text), leafBytes);
        expect(got, text).toEqual(expected);
        // Own "__proto__" keys stay own keys; nothing reaches the prototype.
        if (got.ok) expect(JSON.stringify(got.value)).toBe(JSON.stringify((expected as { value: unknown }).value));
      }
    }
  });

  it('refuses what JSON.parse refuses: 3,000 seeded damaged documents', async () => {
    const random = prng(11);
    let refused = 0;
    for (let i = 0; i < 3_000; i++) {
      const text = randomJson(random);
      const at = Math.floor(random() * (text.length + 1));
      const damage = ['', '"', ',', ':', '}', ']', '{', '[', 'x', '\\', ' 1'][Math.floor(random() * 11)]!;
      // Drop one character, or put one in.
      const damaged = random() < 0.5 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + damage + text.slice(at);
      // A lone surrogate left by the damage is written as U+FFFD: compare with the bytes' text.
      const bytes = Buffer.from(damaged);
      const expected = reference(bytes.toString('utf8'));
      const got = await sliced(bytes, 4);
      expect({ ok: got.ok, value: got.ok ? got.value : undefined }, damaged).toEqual({ ok: expected.ok, value: expected.ok ? expected.value : undefined });
      if (!got.ok) {
        expect(got.error).toBeInstanceOf(SyntaxError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(1_000);
  });

  it('keeps own __proto__ keys and the last of duplicate keys, as JSON.parse does', async () => {
    const text = `{"__proto__": {"polluted": true}, "a": 1, "a": [2, {"__proto__": 3}], "x": "${'y'.repeat(100)}"}`;
    const value = (await parseJsonInSlices(Buffer.from(text), { leafBytes: 8 })) as Record<string, unknown>;
    expect(value).toEqual(JSON.parse(text));
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__', 'a', 'x']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('decodes bytes that are not UTF-8 as decoding the whole body does', async () => {
    const buf = Buffer.concat([Buffer.from('{"a": ["'), Buffer.from([0xc3, 0xff, 0xe2, 0x82]), Buffer.from('", "é"], "b": "x'), Buffer.from([0xc3]), Buffer.from('"}')]);
    expect(await parseJsonInSlices(buf, { leafBytes: 4 })).toEqual(JSON.parse(buf.toString('utf8')));
  });

  it('refuses nesting deeper than maxDepth in a large body', async () => {
    const deep = `${'['.repeat(50)}${']'.repeat(50)}`;
    await expect(parseJsonInSlices(Buffer.from(deep), { leafBytes: 4, maxDepth: 40 })).rejects.toThrow(SyntaxError);
    expect(await parseJsonInSlices(Buffer.from(deep), { leafBytes: 4, maxDepth: 60 })).toEqual(JSON.parse(deep));
  });

  it('lets the event loop run while it parses a large body', async () => {
    const participant = (i: number) => ({ id: `p-${i}`, info: { identity: { user: { id: `u-${i}`, displayName: `Person ${i} ✓` } } }, mediaStreams: [{ mediaType: 'audio', sourceId: String(i) }], isInLobby: false });
    const body = Buffer.from(JSON.stringify({ value: [{ changeType: 'updated', resourceData: Array.from({ length: 20_000 }, (_, i) => participant(i)) }] }));
    let turns = 0;
    let running = true;
    const tick = () => {
      turns++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const value = await parseJsonInSlices(body, { turnMs: 2 });
    running = false;
    expect(value).toEqual(JSON.parse(body.toString('utf8')));
    expect(turns).toBeGreaterThan(10);
  });
});
