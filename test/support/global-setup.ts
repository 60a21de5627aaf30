import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeLocalTlsIdentity } from '../../tools/sandbox/tls.js';
import type { TlsIdentity } from '../../tools/sandbox/protocol/http-util.js';

/**
 * The local token servers need TLS (MSAL refuses http authorities). One throw-away certificate is
 * made per run and trusted through NODE_EXTRA_CA_CERTS, which the test workers (forked after
 * this) read at start.
 */
export default async function setup(): Promise<() => void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bouncer-test-tls-'));
  const identity = await makeLocalTlsIdentity();
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  writeFileSync(cert, identity.cert);
  writeFileSync(key, identity.key, { mode: 0o600 });
  process.env.NODE_EXTRA_CA_CERTS = cert;
  process.env.BOUNCER_TEST_TLS_CERT = cert;
  process.env.BOUNCER_TEST_TLS_KEY = key;
  return () => rmSync(dir, { recursive: true, force: true });
}

/** The run's TLS identity, for a test's local token server. */
export function testTls(): TlsIdentity {
  const cert = process.env.BOUNCER_TEST_TLS_CERT;
  const key = process.env.BOUNCER_TEST_TLS_KEY;
  if (!cert || !key) throw new Error('TLS test certificate missing: is test/support/global-setup.ts configured?');
  return { cert: readFileSync(cert), key: readFileSync(key) };
}
