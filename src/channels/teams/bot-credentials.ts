import { ClientSecretCredential } from '@azure/identity';
import {
  AppCredentials,
  ServiceClientCredentialsFactory,
  type AuthenticatorResult,
  type ServiceClientCredentials,
} from 'botframework-connector';
import { BouncerError } from '../../app/domain/errors.js';

const MICROSOFT_LOGIN_HOSTS = /(^|\.)(microsoftonline\.(com|us|de)|chinacloudapi\.cn)$/i;

/**
 * Outbound Bot Framework credentials for a login endpoint that is not one of Microsoft's own hosts
 * (a private cloud, or the local token server of the integration tests). botbuilder's MSAL client
 * asks login.microsoftonline.com to validate such an authority, which cannot work there; this one
 * gets the token with @azure/identity and no instance discovery. Returns undefined (use
 * botbuilder's own credentials) for Microsoft's hosts.
 */
export function customLoginCredentialsFactory(bot: {
  appId: string;
  appPassword: string;
  loginUrl?: string;
}): ServiceClientCredentialsFactory | undefined {
  if (!bot.appId || !bot.loginUrl || MICROSOFT_LOGIN_HOSTS.test(new URL(bot.loginUrl).hostname)) return undefined;
  return new IdentityCredentialsFactory(bot.appId, bot.appPassword);
}

class IdentityCredentialsFactory extends ServiceClientCredentialsFactory {
  constructor(
    private readonly appId: string,
    private readonly password: string,
  ) {
    super();
  }

  async isValidAppId(appId: string): Promise<boolean> {
    return appId === this.appId;
  }

  async isAuthenticationDisabled(): Promise<boolean> {
    return false;
  }

  async createCredentials(appId: string, audience: string | undefined, loginEndpoint: string): Promise<ServiceClientCredentials> {
    if (appId !== this.appId) throw new BouncerError('CONFIG_INVALID', 'Invalid appId.');
    return new IdentityAppCredentials(appId, this.password, loginEndpoint, audience);
  }
}

class IdentityAppCredentials extends AppCredentials {
  private readonly credential: ClientSecretCredential;

  constructor(appId: string, password: string, loginEndpoint: string, audience: string | undefined) {
    const url = new URL(loginEndpoint);
    const tenant = url.pathname.split('/').filter(Boolean)[0] ?? 'botframework.com';
    super(appId, tenant, audience);
    this.credential = new ClientSecretCredential(tenant, appId, password, {
      authorityHost: url.origin,
      disableInstanceDiscovery: true,
    });
  }

  protected async refreshToken(): Promise<AuthenticatorResult> {
    const scope = this.oAuthScope.endsWith('/.default') ? this.oAuthScope : `${this.oAuthScope}/.default`;
    const token = await this.credential.getToken(scope);
    return { accessToken: token.token, expiresOn: new Date(token.expiresOnTimestamp) };
  }
}
