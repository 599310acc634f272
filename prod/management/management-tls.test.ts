// The management API over https on loopback, with self-signed certificates made by openssl.
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nullLogger } from '../../core/ports/logger.js';
import { FakeMgmtPool } from '../../test/fakes/mgmt-pool.js';
import { FakeQueueView } from '../../test/fakes/mgmt-queue.js';
import { PromMetrics } from '../metrics/prom-metrics.js';
import { SystemClock } from '../system-clock.js';
import { managementRequest } from './management-client.js';
import { createManagementHandler } from './management-handler.js';
import { pickListenAddress, startManagementServer, type RunningServer } from './management-server.js';
import { makeSelfSignedCert, type TestCert } from './self-signed-cert.fixture.js';
import { loadTlsCredentials, tlsFilePath } from './tls-files.js';

const TOKEN = 'tls7management7token7abcdefghijklmnopqrst';
const BASE = 'Clusters.zzzzz';

let dir = '';
let a: TestCert;
let b: TestCert;
let server: RunningServer;

/** A GET over https trusting only `ca`; resolves with status, body and the served certificate. */
function get(path: string, ca: string, token = TOKEN): Promise<{ status: number; body: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port: server.port, path, ca, agent: false, headers: { Authorization: `Bearer ${token}` } },
      (res) => {
        const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, fingerprint }));
      },
    );
    req.on('error', reject);
  });
}

const pem = (f: string) => readFile(f, 'utf8');
const fingerprintOf = async (f: string) => new X509Certificate(await pem(f)).fingerprint256;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmdispatch-mgmt-tls-'));
  a = makeSelfSignedCert(dir, 'a');
  b = makeSelfSignedCert(dir, 'b');
  const metrics = new PromMetrics();
  metrics.gauge('at_quota', 'Whether the pool is at quota').set({}, 1);
  const handler = createManagementHandler({
    token: TOKEN,
    pool: new FakeMgmtPool(),
    queue: new FakeQueueView(),
    registry: metrics.registry,
    health: () => Promise.resolve(),
    clock: new SystemClock(),
    logger: nullLogger,
  });
  const tls = await loadTlsCredentials({ Certificate: `file://${a.certFile}`, Key: `file://${a.keyFile}` }, BASE);
  server = await startManagementServer(handler, { host: '127.0.0.1', port: 0 }, { tls });
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('https listen address', () => {
  it('an https InternalURL is served with TLS, on 443 by default', () => {
    expect(pickListenAddress(['https://127.0.0.1:9443/'], {})).toEqual({ host: '127.0.0.1', port: 9443, url: 'https://127.0.0.1:9443/', tls: true });
    expect(pickListenAddress(['https://localhost'], {})).toMatchObject({ port: 443, tls: true });
    expect(pickListenAddress(['http://localhost'], {})).toMatchObject({ port: 80, tls: false });
    expect(() => pickListenAddress(['ftp://127.0.0.1:21'], {})).toThrow(/expected an http or https URL/);
  });
});

