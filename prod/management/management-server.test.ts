import { describe, expect, it } from 'vitest';
import { pickListenAddress, startManagementServer } from './management-server.js';

describe('pickListenAddress', () => {
  it('takes the only InternalURLs entry', () => {
    expect(pickListenAddress(['http://10.1.2.3:9006/'], {})).toEqual({ host: '10.1.2.3', port: 9006, url: 'http://10.1.2.3:9006/', tls: false });
  });
  it('prefers ARVADOS_SERVICE_INTERNAL_URL', () => {
    expect(pickListenAddress(['http://a:1', 'http://b:2'], { ARVADOS_SERVICE_INTERNAL_URL: 'http://127.0.0.1:9999' }).port).toBe(9999);
  });
  it('picks the entry naming this host among several', () => {
    expect(pickListenAddress(['http://192.0.2.77:9006', 'http://127.0.0.1:9007'], {}).port).toBe(9007);
    expect(pickListenAddress(['http://[::1]:9008', 'http://192.0.2.77:9006'], {}).host).toBe('::1');
  });
  it('explains what is wrong', () => {
    expect(() => pickListenAddress([], {})).toThrow(/no Services.DispatchCloud.InternalURLs configured/);
    expect(() => pickListenAddress(['ws://127.0.0.1:9006'], {})).toThrow(/expected an http or https URL/);
    expect(() => pickListenAddress(['not a url'], {})).toThrow(/is not a URL/);
    expect(() => pickListenAddress(['http://192.0.2.77:1', 'http://192.0.2.78:2'], {})).toThrow(/names this host/);
  });
});

describe('startManagementServer', () => {
  it('reports a port in use as "listening on host:port: cause"', async () => {
    const a = await startManagementServer((_q, s) => s.end(), { host: '127.0.0.1', port: 0 });
    try {
      await expect(startManagementServer((_q, s) => s.end(), { host: '127.0.0.1', port: a.port })).rejects.toThrow(
        new RegExp(`^listening on 127\\.0\\.0\\.1:${a.port}: .*EADDRINUSE`),
      );
    } finally {
      await a.close();
    }
  });
});

describe('queueViewOf', () => {
  it('adapts the scheduler containers() list, keeping its order and statuses', async () => {
    const { queueViewOf } = await import('./queue-view.js');
    const { mgmtEntry } = await import('../../test/fakes/mgmt-queue.js');
    const a = mgmtEntry('zzzzz-dz642-00000000000000a');
    const b = mgmtEntry('zzzzz-dz642-00000000000000b');
    const view = queueViewOf({ containers: () => [{ entry: b, schedulingStatus: 'first' }, { entry: a, schedulingStatus: '' }] });
    expect(view.entries().map((e) => [e.container.uuid, e.schedulingStatus])).toEqual([
      ['zzzzz-dz642-00000000000000b', 'first'],
      ['zzzzz-dz642-00000000000000a', ''],
    ]);
  });
});
