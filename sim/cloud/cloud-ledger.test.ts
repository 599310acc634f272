import { describe, expect, it } from 'vitest';
import { CloudLedger } from './cloud-ledger.js';

const base = { typeName: 'x', providerType: 'x', preemptible: false, price: 3.6, broken: false };

describe('CloudLedger', () => {
  it('closes busy time when an instance goes away under a running container', () => {
    const l = new CloudLedger();
    l.opened({ ...base, instanceId: 'i-1', createdAt: 0 });
    l.ready('i-1', 10_000);
    l.busyChanged('i-1', 1, 20_000);
    l.gone('i-1', 50_000, 'died');
    l.busyChanged('i-1', 0, 60_000);
    const [c] = l.costs(100_000);
    expect(c!.billedMs).toBe(50_000);
    expect(c!.total).toBeCloseTo(0.05, 12);
    expect(c!.booting).toBeCloseTo(0.01, 12);
    expect(c!.idle).toBeCloseTo(0.01, 12);
    expect(l.totals(100_000)).toMatchObject({ died: 1, gone: 1, live: 0, goneNeverReady: 0 });
  });

  it('counts a container start as ready, and costs live instances up to t', () => {
    const l = new CloudLedger();
    l.opened({ ...base, instanceId: 'i-1', createdAt: 0 });
    l.busyChanged('i-1', 1, 30_000);
    l.containerStarted('i-1', 30_000);
    const [c] = l.costs(40_000);
    expect(l.record('i-1')!.readyAt).toBe(30_000);
    expect(c!.booting).toBeCloseTo(0.03, 12);
    expect(c!.idle).toBe(0);
    expect(l.totals(40_000)).toMatchObject({ created: 1, live: 1, peak: 1 });
  });

  it('tracks the peak of instances existing at once', () => {
    const l = new CloudLedger();
    for (let i = 0; i < 3; i++) l.opened({ ...base, instanceId: `i-${i}`, createdAt: i });
    l.gone('i-0', 10, 'destroyed');
    l.opened({ ...base, instanceId: 'i-9', createdAt: 11 });
    expect(l.totals(20)).toMatchObject({ peak: 3, live: 3, gone: 1, goneNeverReady: 1 });
  });
});
