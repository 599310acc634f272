// Self-signed certificates for tests of the https management API, made with the openssl
// command (Node can read certificates but not issue them). .ci/run installs openssl when it
// is missing.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

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
