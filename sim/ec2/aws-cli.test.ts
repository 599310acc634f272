import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_TYPES } from '../../test/fakes/ec2-fixtures.js';
import { MemoryInstanceSet } from '../../test/fakes/ec2-memory-instance-set.js';
import { Ec2Endpoint } from './ec2-endpoint.js';

const hasAws = (process.env.PATH ?? '').split(delimiter).some((d) => d !== '' && existsSync(join(d, 'aws')));
// CI installs the AWS CLI (.ci/run); only a developer machine without it may skip.
const skip = !hasAws && process.env.CI === undefined;

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The AWS CLI as an independent client of the simulated endpoint: if it and our driver
 * disagree about the endpoint, the endpoint is wrong. The CLI takes about a second per call,
 * so the test makes five.
 */
describe.skipIf(skip)('AWS CLI against the simulated EC2 endpoint', () => {
  let endpoint: Ec2Endpoint;
  let cloud: MemoryInstanceSet;
  let home: string;

  beforeAll(async () => {
    cloud = new MemoryInstanceSet({ maxInstances: 1 });
    endpoint = await Ec2Endpoint.start({ instanceSet: cloud, types: TEST_TYPES, region: 'eu-west-1' });
    home = mkdtempSync(join(tmpdir(), 'vmdispatch-awscli-'));
    writeFileSync(join(home, 'config'), '');
    writeFileSync(join(home, 'credentials'), '');
  });
  afterAll(async () => {
    await endpoint.close();
    rmSync(home, { recursive: true, force: true });
  });

  // Async on purpose: the endpoint is served by this process's event loop.
  const aws = (...args: string[]): Promise<CliResult> =>
    new Promise((resolve) => {
      execFile(
        'aws',
        ['--endpoint-url', endpoint.url, '--output', 'json', 'ec2', ...args],
        {
          // Nothing of the user's AWS configuration is read.
          env: {
            PATH: process.env.PATH ?? '',
            HOME: home,
            AWS_CONFIG_FILE: join(home, 'config'),
            AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
            AWS_ACCESS_KEY_ID: 'AKIDVMDISPATCHTEST',
            AWS_SECRET_ACCESS_KEY: 'not-a-secret',
            AWS_DEFAULT_REGION: 'eu-west-1',
            AWS_MAX_ATTEMPTS: '1',
            AWS_PAGER: '',
          },
          encoding: 'utf8',
          timeout: 30_000,
        },
        (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
          resolve({ code, stdout, stderr });
        },
      );
    });

  it('runs, tags, describes with a tag filter, reports a quota error, and terminates', { timeout: 60_000 }, async () => {
    const run = await aws(
      'run-instances',
      '--image-id', 'ami-0123456789abcdef0',
      '--instance-type', 'm5.large',
      '--count', '1',
      '--tag-specifications', 'ResourceType=instance,Tags=[{Key=Owner,Value=cli},{Key=Note,Value="a b"}]',
    );
    expect(run.code, run.stderr).toBe(0);
    const reservation = JSON.parse(run.stdout) as { Instances: { InstanceId: string; InstanceType: string; State: { Name: string } }[] };
    const id = reservation.Instances[0]!.InstanceId;
    expect(reservation.Instances[0]).toMatchObject({ InstanceType: 'm5.large', State: { Name: 'running' } });

    const tag = await aws('create-tags', '--resources', id, '--tags', 'Key=Stage,Value=tagged', 'Key=Owner,Value=cli');
    expect(tag.code, tag.stderr).toBe(0);

    const described = await aws('describe-instances', '--filters', 'Name=tag:Stage,Values=tagged', 'Name=instance-state-name,Values=running,pending');
    expect(described.code, described.stderr).toBe(0);
    const d = JSON.parse(described.stdout) as {
      Reservations: { Instances: { InstanceId: string; PrivateIpAddress: string; Tags: { Key: string; Value: string }[]; Placement: { AvailabilityZone: string } }[] }[];
    };
    const instances = d.Reservations.flatMap((r) => r.Instances);
    expect(instances.map((i) => i.InstanceId)).toEqual([id]);
    const tags = Object.fromEntries(instances[0]!.Tags.map((t) => [t.Key, t.Value]));
    expect(tags).toEqual({ Owner: 'cli', Note: 'a b', Stage: 'tagged' });
    expect(instances[0]!.Placement.AvailabilityZone).toBe('eu-west-1a');
    expect(instances[0]!.PrivateIpAddress).toMatch(/^10\./);

    // The cloud allows one instance: its QuotaError reaches the CLI as EC2's code.
    const over = await aws('run-instances', '--image-id', 'ami-0123456789abcdef0', '--instance-type', 'm5.large');
    expect(over.code).not.toBe(0);
    expect(over.stderr).toContain('An error occurred (InstanceLimitExceeded) when calling the RunInstances operation');

    const term = await aws('terminate-instances', '--instance-ids', id);
    expect(term.code, term.stderr).toBe(0);
    const t = JSON.parse(term.stdout) as { TerminatingInstances: { InstanceId: string; CurrentState: { Name: string } }[] };
    expect(t.TerminatingInstances).toEqual([expect.objectContaining({ InstanceId: id, CurrentState: expect.objectContaining({ Name: 'shutting-down' }) })]);
    expect(await cloud.instances(null)).toEqual([]);
    expect(endpoint.requests.map((r) => `${r.action}:${r.errorCode}`)).toEqual([
      'RunInstances:',
      'CreateTags:',
      'DescribeInstances:',
      'RunInstances:InstanceLimitExceeded',
      'TerminateInstances:',
    ]);
  });
});
