import { z } from 'zod';
import { toE164 } from '../../app/domain/ids.js';
import type { UserPhoneDirectory, UserProfile } from '../../app/ports/call-provider.js';
import type { GraphClient } from './graph-client.js';
import { parseGraphBody } from './graph-schemas.js';

// https://learn.microsoft.com/graph/api/user-get (businessPhones, mobilePhone, userPrincipalName,
// displayName); needs User.Read.All.
const userPhonesSchema = z
  .object({
    businessPhones: z.array(z.string()).nullish(),
    mobilePhone: z.string().nullish(),
    userPrincipalName: z.string().nullish(),
    displayName: z.string().nullish(),
  })
  .loose();

/** Phone numbers in a user's Graph profile, normalized to E.164 where they can be. */
export class GraphUserPhones implements UserPhoneDirectory {
  constructor(private readonly graph: GraphClient) {}

  /** The user's numbers ([] for an unknown user); throws UpstreamError when Graph fails or answers in another shape. */
  async getPhoneNumbers(userId: string): Promise<string[]> {
    const res = await this.graph.request(
      'GET',
      `/users/${encodeURIComponent(userId)}?$select=businessPhones,mobilePhone`,
      { accept: [404] },
    );
    if (res.status === 404) return [];
    return phonesOf(parseGraphBody(res, userPhonesSchema, 'user profile'));
  }

  /** The user's UPN, name and numbers (undefined for an unknown user); throws UpstreamError like getPhoneNumbers. */
  async getProfile(userId: string): Promise<UserProfile | undefined> {
    const res = await this.graph.request(
      'GET',
      `/users/${encodeURIComponent(userId)}?$select=businessPhones,mobilePhone,userPrincipalName,displayName`,
      { accept: [404] },
    );
    if (res.status === 404) return undefined;
    const profile = parseGraphBody(res, userPhonesSchema, 'user profile');
    return {
      ...(profile.userPrincipalName ? { userPrincipalName: profile.userPrincipalName } : {}),
      ...(profile.displayName ? { displayName: profile.displayName } : {}),
      phoneNumbers: phonesOf(profile),
    };
  }
}

function phonesOf(profile: z.infer<typeof userPhonesSchema>): string[] {
  const all = [...(profile.businessPhones ?? []), profile.mobilePhone ?? ''];
  return [...new Set(all.map(toE164).filter((n): n is string => n !== undefined))];
}
