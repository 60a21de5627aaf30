import { z } from 'zod';
import type { ReplyAddress } from '../../app/domain/participant.js';

// What the Teams channel needs to message a chat later: the Bot Connector service URL of the chat's
// region (https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference#base-uri).
const teamsAddressSchema = z.object({ serviceUrl: z.url() }).loose();

/** The opaque reply address of a Teams chat. */
export function toReplyAddress(serviceUrl: string | undefined): ReplyAddress | undefined {
  return serviceUrl ? JSON.stringify({ serviceUrl }) : undefined;
}

/** Reply addresses read, kept at most (a handful in practice: one per Bot Connector region). */
const MAX_READ = 256;

/**
 * The reply addresses the channel has read, each parsed once: every chat notice and meeting
 * notification reads one. One per Teams connection (`TeamsLookupCaches`), not a module's.
 */
export class ReplyAddresses {
  private readonly read = new Map<ReplyAddress, string | undefined>();

  /** The service URL of a reply address this channel made (or the store migrated), else undefined. */
  serviceUrlOf(address: ReplyAddress): string | undefined {
    if (this.read.has(address)) return this.read.get(address);
    const serviceUrl = parse(address);
    if (this.read.size >= MAX_READ) this.read.clear();
    this.read.set(address, serviceUrl);
    return serviceUrl;
  }
}

function parse(address: ReplyAddress): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(address);
  } catch {
    return undefined;
  }
  const parsed = teamsAddressSchema.safeParse(json);
  return parsed.success ? parsed.data.serviceUrl : undefined;
}
