import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, isListening } from '../support/ports.js';

// `npm run playground`, end to end: the Microsoft 365 Agents Playground is driven through the HTTP
// and WebSocket interface its own web page uses, and the sandbox's state page shows who is left.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PACKAGE = '@microsoft/m365agentsplayground';

function playgroundInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve(`${PACKAGE}/cli.js`);
    return true;
  } catch {
    return false;
  }
}

const installed = playgroundInstalled();
if (!installed) {
  console.warn(`SKIPPED the Agents Playground test: ${PACKAGE} is not installed (it is a dev dependency; run npm ci).`);
}

interface PlaygroundUser {
  id: string;
  name: string;
}

interface PlaygroundConfig {
  config: {
    bot: PlaygroundUser;
    currentUser: PlaygroundUser;
    users: PlaygroundUser[];
    groupChats: Array<{ id: string; name: string; members: string[] }>;
  };
}

/** A message the Playground pushes to its page over the WebSocket. */
interface StreamMessage {
  action: string;
  actionConversationId: string;
  message: { messageId: string; from: { id: string }; text?: string; attachments?: Array<{ contentType: string; content: { fallbackText?: string; body?: unknown[] } }> };
}

interface SandboxState {
  teamsCall: { callId?: string; state?: string; participants: string[]; muted: string[] };
  phoneConference: { status: string; participants: string[] };
  /** The removed, each with the request that makes them try to rejoin (the page's Rejoin button). */
  removed: Array<{ id: string; name: string; where: string; rejoin: { method: string; url: string; body: { who: string } } }>;
  notices: Array<{ via: string; to: string; url?: string }>;
}



