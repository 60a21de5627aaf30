import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { BouncerError, isOutage, UpstreamError } from '../../app/domain/errors.js';

export interface CallsTokenVerifierOptions {
  /** OpenID configuration document whose `jwks_uri` lists the signing keys. */
  openIdMetadataUrl: string;
  issuer: string;
  /** The Graph application (client) id the notifications are addressed to. */
  audience: string;
  fetch?: typeof fetch;
  /** Allowed clock difference, seconds. */
  clockToleranceSec?: number;
  /** Deadline of the metadata request (default 15 s). */
  timeoutMs?: number;
}

// https://learn.microsoft.com/microsoftteams/platform/bots/calls-and-meetings/call-notifications
const openIdSchema = z.object({ jwks_uri: z.url() }).loose();

const METADATA_TTL_MS = 24 * 60 * 60_000;
/** A token verified is taken again without its signature checked for at most this long (and never past its expiry). */
const VERIFIED_TTL_MS = 10 * 60_000;
/** Tokens remembered at most (the calling platform reuses one for many notifications). */
const VERIFIED_MAX = 256;

/**
 * Verifies the bearer token Graph puts on call notifications: RS256, the configured issuer and
 * audience, signed by a key from the calling platform's OpenID metadata (cached, refreshed daily).
 * The calling platform sends many notifications with one token: a token that verified is
 * remembered, by its exact text, until it expires (within the same clock tolerance) or for
 * VERIFIED_TTL_MS, whichever comes first, so its RS256 signature is checked once, not once per
 * notification. A token that failed is never remembered.
 */
export class CallsTokenVerifier {
  private jwks?: { getKey: JWTVerifyGetKey; fetchedAt: number };
  /** Tokens that verified, with when they stop being taken (ms since the epoch), oldest first. */
  private readonly verified = new Map<string, number>();
  private pending?: Promise<JWTVerifyGetKey>;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: CallsTokenVerifierOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /**
   * Resolves when the Authorization header carries a valid token; throws NOTIFICATION_UNAUTHORIZED
   * otherwise, or UpstreamError when the signing keys cannot be had (the sender should retry).
   */
  async verify(authorization: string | undefined): Promise<void> {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) throw new BouncerError('NOTIFICATION_UNAUTHORIZED', 'no bearer token');
    const now = Date.now();
    const until = this.verified.get(token);
    if (until !== undefined) {
      if (now < until) return;
      this.verified.delete(token);
    }
    const getKey = await this.keys();
    const toleranceSec = this.options.clockToleranceSec ?? 300;
    try {
      const { payload } = await jwtVerify(token, getKey, {
        algorithms: ['RS256'],
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: toleranceSec,
        requiredClaims: ['exp'],
      });
      this.remember(token, Math.min((payload.exp ?? 0) * 1000 + toleranceSec * 1000, now + VERIFIED_TTL_MS));
    } catch (err) {
      if (isOutage(err)) throw err;
      throw new BouncerError('NOTIFICATION_UNAUTHORIZED', 'invalid bearer token', { cause: err });
    }
  }

  private remember(token: string, until: number): void {
    if (until <= Date.now()) return;
    this.verified.delete(token);
    this.verified.set(token, until);
    // The oldest go first; the calling platform uses a handful of tokens at a time.
    for (const oldest of this.verified.keys()) {
      if (this.verified.size <= VERIFIED_MAX) break;
      this.verified.delete(oldest);
    }
  }

  private async keys(): Promise<JWTVerifyGetKey> {
    if (this.jwks && Date.now() - this.jwks.fetchedAt < METADATA_TTL_MS) return this.jwks.getKey;
    this.pending ??= this.loadKeys().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async loadKeys(): Promise<JWTVerifyGetKey> {
    let res: Response;
    let body: unknown;
    try {
      res = await this.fetch(this.options.openIdMetadataUrl, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      });
      body = res.ok ? parseJson(await res.text()) : undefined;
    } catch (err) {
      throw new UpstreamError('calls-openid', 'cannot reach the calls OpenID metadata', { retryable: true, cause: err });
    }
    if (!res.ok) {
      throw new UpstreamError('calls-openid', `calls OpenID metadata unavailable (HTTP ${res.status})`, {
        status: res.status,
        retryable: true,
      });
    }
    const parsed = openIdSchema.safeParse(body);
    if (!parsed.success) {
      throw new UpstreamError('calls-openid', 'calls OpenID metadata has no usable jwks_uri', {
        code: 'UPSTREAM_INVALID_RESPONSE',
        status: res.status,
        retryable: true,
        cause: parsed.error,
      });
    }
    const remote = createRemoteJWKSet(new URL(parsed.data.jwks_uri), {
      cooldownDuration: 30_000,
      timeoutDuration: this.options.timeoutMs ?? 15_000,
      ...(this.options.fetch ? { [customFetch]: this.options.fetch } : {}),
    });
    // The key set itself is fetched while a token is verified: its failures are outages, not bad tokens.
    const getKey: JWTVerifyGetKey = async (header, token) => {
      try {
        return await remote(header, token);
      } catch (err) {
        if (!keySetUnavailable(err)) throw err;
        throw new UpstreamError('calls-openid', 'cannot get the calls signing keys', {
          code: err instanceof errors.JWKSInvalid ? 'UPSTREAM_INVALID_RESPONSE' : 'UPSTREAM_FAILED',
          retryable: true,
          cause: err,
        });
      }
    };
    this.jwks = { getKey, fetchedAt: Date.now() };
    return getKey;
  }
}

/** Whether the key set could not be had (unreachable, timed out, not 200, not a key set), as opposed to a token it cannot verify. */
function keySetUnavailable(err: unknown): boolean {
  if (!(err instanceof errors.JOSEError)) return true;
  return err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || err.code === errors.JOSEError.code;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
