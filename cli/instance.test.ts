// The admin client against the real management API handler over loopback HTTP.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nullLogger } from '../core/ports/logger.js';
import { PromMetrics } from '../prod/metrics/prom-metrics.js';
import { createManagementHandler } from '../prod/management/management-handler.js';
import { startManagementServer, type RunningServer } from '../prod/management/management-server.js';
import { makeSelfSignedCert } from '../prod/management/self-signed-cert.fixture.js';
import { loadTlsCredentials } from '../prod/management/tls-files.js';
import { SystemClock } from '../prod/system-clock.js';
import { FakeMgmtPool, mgmtInstanceType, mgmtView } from '../test/fakes/mgmt-pool.js';
import { FakeQueueView } from '../test/fakes/mgmt-queue.js';
import { InputError } from './errors.js';
import { HEADER, formatInstanceLine, runInstanceCommand } from './instance.js';

const TOKEN = 'adminclienttoken0123456789abcdefghij';
let dir = '';
let server: RunningServer;
let pool: FakeMgmtPool;
let config = '';
/** A loopback port nothing listens on. */
let closedPort = 0;

function configText(urls: readonly string[], token = TOKEN): string {
  return [
    'Clusters:',
    '  zzzzz:',
    '    SystemRootToken: systemroottoken0123456789abcdefghij',
    `    ManagementToken: ${token}`,
    '    Services:',
    '      DispatchCloud:',
    '        InternalURLs:',
    ...urls.map((u) => `          "${u}": {}`),
    '    InstanceTypes:',
    '      m5.large: {ProviderType: m5.large, VCPUs: 2, RAM: 8GiB, IncludedScratch: 32GB, Price: 0.096}',
    '',
  ].join('\n');
}

async function writeConfig(name: string, text: string): Promise<string> {
  const f = join(dir, name);
  await writeFile(f, text);
  return f;
}

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runInstanceCommand(argv, { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env: {} });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** The management API over the shared fake pool and an empty queue. */
function managementHandler() {
  return createManagementHandler({
    token: TOKEN,
    pool,
    queue: new FakeQueueView(),
    registry: new PromMetrics().registry,
    health: () => Promise.resolve(),
    clock: new SystemClock(),
    logger: nullLogger,
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmdispatch-instance-cli-'));
  pool = new FakeMgmtPool();
  server = await startManagementServer(managementHandler(), { host: '127.0.0.1', port: 0 });
  config = await writeConfig('config.yml', configText([`http://127.0.0.1:${server.port}`]));
  const gone = await startManagementServer((_q, s) => s.end(), { host: '127.0.0.1', port: 0 });
  closedPort = gone.port;
  await gone.close();
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  pool.views = [
    mgmtView({ instanceId: 'i-0b', address: '10.0.0.2', state: 'running', runningContainerUuids: ['zzzzz-dz642-000000000000001', 'zzzzz-dz642-000000000000002'] }),
    mgmtView({ instanceId: 'i-0a', address: '10.0.0.1', state: 'idle', idleBehavior: 'hold' }),
    mgmtView({ instanceId: '', state: 'booting', instanceType: mgmtInstanceType('m5.xlarge'), price: 0.192 }),
  ];
  pool.killInstanceCalls.length = 0;
  pool.idleBehaviorCalls.length = 0;
});

describe('vmdispatch instance list', () => {
  it('prints the reference adminclient TSV: "-" for empty id, address and running list, price as %f', async () => {
    const r = await run('list', '--config', config);
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        '-\t-\tbooting\trun\tm5.xlarge\tm5.xlarge\t0.192000\t-',
        'i-0a\t10.0.0.1\tidle\thold\tm5.large\tm5.large\t0.096000\t-',
        'i-0b\t10.0.0.2\trunning\trun\tm5.large\tm5.large\t0.096000\tzzzzz-dz642-000000000000001,zzzzz-dz642-000000000000002',
        '',
      ].join('\n'),
    });
  });

  it('prints the header only with --header (or Go-style -header)', async () => {
    pool.views = [];
    expect((await run('list', '--header', '--config', config)).stdout).toBe(`${HEADER}\n`);
    expect((await run('list', '-header', '-config', config)).stdout).toBe('instance\taddress\tstate\tidle-behavior\tconfig-type\tprovider-type\tprice\trunning-containers\n');
    expect((await run('list', '--config', config)).stdout).toBe('');
  });

  it('exits 1 with a message when the token is wrong or the daemon is down', async () => {
    const wrong = await writeConfig('wrong.yml', configText([`http://127.0.0.1:${server.port}`], 'wrongtoken0123456789abcdefghijklmn'));
    const r = await run('list', '--config', wrong);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error decoding API response: HTTP 403 from 127.0.0.1:${server.port}: Forbidden\n`);
    expect(r.stderr).not.toContain('wrongtoken');
    const down = await writeConfig('down.yml', configText([`http://127.0.0.1:${closedPort}`]));
    const d = await run('list', '--config', down);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/^error doing API request: 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  it('exits 1 when no InternalURLs are configured', async () => {
    const none = await writeConfig('none.yml', configText([]).replace('        InternalURLs:\n', '        InternalURLs: {}\n'));
    expect(await run('list', '--config', none)).toEqual({ code: 1, stdout: '', stderr: 'no Services.DispatchCloud.InternalURLs configured\n' });
  });
});

