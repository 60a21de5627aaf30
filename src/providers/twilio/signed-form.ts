import type { HttpInput } from '../../http/route.js';
import { verifyTwilioSignature } from './conference-events.js';

/**
 * The form parameters of a request Twilio signed, or undefined when it is not signed by this
 * account: X-Twilio-Signature is checked against the public URL (PUBLIC_BASE_URL + path + query)
 * and the sorted parameters, with the auth token. Without an auth token or a public URL nothing
 * can be verified, so nothing is accepted.
 */
export function signedTwilioForm(
  input: HttpInput,
  path: string,
  account: { authToken?: string; publicBaseUrl?: string },
): Record<string, string> | undefined {
  const params = Object.fromEntries(new URLSearchParams(input.body.toString('utf8')));
  const url = `${account.publicBaseUrl ?? ''}${path}${input.query ? `?${input.query}` : ''}`;
  const signature = input.header('x-twilio-signature') || undefined;
  if (!account.authToken || !account.publicBaseUrl || !verifyTwilioSignature(account.authToken, signature, url, params)) return undefined;
  return params;
}
