import http from 'node:http';
import net from 'node:net';
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
   * Where to send, e.g. http://127.0.0.1:3978 (plain HTTP/1.1). Several: each connection sticks to
   * one of them, in turn (several instances behind one load balancer).
   */
  targets: readonly string[];
  /** Connections, each sending one request at a time (keep-alive). */
  concurrency: number;
  /**
   * The requests, in the order they are sent: the i-th request sent is `requests[i]`. All of them
   * are serialized before the run starts (and were built and signed by the caller before that).
   */
  requests: readonly LoadRequest[];
  /**
   * When the requests run out, start again from the first (the ceiling: one request, over and
   * over, until `durationMs`). Without it the run ends when they run out.
   */
  cycle?: boolean;
  /** No request is started after this long (those in flight finish); undefined: until the requests run out. */
  durationMs?: number;
  /** What to keep of the i-th answer; called once the run is over, not while it is measured. */
  read: (answer: Answer, i: number) => T;
  /** Per-request deadline, milliseconds (default 60 s): a request unanswered by then is a failure, and its connection is replaced. */
  timeoutMs?: number;
  /**
   * Called as the clock starts (the requests serialized, the connections open) and as it stops
   * (every request answered or failed, before `read`): what a CPU meter should cover.
   */
  onStart?: () => void;
  onStop?: () => void;
}

/**
 * A closed-loop load generator: `concurrency` keep-alive connections, each sending its next
 * request when the last one is answered, for a fixed count or duration. The same generator
 * measures Bouncer and the bare restify ceiling, so the two numbers compare.
 *
 * Built to cost its process little per request, since it shares the machine with what it
 * measures: the requests are serialized to bytes before the clock starts, the connections are
 * opened before it too, and each is a raw socket (node:net) that writes a request's bytes and
 * reads the answer with `ResponseParser` (status line, headers, a Content-Length or chunked body)
 * into one buffer of its own; `read` runs on the answers after the run.
 */
export async function runLoad<T>(options: LoadOptions<T>): Promise<LoadResult<T>> {
  const { requests, concurrency } = options;
  if (options.targets.length === 0) throw new Error('runLoad: no target');
  const timeoutMs = options.timeoutMs ?? 60_000;
  const limit = options.cycle && requests.length > 0 ? Number.POSITIVE_INFINITY : requests.length;
  const targets = options.targets.map((t) => new URL(t));
  const notHttp = targets.find((t) => t.protocol !== 'http:');
  if (notHttp) throw new Error(`runLoad: plain http:// targets only, not ${notHttp.protocol}`);
  // The wire bytes of every request for every target (the Host header names the target).
  const wire = targets.map((target) => requests.map((r) => serializeRequest(r, target.host)));
  const statuses: number[] = [];
  const bodies: Buffer[] = [];
  const latencies: number[] = [];
  const latencyOf: number[] = [];
  const failures: LoadResult<T>['failures'] = [];
  let nextIndex = 0;
  let answered = 0;
  let started = 0;
  let lastAnswer = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const connections = Array.from({ length: concurrency }, (_, w) => new LoadConnection(targets[w % targets.length]!));
  let working = connections.length;
  const stopped = () => {
    if (--working === 0) finish();
  };
  const sendNext = (c: LoadConnection) => {
    if (nextIndex >= limit || (options.durationMs !== undefined && performance.now() - started >= options.durationMs)) {
      c.close();
      stopped();
      return;
    }
    const i = nextIndex++;
    const bytes = wire[c.targetIndex]![i % requests.length]!;
    c.send(i, bytes);
  };
  for (const [w, c] of connections.entries()) {
    c.targetIndex = w % targets.length;
    c.onAnswer = (i, status, body, latencyMs) => {
      statuses[i] = status;
      bodies[i] = body;
      latencies.push(latencyMs);
      latencyOf[i] = latencyMs;
      answered++;
      lastAnswer = performance.now();
      sendNext(c);
    };
    c.onFailure = (i, error) => {
      failures.push({ index: i, error });
      sendNext(c);
    };
  }
  // Every connection open before the clock starts; one that cannot be opened fails its requests.
  await Promise.all(connections.map((c) => c.open().catch(() => undefined)));
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const c of connections) c.expire(now, timeoutMs);
  }, Math.max(10, Math.min(250, timeoutMs / 4)));
  options.onStart?.();
  started = performance.now();
  lastAnswer = started;
  try {
    if (connections.length === 0) finish();
    for (const c of connections) sendNext(c);
    await finished;
  } finally {
    clearInterval(sweep);
    for (const c of connections) c.close();
  }
  options.onStop?.();
  const elapsedMs = lastAnswer - started;

  const answers: Array<T | undefined> = [];
  for (let i = 0; i < nextIndex; i++) {
    const body = bodies[i];
    if (body !== undefined) answers[i] = options.read({ status: statuses[i]!, body: body.toString('utf8'), latencyMs: latencyOf[i]! }, i);
  }
  return { sent: nextIndex, answers, failures, latenciesMs: latencies, elapsedMs, perSecond: elapsedMs > 0 ? (answered * 1000) / elapsedMs : 0 };
}