describe('vmdispatch instance hold|drain|run|kill', () => {
  it.each(['hold', 'drain', 'run'] as const)('%s prints "<id>: <status> (<host>)" per id on stderr; 0 when all succeed', async (action) => {
    const r = await run(action, '--config', config, 'i-0a', 'i-0b');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`i-0a: 200 OK (127.0.0.1:${server.port})\ni-0b: 200 OK (127.0.0.1:${server.port})\n`);
    expect(pool.idleBehaviorCalls).toEqual([
      { id: 'i-0a', behavior: action },
      { id: 'i-0b', behavior: action },
    ]);
  });

  it('kill passes --reason (prefixed by the API) and exits 1 if any id failed', async () => {
    const r = await run('kill', '--reason', 'disk full', '--config', config, 'i-0a', 'i-missing');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`i-0a: 200 OK (127.0.0.1:${server.port})\ni-missing: 404 Not Found (127.0.0.1:${server.port})\n`);
    expect(pool.killInstanceCalls).toEqual([
      { id: 'i-0a', reason: 'via management API: disk full' },
      { id: 'i-missing', reason: 'via management API: disk full' },
    ]);
  });

  it('tries each InternalURL for the ids not yet done', async () => {
    const two = await writeConfig('two.yml', configText([`http://127.0.0.1:${closedPort}`, `http://127.0.0.1:${server.port}`]));
    const r = await run('drain', '--config', two, 'i-0a');
    expect(r.code).toBe(0);
    expect(r.stderr.split('\n')).toEqual([expect.stringMatching(/^i-0a: error doing API request: 127\.0\.0\.1:\d+: .*ECONNREFUSED/), `i-0a: 200 OK (127.0.0.1:${server.port})`, '']);
  });

  it('exits 2 without ids, with an unknown option or subcommand, or a bad config file', async () => {
    await expect(run('hold', '--config', config)).rejects.toThrow(new InputError('usage error: no instance IDs provided'));
    await expect(run('hold', '--reason', 'x', '--config', config, 'i-0a')).rejects.toThrow(/unknown option '--reason'/);
    await expect(run('list', '--bogus')).rejects.toThrow(InputError);
    await expect(run('reboot', 'i-0a')).rejects.toThrow(/unknown subcommand "reboot"/);
    await expect(run('list', '--config', join(dir, 'absent.yml'))).rejects.toThrow(/absent\.yml: reading the config file: ENOENT/);
    expect(pool.idleBehaviorCalls).toEqual([]);
  });

  it('takes the config from $ARVADOS_CONFIG when --config is absent', async () => {
    const out: string[] = [];
    const code = await runInstanceCommand(['list'], { stdout: (t) => void out.push(t), stderr: () => {}, env: { ARVADOS_CONFIG: config } });
    expect(code).toBe(0);
    expect(out.join('').split('\n')).toHaveLength(4);
  });
});

describe('formatInstanceLine', () => {
  it('tolerates missing fields', () => {
    expect(formatInstanceLine({})).toBe('-\t-\t\t\t\t\t0.000000\t-');
    expect(formatInstanceLine({ price: 1234.5 })).toBe('-\t-\t\t\t\t\t1234.500000\t-');
  });
});

describe('vmdispatch instance through the command table', () => {
  it('is listed in main and maps bad input to exit 2', async () => {
    const { main } = await import('./main.js');
    const errors: string[] = [];
    const spy = (await import('vitest')).vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.join(' ')));
    try {
      expect(await main(['instance', 'drain', '--config', config])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(errors).toEqual(['vmdispatch instance: usage error: no instance IDs provided']);
  });
});

describe('vmdispatch instance against an https management API', () => {
  let tlsServer: RunningServer;
  beforeAll(async () => {
    const cert = makeSelfSignedCert(dir, 'admin');
    const tls = await loadTlsCredentials({ Certificate: `file://${cert.certFile}`, Key: `file://${cert.keyFile}` }, 'Clusters.zzzzz');
    tlsServer = await startManagementServer(managementHandler(), { host: '127.0.0.1', port: 0 }, { tls });
  });
  afterAll(async () => {
    await tlsServer.close();
  });

  it('with TLS.Insecure lists and acts on a self-signed server', async () => {
    const f = await writeConfig('https-insecure.yml', `${configText([`https://127.0.0.1:${tlsServer.port}`])}    TLS: {Insecure: true}\n`);
    const r = await run('list', '--config', f);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toHaveLength(4);
    expect(await run('drain', '--config', f, 'i-0a')).toEqual({ code: 0, stdout: '', stderr: `i-0a: 200 OK (127.0.0.1:${tlsServer.port})\n` });
  });

  it('without it fails clearly: the certificate is not trusted, and what to set', async () => {
    const f = await writeConfig('https-strict.yml', configText([`https://127.0.0.1:${tlsServer.port}`]));
    const r = await run('list', '--config', f);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error doing API request: 127\.0\.0\.1:\d+: the server's TLS certificate is not trusted: .*DEPTH_ZERO_SELF_SIGNED_CERT.*TLS\.Insecure: true.*NODE_EXTRA_CA_CERTS\n$/);
    const act = await run('hold', '--config', f, 'i-0a');
    expect(act.code).toBe(1);
    expect(act.stderr).toMatch(/^i-0a: error doing API request: .*not trusted/);
  });
});
