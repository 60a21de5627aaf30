import type { Request, Response } from 'restify';

/** What a route sees of a request: the raw body and the headers it asks for, never restify's objects. */
export interface HttpInput {
  /** The raw query string, without `?` ('' when none). */
  query: string;
  /** The path's parameters (`:name` segments of the route's path), decoded. */
  params?: Readonly<Record<string, string>>;
  header(name: string): string | undefined;
  contentType: string | undefined;
  /** The body exactly as received (signatures are computed over it). */
  body: Buffer;
  remoteAddress: string | undefined;
}

/** A route's answer. A status of 400 or more must carry a problem body (src/http/problem.ts). */
export interface HttpAnswer {
  status: number;
  /** JSON body; omitted for 202/204. */
  body?: unknown;
  /** A body that is not JSON (e.g. TwiML), sent as it is with its content type; instead of `body`. */
  text?: { contentType: string; content: string };
  headers?: Record<string, string>;
}

/** A route served with the raw body; its answer is sent by the server (errors as problem+json). */
export interface RawRoute {
  kind: 'raw';
  method: 'GET' | 'POST';
  path: string;
  /** Largest body accepted; larger ones get 413. */
  maxBodyBytes: number;
  /**
   * Looks at the request before its body is read (headers only): an answer refuses it then, so
   * that a route taking large bodies reads them only from callers it has authenticated. `handle`
   * must still check whatever it relies on: it may be called without this.
   */
  admit?(input: Omit<HttpInput, 'body'>): Promise<HttpAnswer | undefined>;
  handle(input: HttpInput): Promise<HttpAnswer>;
}

/** A route that needs the server's own request and response (the Bot Framework adapter does). */
export interface NativeRoute {
  kind: 'native';
  method: 'POST';
  path: string;
  maxBodyBytes: number;
  handle(req: Request, res: Response): Promise<void>;
}

export type Route = RawRoute | NativeRoute;
