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
});
