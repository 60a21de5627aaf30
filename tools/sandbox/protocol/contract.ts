/**
 * A check of each request a protocol server receives against the vendor's published API
 * document. The tests plug in an OpenAPI validator; the sandbox runs without one.
 */
export interface RequestContract {
  /** The ways the request breaks the document; empty when it conforms. */
  check(request: { method: string; path: string; headers: Record<string, string | string[] | undefined>; body?: unknown }): string[];
}
