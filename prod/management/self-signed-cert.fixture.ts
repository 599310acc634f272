// Self-signed certificates for tests of the https management API, made with the openssl
// command (Node can read certificates but not issue them). .ci/run installs openssl when it
// is missing.
import { execFileSync } from 'node:child_process';
import https from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';

export interface TestCert {
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * Writes `<name>.crt` and `<name>.key` into `dir`: a P-256 key and a one-day self-signed
 * certificate for 127.0.0.1 and localhost.
 * @throws Error when openssl is not installed or fails
 */
export function makeSelfSignedCert(dir: string, name: string): TestCert {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '1',
      '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { certFile, keyFile };
}

/**
 * GET /_health/ping over https on 127.0.0.1:`port`, trusting only `ca` (PEM): the body and
 * the SHA-256 fingerprint of the certificate the server presented.
 */
export function pingHttps(port: number, token: string, ca: string): Promise<{ body: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path: '/_health/ping', ca, agent: false, headers: { Authorization: `Bearer ${token}` } }, (res) => {
        const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ body, fingerprint }));
      })
      .on('error', reject);
  });
}
