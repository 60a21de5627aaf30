import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED_PATHS } from '../../src/logger.js';

/** An in-memory pino destination: every log line, parsed. */
function memoryDestination() {
  const chunks: string[] = [];
  return {
    write(chunk: string) {
      chunks.push(chunk);
    },
    get text() {
      return chunks.join('');
    },
    get lines(): Array<Record<string, unknown>> {
      return this.text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
  };
}

const SECRETS = ['Bearer secret-token', 'secret-token', 's3cret', 'hunter2', 'app-pa55', 'graph-s3cret', 'eyJ0eXAi.jwt', 'cookie-value'];

describe('createLogger', () => {
  it('writes JSON lines at or above its level, tagged with the service', () => {
    const out = memoryDestination();
    const logger = createLogger('info', out);
    logger.debug({ step: 1 }, 'hidden');
    logger.info({ step: 2 }, 'shown');

    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatchObject({ service: 'bouncer', step: 2, msg: 'shown', level: 30 });
  });

  it.each<[string, object]>([
    ['a top-level authorization', { authorization: 'Bearer secret-token' }],
    ['headers.authorization', { headers: { authorization: 'Bearer secret-token' } }],
    ['request headers', { request: { headers: { authorization: 'Bearer secret-token' } } }],
    ['req.headers.authorization and cookie', { req: { headers: { authorization: 'Bearer secret-token', cookie: 'cookie-value' } } }],
    ['a nested authorization', { upstream: { authorization: 'Bearer secret-token' } }],
    ['config.graph.clientSecret', { config: { graph: { clientSecret: 's3cret' } } }],
    ['a top-level clientSecret', { clientSecret: 's3cret' }],
    ['password', { password: 'hunter2', user: { password: 'hunter2' } }],
    ['config.bot.appPassword', { config: { bot: { appPassword: 'app-pa55' } } }],
    ['the raw environment', { env: { MicrosoftAppPassword: 'app-pa55', GRAPH_CLIENT_SECRET: 'graph-s3cret' } }],
    ['tokens', { token: 'eyJ0eXAi.jwt', body: { access_token: 'eyJ0eXAi.jwt', client_secret: 'graph-s3cret' } }],
  ])('redacts %s', (_label, obj) => {
    const out = memoryDestination();
    createLogger('info', out).info(obj, 'something happened');

    for (const secret of SECRETS) expect(out.text).not.toContain(secret);
    expect(out.text).toContain('[redacted]');
    expect(out.lines[0]).toMatchObject({ msg: 'something happened' });
  });

  it('keeps the fields next to a redacted one', () => {
    const out = memoryDestination();
    createLogger('info', out).warn(
      { req: { method: 'POST', url: '/api/messages', headers: { authorization: 'Bearer secret-token', 'content-type': 'application/json' } } },
      'inbound',
    );

    expect(out.lines[0]).toMatchObject({
      req: {
        method: 'POST',
        url: '/api/messages',
        headers: { authorization: '[redacted]', 'content-type': 'application/json' },
      },
    });
  });

  it('redacts in child loggers too', () => {
    const out = memoryDestination();
    createLogger('info', out).child({ component: 'graph' }).error({ headers: { authorization: 'Bearer secret-token' } }, 'failed');

    expect(out.text).not.toContain('secret-token');
    expect(out.lines[0]).toMatchObject({ component: 'graph', headers: { authorization: '[redacted]' } });
  });

  it('redacts in an error after its serializer, keeping its message and stack', () => {
    const out = memoryDestination();
    const err = Object.assign(new Error('upstream said no', { cause: new Error('socket hang up') }), {
      code: 'UPSTREAM_FAILED',
      headers: { authorization: 'Bearer secret-token', 'request-id': 'r-1' },
      token: 'eyJ0eXAi.jwt',
    });
    createLogger('info', out).error({ err, path: '/api/moderation/kick' }, 'request failed');

    for (const secret of SECRETS) expect(out.text).not.toContain(secret);
    expect(out.lines[0]).toMatchObject({
      path: '/api/moderation/kick',
      err: { type: 'Error', message: 'upstream said no: socket hang up', code: 'UPSTREAM_FAILED', headers: { authorization: '[redacted]', 'request-id': 'r-1' }, token: '[redacted]' },
    });
    expect((out.lines[0]!.err as { stack: string }).stack).toContain('caused by: Error: socket hang up');
    // The logged error itself is left as it was.
    expect(err.token).toBe('eyJ0eXAi.jwt');
  });

  it('redacts in a child logger\'s bindings and in objects interpolated into the message', () => {
    const out = memoryDestination();
    const logger = createLogger('info', out);
    logger.child({ component: 'graph', auth: { token: 'eyJ0eXAi.jwt' } }).child({ password: 'hunter2' }).info({ step: 1 }, 'child');
    logger.info({ step: 2 }, 'sent %o', { headers: { authorization: 'Bearer secret-token' } });

    for (const secret of SECRETS) expect(out.text).not.toContain(secret);
    expect(out.lines[0]).toMatchObject({ component: 'graph', auth: { token: '[redacted]' }, password: '[redacted]', step: 1 });
    expect(out.lines[1]).toMatchObject({ step: 2, msg: 'sent {"headers":{"authorization":"[redacted]"}}' });
  });

  it('logs an object with nothing to redact as it is, and never changes a logged object', () => {
    const out = memoryDestination();
    const plain = { requestId: 'msg_1', caseId: 7, nested: { list: [1, 'two'], deeper: { a: { b: 'c' } } }, at: new Date(0) };
    const secret = { requestId: 'msg_2', nested: { list: [1, 'two'], token: 'eyJ0eXAi.jwt' } };
    const before = structuredClone([plain, secret]);
    const logger = createLogger('info', out);
    logger.info(plain, 'webhook request');
    logger.info(secret, 'webhook request');

    expect([plain, secret]).toEqual(before);
    expect(out.lines[0]).toMatchObject({ ...before[0], at: '1970-01-01T00:00:00.000Z' });
    expect(out.lines[1]).toMatchObject({ requestId: 'msg_2', nested: { list: [1, 'two'], token: '[redacted]' } });
  });

  it('lists the paths it promises to redact', () => {
    expect(REDACTED_PATHS).toEqual(
      expect.arrayContaining(['authorization', 'headers.authorization', 'req.headers.authorization', '*.*.clientSecret']),
    );
  });
});