describe.skipIf(!installed)('npm run playground: the Agents Playground against Bouncer in sandbox mode', () => {
  let child: ChildProcess;
  let output = '';
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let bouncerPort: number;
  let playgroundUrl: string;
  let playgroundPort: number;
  let stateUrl: string;
  let ws: WebSocket;
  const stream: StreamMessage[] = [];
  let config: PlaygroundConfig['config'];
  let chatId: string;

  beforeAll(async () => {
    [bouncerPort, playgroundPort] = await Promise.all([freePort(), freePort()]);
    // Its own process group, as a terminal runs it, so that Ctrl-C can go to the whole group.
    child = spawn('npm', ['run', 'playground'], {
      cwd: repoRoot,
      env: { ...process.env, PORT: String(bouncerPort), PLAYGROUND_PORT: String(playgroundPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    // 'close': npm and everything it started that still holds its output are gone.
    exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
    child.stdout!.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const deadline = Date.now() + 150_000;
    while (!/Sandbox state[^\n]*: (http:\/\/\S+)/.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`npm run playground did not come up:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    playgroundUrl = /Open the Agents Playground: (http:\/\/\S+)/.exec(output)![1]!;
    stateUrl = /Sandbox state[^\n]*: (http:\/\/\S+)/.exec(output)![1]!;

    // What the page does when it opens: read the configuration, then subscribe to the stream.
    config = ((await (await fetch(`${playgroundUrl}/_internal/v1/config`)).json()) as PlaygroundConfig).config;
    chatId = config.groupChats[0]!.id;
    ws = new WebSocket(`${playgroundUrl.replace(/^http/, 'ws')}/_ws_conversation/v1/conversations/stream`);
    ws.on('message', (data) => stream.push(JSON.parse(String(data)) as StreamMessage));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
  }, 180_000);

  afterAll(async () => {
    ws?.close();
    // Only when a test failed before Ctrl-C: leave no process behind.
    if (child && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
      await exited;
    }
  });

  /**
   * Types a message in the group chat as the page's composer sends it (mentions are the
   * `<at>Name</at>` runs that name a member) and waits for the bot's answer on the stream.
   */
  async function say(text: string): Promise<string> {
    return replyText(await post(text));
  }

  function replyText(reply: StreamMessage['message']): string {
    return reply.text ?? reply.attachments?.[0]?.content.fallbackText ?? '';
  }

  /** The bot's next message in the group chat after `seen` stream items. */
  async function nextReply(seen: number, what: string): Promise<StreamMessage['message']> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const reply = stream
        .slice(seen)
        .find((m) => m.action === 'createMessage' && m.actionConversationId === chatId && m.message.from.id === config.bot.id);
      if (reply) return reply.message;
      if (Date.now() > deadline) throw new Error(`no reply to ${what}; the launcher printed:\n${output.split('\n').slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function post(text: string): Promise<StreamMessage['message']> {
    const members = [config.bot, config.currentUser, ...config.users];
    const mentions = [...text.matchAll(/<at>(.*?)<\/at>/g)].flatMap(([whole, name]) => {
      const member = members.find((m) => m.name === name);
      return member ? [{ mentioned: { id: member.id, name: member.name }, text: whole }] : [];
    });
    const seen = stream.length;
    const res = await fetch(`${playgroundUrl}/_conversation/v1/conversations/${encodeURIComponent(chatId)}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'text', text, textFormat: 'plain', from: { id: config.currentUser.id }, mentions }),
    });
    expect(res.status).toBe(200);
    return nextReply(seen, text);
  }

  /** Finds the Action.Submit data of a card's button whose data names `name`. */
  function submitData(node: unknown, name: string): Record<string, unknown> | undefined {
    if (Array.isArray(node)) return node.map((n) => submitData(n, name)).find(Boolean);
    if (!node || typeof node !== 'object') return undefined;
    const o = node as { type?: string; data?: Record<string, unknown> };
    if (o.type === 'Action.Submit' && o.data?.name === name) return o.data;
    return Object.values(o).map((v) => submitData(v, name)).find(Boolean);
  }

  const sandboxState = async () => (await (await fetch(stateUrl)).json()) as SandboxState;

  it('prints the Playground URL and labels the sandbox', () => {
    expect(output).toContain('BOUNCER SANDBOX');
    expect(playgroundUrl).toBe(`http://localhost:${playgroundPort}`);
    expect(output).toContain('SANDBOX MODE');
  });

  it("seeds the Playground's people and group chat from the sandbox's meeting", () => {
    expect(config.bot.name).toBe('Bouncer');
    expect(config.currentUser.name).toBe('Alex Wilber');
    expect(config.groupChats[0]!.name).toBe('Weekly sync (meeting chat)');
  });

  it('/kick @Megan Bowen removes her from the sandbox call, and /participants shows it', async () => {
    expect(await say('<at>Bouncer</at> /bind')).toMatch(/^Connected to this meeting's call/);
    let state = await sandboxState();
    expect(state.teamsCall.state).toBe('established');
    expect(state.teamsCall.participants).toContain('Megan Bowen');
    expect(await say('<at>Bouncer</at> /participants')).toContain('- Megan Bowen');

    expect(await say('<at>Bouncer</at> /kick <at>Megan Bowen</at>')).toMatch(/^Removed \*\*Megan Bowen\*\* from the call\. Case #\d+\.$/);

    state = await sandboxState();
    expect(state.teamsCall.participants).not.toContain('Megan Bowen');
    expect(state.teamsCall.participants).toEqual(expect.arrayContaining(['Alex Wilber', 'Adele Vance']));
    const roster = await say('<at>Bouncer</at> /participants');
    expect(roster).not.toContain('Megan Bowen');
    expect(roster).toContain('- Adele Vance');
  });

  it("a roster card's Remove button, clicked as the page posts it, removes that person", async () => {
    const card = await post('<at>Bouncer</at> /participants');
    const data = submitData(card.attachments?.[0]?.content, 'Isaiah Langer');
    expect(data).toMatchObject({ bouncer: 'kick', name: 'Isaiah Langer' });
    const seen = stream.length;
    const res = await fetch(`${playgroundUrl}/_conversation/v1/submit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ conversation: { id: chatId }, from: { id: config.currentUser.id }, replyToId: card.messageId, value: data }),
    });
    expect(res.status).toBe(200);
    expect(replyText(await nextReply(seen, 'the Remove button'))).toMatch(/^Removed \*\*Isaiah Langer\*\* from the call\. Case #\d+\.$/);
    expect((await sandboxState()).teamsCall.participants).not.toContain('Isaiah Langer');
  });

  it('says who is not in the call, and that nobody can kick themselves', async () => {
    expect(await say('<at>Bouncer</at> /kick <at>Lynne Robbins</at>')).toMatch(/^\*\*Lynne Robbins\*\* is not in the call right now, so nobody was removed\./);
    expect(await say('<at>Bouncer</at> /kick <at>Alex Wilber</at>')).toMatch(/yourself/i);
  });

  it('/status says it is the sandbox', async () => {
    expect(await say('<at>Bouncer</at> /status')).toMatch(/^Sandbox mode: calls and phone conferences are simulated on this machine\./);
  });

  it('/ban @Megan Bowen keeps her out: her Rejoin from the state page is undone within a second, as an auto case, and the chat is told', async () => {
    const banned = await say('<at>Bouncer</at> /ban <at>Megan Bowen</at> for 1h');
    expect(banned).toMatch(/^Banned \*\*Megan Bowen\*\* from this chat's calls until .+ UTC\. They are not in the call right now; if they join, I'll remove them\. Case #\d+\.$/);
    const banCase = /Case #(\d+)\.$/.exec(banned)![1]!;
    const rejoin = (await sandboxState()).removed.find((p) => p.name === 'Megan Bowen')!.rejoin;
    expect(rejoin.method).toBe('POST');

    // The banner says how; the state page's Rejoin button posts this: Graph's roster notification shows her back.
    expect(output).toMatch(/Rejoin: on that page, a removed person has a Rejoin button/);
    const seen = stream.length;
    const started = Date.now();
    const res = await fetch(rejoin.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rejoin.body) });
    expect(res.status).toBe(200);
    const result = (await res.json()) as { inCall: boolean; removedAfterMs?: number };
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result.inCall).toBe(false);
    expect(result.removedAfterMs).toBeLessThan(1000);
    expect((await sandboxState()).teamsCall.participants).not.toContain('Megan Bowen');

    const told = replyText(await nextReply(seen, "Megan's rejoin"));
    const autoCase = new RegExp(`^\\*\\*Megan Bowen\\*\\* tried to join the call but is banned \\(case #${banCase}\\), so I removed them\\. Case #(\\d+)\\.$`).exec(told)?.[1];
    expect(autoCase, told).toBeDefined();
    // The audit log: the automatic removal, by Bouncer, naming the ban's case.
    expect(await say('<at>Bouncer</at> /modlog')).toContain(`Bouncer → Megan Bowen \\(ban \\#${banCase}\\)`);
  });

  it('/mute mutes a person for everyone, and /warn tells one person privately', async () => {
    expect(await say('<at>Bouncer</at> /mute <at>Adele Vance</at>')).toMatch(/^Muted \*\*Adele Vance\*\* for everyone in the call\. Case #\d+\.$/);
    expect((await sandboxState()).teamsCall.muted).toEqual(['Adele Vance']);
    expect(await say('<at>Bouncer</at> /unmute <at>Adele Vance</at>')).toMatch(/^Only the person can unmute themselves/);

    expect(await say('<at>Bouncer</at> /warn <at>Patti Fernandez</at> keep it civil')).toMatch(
      /^Warned \*\*Patti Fernandez\*\* privately: only they got the warning\. Case #\d+\.$/,
    );
    const notice = (await sandboxState()).notices.find((n) => n.to === 'Patti Fernandez');
    expect(notice?.via).toBe('teams');
    // What opens on her meeting stage: Bouncer's notice page, with the warning.
    expect(await (await fetch(notice!.url!)).text()).toContain('keep it civil');
  });

  it('kicks from the sandbox Twilio conference too, which tells Bouncer through a signed status callback', async () => {
    expect(await say('<at>Bouncer</at> /bind twilio Sandbox dial-in')).toMatch(/Sandbox dial-in/);
    expect(await say('<at>Bouncer</at> /kick label:Guest 1')).toMatch(/^Removed \*\*label "Guest 1"\*\* from the call\./);
    const state = await sandboxState();
    expect(state.phoneConference.participants.some((p) => p.startsWith('Guest 1'))).toBe(false);
    expect(await say('<at>Bouncer</at> /participants')).not.toContain('Guest 1');
    expect(await say('<at>Bouncer</at> /modlog')).toMatch(/Megan Bowen[\s\S]*Guest 1|Guest 1[\s\S]*Megan Bowen/);
  });

  it('stops everything on Ctrl-C', async () => {
    // A terminal's Ctrl-C: SIGINT to the whole foreground process group (npm and the launcher).
    process.kill(-child.pid!, 'SIGINT');
    const ended = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
    expect(ended).not.toBe('timeout');
    // npm itself ends on the SIGINT (as a shell shows ^C) or with the launcher's exit code 0.
    expect(ended === 'timeout' ? undefined : (ended.signal ?? ended.code)).toMatch(/^(SIGINT|0)$/);
    expect(output).toContain('Ctrl-C: shutting down');
    expect(output).toContain('Stopped: the Playground, Bouncer and the sandbox are down');
    expect(output).not.toMatch(/did not stop within/);
    expect(await isListening(playgroundPort)).toBe(false);
    expect(await isListening(bouncerPort)).toBe(false);
    await expect(fetch(stateUrl)).rejects.toThrow();
  }, 30_000);
});