describe('management API over https', () => {
  it('serves /metrics and /_health/ping with the token, verified against the certificate', async () => {
    const ca = await pem(a.certFile);
    const ping = await get('/_health/ping', ca);
    expect(ping).toMatchObject({ status: 200, fingerprint: await fingerprintOf(a.certFile) });
    expect(JSON.parse(ping.body)).toEqual({ health: 'OK' });
    const metrics = await get('/metrics', ca);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('arvados_dispatchcloud_at_quota 1');
    expect((await get('/metrics', ca, 'wrong')).status).toBe(403);
  });

  it('refuses plain http on the https port', async () => {
    const plain = new Promise<number>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: server.port, path: '/_health/ping', agent: false, headers: { Authorization: `Bearer ${TOKEN}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });
    await expect(plain).rejects.toThrow();
  });

  it('setTls serves new connections with the new pair; an unusable pair leaves the old one', async () => {
    server.setTls(await loadTlsCredentials({ Certificate: b.certFile, Key: b.keyFile }, BASE));
    expect((await get('/_health/ping', await pem(b.certFile))).fingerprint).toBe(await fingerprintOf(b.certFile));
    expect(() => server.setTls({ cert: 'not a cert', key: 'not a key' })).toThrow();
    expect((await get('/_health/ping', await pem(b.certFile))).status).toBe(200);
    server.setTls(await loadTlsCredentials({ Certificate: a.certFile, Key: a.keyFile }, BASE));
    expect((await get('/_health/ping', await pem(a.certFile))).fingerprint).toBe(await fingerprintOf(a.certFile));
  });
});

describe('managementRequest (the admin client)', () => {
  it('with TLS.Insecure talks to a self-signed server', async () => {
    const res = await managementRequest(new URL(`https://127.0.0.1:${server.port}/_health/ping`), { token: TOKEN, insecure: true });
    expect(res).toEqual({ status: 200, statusText: 'OK', body: '{"health":"OK"}\n' });
  });

  it('without it refuses the certificate, saying what to do', async () => {
    await expect(managementRequest(new URL(`https://127.0.0.1:${server.port}/_health/ping`), { token: TOKEN })).rejects.toThrow(
      new RegExp(`^127\\.0\\.0\\.1:${server.port}: the server's TLS certificate is not trusted: .*\\(DEPTH_ZERO_SELF_SIGNED_CERT\\); set TLS\\.Insecure: true .*NODE_EXTRA_CA_CERTS`),
    );
  });

  it('says so when an https URL reaches a plain http server', async () => {
    const plain = await startManagementServer((_q, s) => s.end('x'), { host: '127.0.0.1', port: 0 });
    try {
      await expect(managementRequest(new URL(`https://127.0.0.1:${plain.port}/`), { token: TOKEN, insecure: true })).rejects.toThrow(/served over plain http/);
    } finally {
      await plain.close();
    }
  });
});

describe('loadTlsCredentials', () => {
  const load = (Certificate: string, Key: string) => loadTlsCredentials({ Certificate, Key }, BASE);

  it('reads file:// references (and bare absolute paths), reporting the validity', async () => {
    const c = await load(`file://${a.certFile}`, `file://${a.keyFile}`);
    expect(c).toMatchObject({ certFile: a.certFile, keyFile: a.keyFile, cert: await pem(a.certFile), key: await pem(a.keyFile) });
    expect(Date.parse(c.validTo)).toBeGreaterThan(Date.parse(c.validFrom));
    expect((await load(a.certFile, a.keyFile)).certFile).toBe(a.certFile);
    expect(tlsFilePath('file:///etc/x.pem')).toBe('/etc/x.pem');
    expect(tlsFilePath('relative.pem')).toBeNull();
    expect(tlsFilePath('')).toBeNull();
  });

  it('names the setting and the file for every problem, never the key material', async () => {
    const missing = join(dir, 'missing.pem');
    const garbage = join(dir, 'garbage.pem');
    await writeFile(garbage, 'this is not PEM\n');
    const subdir = join(dir, 'a-directory');
    await mkdir(subdir, { recursive: true });
    const cases: [() => Promise<unknown>, string | RegExp][] = [
      [() => load('', `file://${a.keyFile}`), `${BASE}.TLS.Certificate: expected the certificate file as file:///path (the management API's InternalURL is https), got nothing`],
      [() => load(`file://${a.certFile}`, ''), `${BASE}.TLS.Key: expected the private key file as file:///path (the management API's InternalURL is https), got nothing`],
      [() => load('cert.pem', a.keyFile), `${BASE}.TLS.Certificate: expected the certificate file as file:///path, got "cert.pem"`],
      [() => load(`file://${missing}`, a.keyFile), `${BASE}.TLS.Certificate: reading the certificate file ${missing}: ENOENT`],
      [() => load(a.certFile, `file://${subdir}`), `${BASE}.TLS.Key: reading the private key file ${subdir}: EISDIR`],
      [() => load(garbage, a.keyFile), new RegExp(`^${BASE}\\.TLS\\.Certificate: ${garbage} is not a PEM certificate: `)],
      [() => load(a.certFile, garbage), new RegExp(`^${BASE}\\.TLS\\.Key: ${garbage} is not a PEM private key: `)],
      [() => load(a.keyFile, a.keyFile), new RegExp(`^${BASE}\\.TLS\\.Certificate: ${a.keyFile} is not a PEM certificate`)],
      [() => load(a.certFile, b.keyFile), `${BASE}.TLS.Key: the private key in ${b.keyFile} does not match the certificate in ${a.certFile} (${BASE}.TLS.Certificate)`],
    ];
    const keyText = await pem(b.keyFile);
    for (const [p, want] of cases) {
      const e = await p().then(
        () => null,
        (err: unknown) => err as Error,
      );
      expect(e?.name).toBe('TlsConfigError');
      if (typeof want === 'string') expect(e?.message).toBe(want);
      else expect(e?.message).toMatch(want);
      expect(e?.message).not.toContain(keyText.split('\n')[1]);
    }
  });
});
