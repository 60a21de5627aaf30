import { ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import {
  AuthenticationConstants,
  ConnectorFactory,
  type ClaimsIdentity,
  type ConnectorClient,
  type UserTokenClient,
} from 'botframework-connector';

/** Clients kept per kind at most (one per service URL and audience in practice: a handful). */
const MAX_CLIENTS = 64;

/**
 * botbuilder's authentication, with the Bot Connector clients made once and reused. The adapter
 * asks for a connector factory and a user token client on every turn and every proactive message
 * (each webhook kick's notices), and botbuilder builds them anew each time: credentials (an MSAL
 * client), an HTTP pipeline, a token client. They hold nothing of a turn, only the app's
 * credentials (whose tokens botbuilder caches process-wide anyway) and the service URL, so one per
 * app id, service URL and audience serves every turn.
 */
export class ReusingBotFrameworkAuthentication extends ConfigurationBotFrameworkAuthentication {
  private readonly factories = new Map<string, ConnectorFactory>();
  private readonly tokenClients = new Map<string, Promise<UserTokenClient>>();

  override createConnectorFactory(claimsIdentity: ClaimsIdentity): ConnectorFactory {
    const key = appIdOf(claimsIdentity);
    let factory = this.factories.get(key);
    if (!factory) {
      factory = new ReusingConnectorFactory(super.createConnectorFactory(claimsIdentity));
      remember(this.factories, key, factory);
    }
    return factory;
  }

  override createUserTokenClient(claimsIdentity: ClaimsIdentity): Promise<UserTokenClient> {
    return reuse(this.tokenClients, appIdOf(claimsIdentity), () => super.createUserTokenClient(claimsIdentity));
  }
}

/** A connector factory whose clients are made once per service URL and audience. */
class ReusingConnectorFactory extends ConnectorFactory {
  private readonly clients = new Map<string, Promise<ConnectorClient>>();

  constructor(private readonly inner: ConnectorFactory) {
    super();
  }

  create(serviceUrl: string, audience?: string): Promise<ConnectorClient> {
    return reuse(this.clients, `${serviceUrl}\n${audience ?? ''}`, () => this.inner.create(serviceUrl, audience));
  }
}

/** The app id botbuilder makes clients for (the token's audience, or its appid claim). */
function appIdOf(claimsIdentity: ClaimsIdentity): string {
  return claimsIdentity.getClaimValue(AuthenticationConstants.AudienceClaim) ?? claimsIdentity.getClaimValue(AuthenticationConstants.AppIdClaim) ?? '';
}

/** The client made for `key`, or a new one; one that failed to be made is not kept. */
function reuse<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  const kept = cache.get(key);
  if (kept) return kept;
  const made = make();
  remember(cache, key, made);
  made.catch(() => {
    if (cache.get(key) === made) cache.delete(key);
  });
  return made;
}

function remember<T>(cache: Map<string, T>, key: string, value: T): void {
  cache.set(key, value);
  for (const oldest of cache.keys()) {
    if (cache.size <= MAX_CLIENTS) break;
    cache.delete(oldest);
  }
}
