import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';

/**
 * MSAL (used by @azure/identity and botbuilder) only talks to https authorities, so the local
 * token servers need TLS. A throw-away self-signed certificate for 127.0.0.1 is made per run and
 * trusted through NODE_EXTRA_CA_CERTS, which the test workers (forked after this) read at start.
 */
export default async function setup(): Promise<() => void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bouncer-test-tls-'));
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
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  writeFileSync(cert, pems.cert);
  writeFileSync(key, pems.private, { mode: 0o600 });
  process.env.NODE_EXTRA_CA_CERTS = cert;
  process.env.BOUNCER_TEST_TLS_CERT = cert;
  process.env.BOUNCER_TEST_TLS_KEY = key;
  return () => rmSync(dir, { recursive: true, force: true });
}
