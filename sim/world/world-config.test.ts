import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../prod/config/load-config-file.js';
import { parseScenario } from '../scenario/scenario.js';
import { worldClusterConfig } from './world-config.js';

function scenario(cloudVMs: Record<string, unknown>) {
  return parseScenario(
    {
      name: 't',
      cluster: { Containers: { CloudVMs: cloudVMs }, InstanceTypes: { 'm5.large': { VCPUs: 2, RAM: '8GiB', Price: 0.096 } } },
      workload: [{ kind: 'burst', at: '0s', count: 1, runtime: '1s', vcpus: 1, ram: '1GiB' }],
    },
    '.',
  );
}

describe('worldClusterConfig', () => {
  it('points serve at the world, with short timeouts under the scenario settings', () => {
    const s = scenario({ TimeoutIdle: '7s', Driver: 'loopback', DeployRunnerBinary: '/usr/bin/x' });
    const text = worldClusterConfig(
      {
        config: { ...s.config, SystemRootToken: 'root0token', ManagementToken: 'mgmt0token' },
        controllerUrl: 'http://127.0.0.1:1001/',
        ec2Url: 'http://127.0.0.1:1002',
        managementPort: 1003,
        adminUsername: 'crunch',
      },
      '/tmp/k',
    );
    const { config, warnings } = parseConfigText(text, 'world.yml');
    expect(warnings).toEqual([]);
    expect(config.SystemRootToken).toBe('root0token');
    expect(config.ManagementToken).toBe('mgmt0token');
    expect(config.Services.Controller.ExternalURL).toBe('http://127.0.0.1:1001');
    expect(config.Services.DispatchCloud.InternalURLs).toEqual(['http://127.0.0.1:1003']);
    expect(config.Containers.DispatchPrivateKey).toBe('file:///tmp/k');
    const vms = config.Containers.CloudVMs;
    // The scenario's value wins over the world's default; the world's own keys win over the scenario.
    expect(vms.TimeoutIdle).toBe(7000);
    expect(vms.PollInterval).toBe(1000);
    expect(vms.Driver).toBe('ec2');
    expect(vms.DeployRunnerBinary).toBe('');
    expect(vms.DriverParameters).toMatchObject({ Endpoint: 'http://127.0.0.1:1002', AdminUsername: 'crunch' });
    expect(Object.keys(config.InstanceTypes)).toEqual(['m5.large']);
  });
});
