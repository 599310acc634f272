import { describe, expect, it } from 'vitest';
import { applyOverride } from './overrides.js';

describe('--set overrides', () => {
  it('sets a nested value parsed as YAML, creating maps on the way', () => {
    const doc: Record<string, unknown> = { cloud: { bootTime: '90s' } };
    applyOverride(doc, 'cluster.Containers.CloudVMs.MaxInstances=20');
    applyOverride(doc, 'cloud.bootTime={median: 90s, p95: 4m}');
    expect(doc).toEqual({
      cloud: { bootTime: { median: '90s', p95: '4m' } },
      cluster: { Containers: { CloudVMs: { MaxInstances: 20 } } },
    });
  });

  it('addresses list elements as [N] or .N', () => {
    const doc: Record<string, unknown> = { workload: [{ count: 1 }, { count: 2 }] };
    applyOverride(doc, 'workload[1].count=5');
    applyOverride(doc, 'workload.0.count=7');
    expect(doc.workload).toEqual([{ count: 7 }, { count: 5 }]);
  });

  it('refuses malformed assignments and missing list elements', () => {
    expect(() => applyOverride({}, 'novalue')).toThrow(/expected PATH=VALUE/);
    expect(() => applyOverride({ workload: [] }, 'workload[3].count=1')).toThrow(/no list element 3/);
    expect(() => applyOverride({ name: 'x' }, 'name.sub=1')).toThrow(/cannot set a key inside a string/);
  });

  it('reaches keys holding dots through quoted brackets', () => {
    const doc: Record<string, unknown> = { cluster: { InstanceTypes: { 'm5.large': { Price: 0.1 }, 'a]b': {} } } };
    applyOverride(doc, 'cluster.InstanceTypes["m5.large"].Price=0.2');
    applyOverride(doc, "cluster.InstanceTypes['m5.large'].VCPUs=2");
    applyOverride(doc, 'cluster.InstanceTypes["a]b"].RAM=1GiB');
    applyOverride(doc, 'cluster.InstanceTypes["q\\"x"].Price=1');
    expect(doc).toEqual({ cluster: { InstanceTypes: { 'm5.large': { Price: 0.2, VCPUs: 2 }, 'a]b': { RAM: '1GiB' }, 'q"x': { Price: 1 } } } });
  });

  it('refuses malformed paths, naming what is wrong', () => {
    for (const [path, why] of [
      ['a..b', /empty key/],
      ['a.', /empty key/],
      ['.a', /empty key/],
      ['a[x]', /\[x\] is not a list index/],
      ['a["b"', /expected \] after a quoted key|unclosed/],
      ['a[1', /unclosed/],
      ['a[0]b', /expected \. or \[/],
    ] as const) {
      expect(() => applyOverride({}, `${path}=1`), path).toThrow(why);
    }
  });

  it('never writes through to Object.prototype', () => {
    expect(() => applyOverride({}, '__proto__.polluted=1')).toThrow(/__proto__ is not a scenario key/);
    expect(() => applyOverride({}, 'a["__proto__"].polluted=1')).toThrow(/__proto__ is not a scenario key/);
    const doc: Record<string, unknown> = {};
    applyOverride(doc, 'constructor.polluted=1');
    expect(doc).toEqual({ constructor: { polluted: 1 } });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
