import { generate } from 'selfsigned';
import type { TlsIdentity } from './protocol/http-util.js';

/**
 * A throw-away self-signed certificate for 127.0.0.1 and localhost, valid for a day.
 *
 * MSAL (inside @azure/identity and botbuilder) only talks to https authorities, so the local token
 * server needs TLS; the process that uses it must trust this certificate through
 * NODE_EXTRA_CA_CERTS, which Node reads once, at start.
 */
export async function makeLocalTlsIdentity(): Promise<TlsIdentity> {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    notAfterDate: new Date(Date.now() + 24 * 60 * 60_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
