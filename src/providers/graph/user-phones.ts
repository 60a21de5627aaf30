import { z } from 'zod';
import type { UserPhoneDirectory } from '../../core/ports.js';
import type { GraphClient } from './graph-client.js';

// https://learn.microsoft.com/graph/api/user-get (businessPhones, mobilePhone); needs User.Read.All.
const userPhonesSchema = z
  .object({ businessPhones: z.array(z.string()).nullish(), mobilePhone: z.string().nullish() })
  .loose();

/** Phone numbers in a user's Graph profile, normalized to E.164 where they can be. */
export class GraphUserPhones implements UserPhoneDirectory {
  constructor(private readonly graph: GraphClient) {}

  async getPhoneNumbers(userId: string): Promise<string[]> {
    const res = await this.graph.request(
      'GET',
      `/users/${encodeURIComponent(userId)}?$select=businessPhones,mobilePhone`,
      { accept: [404] },
    );
    if (res.status === 404) return [];
    const parsed = userPhonesSchema.safeParse(res.body);
    if (!parsed.success) return [];
    const all = [...(parsed.data.businessPhones ?? []), parsed.data.mobilePhone ?? ''];
    return [...new Set(all.map(toE164).filter((n): n is string => n !== undefined))];
  }
}

/** "+1 (555) 123-4567" → "+15551234567"; numbers without a country code cannot be placed. */
export function toE164(raw: string): string | undefined {
  const compact = raw.replace(/[\s().-]/g, '');
  return /^\+[1-9]\d{6,14}$/.test(compact) ? compact : undefined;
}
