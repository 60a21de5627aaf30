import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** One request the load generator sends: a POST with a JSON body (or a GET without one). */
export interface LoadRequest {
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface Answer {
  status: number;
  body: string;
  /** From sending the request to the last byte of the answer, milliseconds. */
  latencyMs: number;
}

export interface LoadResult<T> {
  /** Requests sent. */
  sent: number;
  /** What `read` made of each answer, in the order the requests were made (undefined: no answer). */
  answers: Array<T | undefined>;
  /** Requests that got no HTTP answer (connection error, timeout), with why. */
  failures: Array<{ index: number; error: string }>;
  latenciesMs: number[];
  /** From the first request sent to the last answer, milliseconds. */
  elapsedMs: number;
  /** Answers per second over `elapsedMs`. */
  perSecond: number;
}

export interface LoadOptions<T> {
  /**
   * Where to send, e.g. http://127.0.0.1:3978. Several: each connection sticks to one of them, in
   * turn (several instances behind one load balancer).
   */
  targets: readonly string[];
  /** Connections, each sending one request at a time (keep-alive). */
  concurrency: number;
  /** At most this many requests. */
  maxRequests: number;
  /** No request is started after this long (those in flight finish); undefined: until maxRequests. */
  durationMs?: number;
  /** The i-th request; undefined ends the run (nothing left to send). */
  next: (i: number) => LoadRequest | undefined;
  read: (answer: Answer, i: number) => T;
  /** Per-request deadline, milliseconds (default 60 s). */
  timeoutMs?: number;
}

/**
 * A closed-loop load generator: `concurrency` keep-alive connections, each sending its next
 * request when the last one is answered, for a fixed count or duration. The same generator
 * measures Bouncer and the bare restify ceiling, so the two numbers compare.
 */
export async function runLoad<T>(options: LoadOptions<T>): Promise<LoadResult<T>> {
  const agents = options.targets.map(() => new http.Agent({ keepAlive: true, maxSockets: Math.ceil(options.concurrency / options.targets.length) }));
  const answers: Array<T | undefined> = [];
  const failures: LoadResult<T>['failures'] = [];
  const latenciesMs: number[] = [];
  let nextIndex = 0;
  let done = false;
  const started = performance.now();
  let lastAnswer = started;

  const worker = async (w: number) => {
    const target = new URL(options.targets[w % options.targets.length]!);
    const agent = agents[w % agents.length]!;
    for (;;) {
      if (done || nextIndex >= options.maxRequests) return;
      if (options.durationMs !== undefined && performance.now() - started >= options.durationMs) return;
      const i = nextIndex++;
      const request = options.next(i);
      if (!request) {
        done = true;
        return;
      }
      try {
        const answer = await send(target, agent, request, options.timeoutMs ?? 60_000);
        latenciesMs.push(answer.latencyMs);
        answers[i] = options.read(answer, i);
        lastAnswer = performance.now();
      } catch (err) {
        failures.push({ index: i, error: err instanceof Error ? err.message : String(err) });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, (_, w) => worker(w)));
  } finally {
    for (const agent of agents) agent.destroy();
  }
  const elapsedMs = lastAnswer - started;
  return { sent: nextIndex, answers, failures, latenciesMs, elapsedMs, perSecond: elapsedMs > 0 ? (latenciesMs.length * 1000) / elapsedMs : 0 };
}

/** Sends one request over `agent`; resolves with the whole answer. */
export function send(target: URL, agent: http.Agent, request: LoadRequest, timeoutMs: number): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const t0 = performance.now();
    const body = request.body === undefined ? undefined : Buffer.from(request.body);
    const req = http.request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        method: request.method ?? 'POST',
        path: request.path,
        headers: { ...request.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), latencyMs: performance.now() - t0 }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The p-th percentile (0–100) of `values`, nearest rank; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}
