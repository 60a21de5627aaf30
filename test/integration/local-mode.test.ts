import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logger.js';
import { startBouncer, type RunningBouncer } from '../../src/main.js';
import { SandboxConnector } from '../../tools/sandbox/protocol/connector-server.js';

/** What a new user gets with nothing configured, talking from the Emulator or the Agents Playground. */
describe('local mode (no .env at all)', () => {
  let bouncer: RunningBouncer;
  let connector: SandboxConnector;

  beforeEach(async () => {
    const result = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: ':memory:' });
    if (!result.ok) throw new Error(result.problems.join('; '));
    expect(result.notices.join('\n')).toMatch(/local mode/);
    expect(result.notices.join('\n')).toMatch(/Microsoft Graph is not configured/);
    bouncer = await startBouncer(result.config, { logger: createLogger('silent') });
    connector = await SandboxConnector.start();
  });
  afterEach(async () => {
    await bouncer.close();
    await connector.close();
  });

  const say = async (text: string, entities: unknown[] = []) => {
    const id = `act-${Math.random()}`;
    const res = await fetch(`${bouncer.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'message',
        id,
        channelId: 'emulator',
        serviceUrl: connector.url,
        from: { id: 'user-1', name: 'User' },
        recipient: { id: 'bot-1', name: 'Bouncer' },
        conversation: { id: 'conv-1' },
        text,
        entities,
      }),
    });
    expect(res.status).toBe(200);
    const { activity } = await connector.waitForActivity((a) => a.replyToId === id);
    // Outcomes come as Adaptive Cards whose fallbackText carries the same words.
    const card = (activity.attachments as Array<{ content: { fallbackText?: string } }> | undefined)?.[0]?.content;
    return activity.text ?? card?.fallbackText;
  };

  it('answers /healthz and says what is configured', async () => {
    const res = await fetch(`${bouncer.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      configured: { botAuthentication: false, graph: false, publicBaseUrl: false },
    });
  });

  it('replies sensibly to /help and explains that /kick needs Graph', async () => {
    // Nobody has a meeting role here: /help lists what everyone may use and says more exists.
    const help = await say('/help');
    expect(help).toContain('`/help`');
    expect(help).not.toContain('/kick');
    expect(help).toContain('17 more commands are for meeting moderators (the organizer, named moderators) and Bouncer admins.');
    const reply = await say('/kick <at>Mallory</at>', [
      { type: 'mention', mentioned: { id: 'user-2', name: 'Mallory' }, text: '<at>Mallory</at>' },
    ]);
    expect(reply).toBe(
      "Bouncer can't reach that kind of call yet: an administrator needs to set GRAPH_TENANT_ID, GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET. Case #1.",
    );
    expect(await say('hello')).toBe('I don\'t know the command "hello". Try `/help`.');
  });
});