/** A request as bytes on the wire: HTTP/1.1, keep-alive (its default), with Host and Content-Length. */
export function serializeRequest(request: LoadRequest, host: string): Buffer {
  const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
  let head = `${request.method ?? 'POST'} ${request.path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (/[\r\n]/.test(name + value)) throw new Error(`header ${name}: no line breaks in a header`);
    head += `${name}: ${value}\r\n`;
  }
  if (body) head += `content-length: ${body.length}\r\n`;
  head += '\r\n';
  return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

/** Bytes each connection reads into (node:net's `onread`: no allocation per read). */
const READ_BUFFER_BYTES = 16 * 1024;

/** One keep-alive connection of the generator: one request at a time; replaced when it breaks. */
class LoadConnection {
  targetIndex = 0;
  onAnswer: (i: number, status: number, body: Buffer, latencyMs: number) => void = () => undefined;
  onFailure: (i: number, error: string) => void = () => undefined;
  private socket?: net.Socket;
  private ready?: Promise<void>;
  /** The request in flight: its index and when it was written. */
  private index = -1;
  private sentAt = 0;
  private closed = false;
  /** Why the current socket failed, when it did. */
  private socketError?: string;
  private readonly buffer = Buffer.alloc(READ_BUFFER_BYTES);
  private parser = this.newParser();

  constructor(private readonly target: URL) {}

  open(): Promise<void> {
    if (this.socket && !this.socket.destroyed) return this.ready!;
    this.parser = this.newParser();
    this.socketError = undefined;
    const socket: net.Socket = net.connect({
      host: this.target.hostname,
      port: Number(this.target.port || 80),
      noDelay: true,
      onread: {
        buffer: this.buffer,
        callback: (n: number, buf: Uint8Array) => {
          // Bytes of a connection given up on (timed out, replaced) are dropped.
          if (this.socket !== socket) return false;
          this.read(buf, n);
          return true;
        },
      },
    });
    this.socket = socket;
    this.ready = new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    socket.on('error', (err) => {
      if (this.socket === socket) this.socketError = err.message;
    });
    socket.on('end', () => {
      if (this.socket === socket) this.guard(() => this.parser.end());
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.index >= 0) this.fail(this.socketError ?? `connection closed before the answer${this.parser.midAnswer ? ' had arrived whole' : ''}`);
    });
    return this.ready;
  }

  send(i: number, bytes: Buffer): void {
    if (this.closed) return;
    if (!this.socket || this.socket.destroyed) void this.open().catch(() => undefined);
    this.index = i;
    this.sentAt = performance.now();
    this.socket!.write(bytes);
  }

  /** The request in flight fails if it has waited `timeoutMs` by `now`; its connection is replaced. */
  expire(now: number, timeoutMs: number): void {
    if (this.index >= 0 && now - this.sentAt >= timeoutMs) {
      const socket = this.socket;
      this.socket = undefined;
      this.fail(`no answer within ${timeoutMs} ms`);
      socket?.destroy();
    }
  }

  close(): void {
    this.closed = true;
    this.socket?.destroy();
    this.socket = undefined;
  }

  private read(buf: Uint8Array, n: number): void {
    this.guard(() => this.parser.push(Buffer.from(buf.buffer, buf.byteOffset, n)));
  }

  /** A malformed answer fails the request in flight and closes its connection. */
  private guard(parse: () => void): void {
    try {
      parse();
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err));
    }
  }

  private fail(error: string): void {
    const i = this.index;
    this.index = -1;
    this.parser = this.newParser();
    if (this.socket) {
      // What is left of the answer may still come: nothing more is read from this connection.
      this.socket.destroy();
      this.socket = undefined;
    }
    if (i >= 0) this.onFailure(i, error);
  }

  private newParser(): ResponseParser {
    const parser = new ResponseParser((answer) => {
      // A parser given up on (its connection failed) may still be finishing a piece: not for this request.
      if (this.parser !== parser) return;
      const i = this.index;
      if (i < 0) {
        this.fail('an answer that no request asked for');
        return;
      }
      this.index = -1;
      const latencyMs = performance.now() - this.sentAt;
      if (!answer.keepAlive) {
        // The server closes this connection: the next request goes on a new one.
        this.socket?.end();
        this.socket = undefined;
      }
      this.onAnswer(i, answer.status, answer.body, latencyMs);
    });
    return parser;
  }
}

/** An HTTP/1.1 answer as `ResponseParser` read it. */
export interface ParsedResponse {
  status: number;
  /** Header names in lower case; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** Whether the connection stays open for the next request (no `Connection: close`, HTTP/1.1). */
  keepAlive: boolean;
}

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
/** A head larger than this is not an answer the bench expects: the parser gives up on the connection. */
const MAX_HEAD_BYTES = 64 * 1024;

/**
 * A minimal HTTP/1.1 response parser for the load generator: fed the bytes of one connection as
 * they come (in pieces of any size; it copies what it keeps, so the caller may reuse its buffer),
 * it calls `onResponse` for each whole answer: status, headers, and the body by Content-Length,
 * chunked transfer coding (chunk extensions and trailers skipped), or up to the end of the
 * connection. 1xx answers are skipped; 204 and 304 have no body. Answers to HEAD requests are not
 * understood (the generator sends none). A malformed answer throws.
 */
export class ResponseParser {
  private state: 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'until-close' | 'broken' = 'head';
  /** Bytes not consumed yet (a head or a chunk line cut between two pieces). */
  private pending?: Buffer;
  private status = 0;
  private headers: Record<string, string> = {};
  private keepAlive = true;
  private parts: Buffer[] = [];
  /** Body bytes (or bytes of the current chunk) still to come. */
  private left = 0;

  constructor(private readonly onResponse: (response: ParsedResponse) => void) {}

  /** Whether part of an answer has been read and the rest has not. */
  get midAnswer(): boolean {
    return this.state !== 'head' || this.pending !== undefined;
  }

  /** The next bytes of the connection. */
  push(piece: Buffer): void {
    let data = piece;
    let owned = false;
    if (this.pending) {
      data = Buffer.concat([this.pending, piece]);
      owned = true;
      this.pending = undefined;
    }
    let at = 0;
    while (at < data.length) {
      switch (this.state) {
        case 'head': {
          const end = data.indexOf(HEAD_END, at);
          if (end < 0) return this.keep(data, at, owned, 'head');
          this.head(data.toString('latin1', at, end));
          at = end + HEAD_END.length;
          break;
        }
        case 'length': {
          const n = Math.min(this.left, data.length - at);
          this.parts.push(owned ? data.subarray(at, at + n) : Buffer.from(data.subarray(at, at + n)));
          this.left -= n;
          at += n;
          if (this.left === 0) this.complete();
          break;
        }
        case 'chunk-size':
        case 'chunk-end':
        case 'trailers': {
          const end = data.indexOf(CRLF, at);
          if (end < 0) return this.keep(data, at, owned, this.state);
          const line = data.toString('latin1', at, end);
          at = end + CRLF.length;
          this.line(line);
          break;
        }
        case 'chunk-data': {
          const n = Math.min(this.left, data.length - at);
          this.parts.push(owned ? data.subarray(at, at + n) : Buffer.from(data.subarray(at, at + n)));
          this.left -= n;
          at += n;
          if (this.left === 0) this.state = 'chunk-end';
          break;
        }
        case 'until-close':
          this.parts.push(owned ? data.subarray(at) : Buffer.from(data.subarray(at)));
          at = data.length;
          break;
        case 'broken':
          return;
      }
    }
  }

  /** The connection ended: an answer delimited by the end of the connection is complete. */
  end(): void {
    if (this.state === 'until-close') this.complete();
  }

  private keep(data: Buffer, at: number, owned: boolean, state: 'head' | 'chunk-size' | 'chunk-end' | 'trailers'): void {
    if (data.length - at > MAX_HEAD_BYTES) this.broken(`a ${state === 'head' ? 'head' : 'chunk line'} longer than ${MAX_HEAD_BYTES} bytes`);
    this.pending = owned && at === 0 ? data : Buffer.from(data.subarray(at));
  }

  private head(text: string): void {
    const lines = text.split('\r\n');
    const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
    if (!statusLine) this.broken(`not an HTTP/1.x status line: ${JSON.stringify(lines[0]?.slice(0, 80))}`);
    const status = Number(statusLine![2]);
    const headers: Record<string, string> = {};
    for (let k = 1; k < lines.length; k++) {
      const line = lines[k]!;
      const colon = line.indexOf(':');
      if (colon <= 0) this.broken(`not a header line: ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    if (status < 200) return; // 100 Continue, 103 Early Hints: the answer itself follows.
    this.status = status;
    this.headers = headers;
    const connection = headers.connection?.toLowerCase() ?? '';
    this.keepAlive = statusLine![1] === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    this.parts = [];
    const coding = headers['transfer-encoding']?.toLowerCase();
    if (status === 204 || status === 304) this.complete();
    else if (coding !== undefined && coding !== 'identity') {
      if (!/(^|,)\s*chunked\s*$/.test(coding)) this.broken(`transfer-encoding ${coding} without chunked last`);
      this.state = 'chunk-size';
    } else if (headers['content-length'] !== undefined) {
      if (!/^\d+$/.test(headers['content-length'])) this.broken(`content-length ${headers['content-length']}`);
      this.left = Number(headers['content-length']);
      if (this.left === 0) this.complete();
      else this.state = 'length';
    } else {
      this.keepAlive = false;
      this.state = 'until-close';
    }
  }

  private line(line: string): void {
    if (this.state === 'chunk-size') {
      const size = /^([0-9a-fA-F]+)\s*(;.*)?$/.exec(line);
      if (!size) this.broken(`not a chunk size: ${JSON.stringify(line.slice(0, 80))}`);
      this.left = parseInt(size![1]!, 16);
      this.state = this.left === 0 ? 'trailers' : 'chunk-data';
    } else if (this.state === 'chunk-end') {
      if (line !== '') this.broken('a chunk longer than its size');
      this.state = 'chunk-size';
    } else if (line === '') {
      this.complete();
    } // else: a trailer field, skipped.
  }

  private complete(): void {
    const body = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    const response: ParsedResponse = { status: this.status, headers: this.headers, body, keepAlive: this.keepAlive };
    this.state = 'head';
    this.parts = [];
    this.headers = {};
    this.onResponse(response);
  }

  private broken(why: string): never {
    this.state = 'broken';
    this.pending = undefined;
    throw new Error(`malformed HTTP answer: ${why}`);
  }
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
