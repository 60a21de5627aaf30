import { describe, expect, it } from 'vitest';
import { ReplyAddresses, toReplyAddress } from '../../src/channels/teams/reply-address.js';

/** One channel's reply addresses (the connection's cache), its reader bound. */
function bound() {
  const addresses = new ReplyAddresses();
  return { serviceUrlOf: (address: string) => addresses.serviceUrlOf(address) };
}

describe('Teams reply addresses', () => {
  it('give back the service URL they were made with, read again from the same text', () => {
    const { serviceUrlOf } = bound();
    const address = toReplyAddress('https://smba.trafficmanager.net/emea/')!;
    expect(serviceUrlOf(address)).toBe('https://smba.trafficmanager.net/emea/');
    expect(serviceUrlOf(address)).toBe('https://smba.trafficmanager.net/emea/');
    expect(serviceUrlOf(toReplyAddress('https://smba.trafficmanager.net/amer/')!)).toBe('https://smba.trafficmanager.net/amer/');
  });

  it('an address another channel made, or no JSON at all, has no service URL (every time)', () => {
    const { serviceUrlOf } = bound();
    for (const address of ['not json', '{"serviceUrl":"not a url"}', '{"slack":"C123"}']) {
      expect(serviceUrlOf(address)).toBeUndefined();
      expect(serviceUrlOf(address)).toBeUndefined();
    }
  });
});
