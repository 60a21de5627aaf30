import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { json, listen, type LocalServer } from './http-util.js';

/**
 * A token issuer like the Bot Framework's and the calling platform's: an OpenID configuration
 * document, a JWKS, and RS256 tokens signed with a key generated for this run.
 */
export class JwtIssuer {
  private constructor(
    private readonly server: LocalServer,
    private readonly privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'],
    readonly kid: string,
  ) {}

  /** `endorsements` is what Bot Framework keys carry (the channels they may sign for). */
  static async start(options: { endorsements?: string[] } = {}): Promise<JwtIssuer> {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = `test-key-${Math.random().toString(36).slice(2, 8)}`;
    const jwk: JWK & { endorsements?: string[] } = {
      ...(await exportJWK(publicKey)),
      kid,
      use: 'sig',
      alg: 'RS256',
      ...(options.endorsements ? { endorsements: options.endorsements } : {}),
    };
    let base = '';
    const server = await listen((req, res) => {
      const path = req.url.split('?')[0];
      if (path === '/.well-known/openidconfiguration' || path === '/.well-known/OpenIdConfiguration') {
        json(res, 200, {
          issuer: 'https://api.botframework.com',
          jwks_uri: `${base}/keys`,
          id_token_signing_alg_values_supported: ['RS256'],
          token_endpoint_auth_methods_supported: ['private_key_jwt'],
        });
      } else if (path === '/keys') {
        json(res, 200, { keys: [jwk] });
      } else {
        json(res, 404, { error: 'not found' });
      }
    });
    base = server.url;
    return new JwtIssuer(server, privateKey, kid);
  }

  get openIdMetadataUrl(): string {
    return `${this.server.url}/.well-known/openidconfiguration`;
  }

  /** Signs a token; claims override the defaults (issuer, audience, one hour of validity). */
  async sign(claims: { iss: string; aud: string; expiresInSec?: number } & Record<string, unknown>): Promise<string> {
    const { iss, aud, expiresInSec = 3600, ...rest } = claims;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(rest)
      .setProtectedHeader({ alg: 'RS256', kid: this.kid, typ: 'JWT' })
      .setIssuer(iss)
      .setAudience(aud)
      .setIssuedAt(now - 5)
      .setNotBefore(now - 5)
      .setExpirationTime(now + expiresInSec)
      .sign(this.privateKey);
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
