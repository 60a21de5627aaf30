import http from 'node:http';
import https from 'node:https';

/**
 * What an upstream client (Graph, the Bot Connector) needs of HTTP: `fetch` has this shape, and so
 * has keepAliveHttp(). The deadline comes as `signal` (fetch) or, to keepAliveHttp(), as
 * `timeoutMs`: a plain timer, where an AbortSignal.timeout costs about 10-14 µs a request to make
 * and stays pending until it fires.
 */
export type HttpFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal; timeoutMs?: number },
) => Promise<HttpFetchResponse>;

export interface HttpFetchResponse {
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/**
 * The HTTP client Graph requests and the Bot Connector's proactive messages go through by default:
 * node:http(s) over one keep-alive agent per protocol, for this client's lifetime. A removal or a
 * chat notice is one small request and answer; `fetch` (undici) costs several times the CPU of a
 * plain request for that, which a raid of webhook kicks pays per kick. Redirects are not followed
 * (neither API answers one; a 3xx is a failure, and the token never goes anywhere but the URL
 * asked). The deadline (`timeoutMs`, or a signal) covers the answer's body too: past `timeoutMs` the
 * request is destroyed and rejects with a TimeoutError; an aborted signal rejects with the signal's
 * AbortError.
 */
export function keepAliveHttp(): HttpFetch {
  const agents = {
    'https:': new https.Agent({ keepAlive: true }),
    'http:': new http.Agent({ keepAlive: true }),
  };
  return (url, init) =>
    new Promise<HttpFetchResponse>((resolved, rejected) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let timedOut: Error | undefined;
      const resolve = (response: HttpFetchResponse) => {
        clearTimeout(timer);
        resolved(response);
      };
      // Whatever the request failed with once its time was up, it failed for that.
      const reject = (err: unknown) => {
        clearTimeout(timer);
        rejected(timedOut ?? err);
      };
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      if (!secure && target.protocol !== 'http:') {
        reject(new TypeError(`unsupported protocol ${target.protocol}`));
        return;
      }
      const body = init.body === undefined ? undefined : Buffer.from(init.body, 'utf8');
      const options: http.RequestOptions = {
        method: init.method,
        headers: { ...init.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
        agent: secure ? agents['https:'] : agents['http:'],
        signal: init.signal,
      };
      const req = (secure ? https : http).request(target, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', reject);
        res.once('aborted', () => reject(init.signal?.aborted ? abortError(init.signal) : new Error('the answer was cut off')));
        res.once('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          resolve({
            ok: status >= 200 && status < 300,
            status,
            headers: {
              get: (name) => {
                const value = res.headers[name.toLowerCase()];
                return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
              },
            },
            text: () => Promise.resolve(text),
          });
        });
      });
      req.once('error', reject);
      if (init.timeoutMs !== undefined) {
        const ms = init.timeoutMs;
        timer = setTimeout(() => {
          timedOut = Object.assign(new Error(`no answer within ${ms} ms`), { name: 'TimeoutError' });
          req.destroy(timedOut);
        }, ms);
      }
      req.end(body);
    });
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : Object.assign(new Error('aborted'), { name: 'AbortError' });
}
