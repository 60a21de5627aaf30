import { randomUUID } from 'node:crypto';
import { json, listen, type LocalServer, type TlsIdentity } from './http-util.js';

export interface TokenRequest {
  tenant: string;
  clientId: string;
  scope: string;
  grantType: string;
}

/**
 * The Microsoft identity platform's token endpoint as MSAL uses it for client credentials:
 * `/{tenant}/v2.0/.well-known/openid-configuration` and `/{tenant}/oauth2/v2.0/token`, over TLS.
 * Tokens are opaque strings recorded with the client and scope they were issued to.
 */
/**
 * token → who it was issued to, shared by every token server in the process: botbuilder caches
 * tokens in a static map across adapters, as a real client keeps a token across restarts of a peer.
 */
const issued = new Map<string, TokenRequest>();

export class TokenServer {
  readonly requests: TokenRequest[] = [];

  private constructor(private readonly server: LocalServer) {}

  static async start(options: { tls: TlsIdentity; secrets?: Record<string, string> }): Promise<TokenServer> {
    const ref: { self?: TokenServer } = {};
    const server = await listen(
      (req, res) => {
        const url = new URL(req.url, 'https://127.0.0.1');
        const parts = url.pathname.split('/').filter(Boolean);
        const tenant = parts[0] ?? '';
        const rest = parts.slice(1).join('/');
        const base = `${server.url}/${tenant}`;
        if (rest === 'v2.0/.well-known/openid-configuration') {
          json(res, 200, {
            token_endpoint: `${base}/oauth2/v2.0/token`,
            authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
            issuer: `${base}/v2.0`,
            jwks_uri: `${base}/discovery/v2.0/keys`,
            end_session_endpoint: `${base}/oauth2/v2.0/logout`,
            response_types_supported: ['code', 'id_token', 'token'],
            token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
          });
          return;
        }
        if (rest === 'oauth2/v2.0/token' && req.method === 'POST') {
          const form = new URLSearchParams(req.body);
          const clientId = form.get('client_id') ?? '';
          const expected = options.secrets?.[clientId];
          if (expected !== undefined && form.get('client_secret') !== expected) {
            json(res, 401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
            return;
          }
          const record = {
            tenant,
            clientId,
            scope: form.get('scope') ?? '',
            grantType: form.get('grant_type') ?? '',
          };
          ref.self!.requests.push(record);
          const token = `test-token-${randomUUID()}`;
          issued.set(token, record);
          json(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
          return;
        }
        json(res, 404, { error: 'not_found' });
      },
      { tls: options.tls },
    );
    ref.self = new TokenServer(server);
    return ref.self;
  }

  get url(): string {
    return this.server.url;
  }

  /** Who a bearer token was issued to, if this server issued it. */
  whoHolds(authorization: string | undefined): TokenRequest | undefined {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    return token ? issued.get(token) : undefined;
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
