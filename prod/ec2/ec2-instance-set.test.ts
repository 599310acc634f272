import { utils } from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { generateEd25519KeyPair } from '../../sim/ssh/host-keys.js';
import { CapacityError, NotImplementedError, QuotaError, RateLimitError } from '../../core/ports/errors.js';
import type { CreateRequest } from '../../core/ports/instance-set.js';
import { nullLogger } from '../../core/ports/logger.js';
import { driverOverEndpoint, TEST_TYPES, type DriverOverEndpoint } from '../../test/fakes/ec2-fixtures.js';
import { MemoryInstanceSet } from '../../test/fakes/ec2-memory-instance-set.js';
import { parseDriverParams } from './driver-params.js';
import { Ec2InstanceSet } from './ec2-instance-set.js';

const type = (name: string) => TEST_TYPES.find((t) => t.name === name)!;
const SET = { ArvadosInstanceSetID: 'zzzzz-set' };
const req = (name: string, o: Partial<CreateRequest> = {}): CreateRequest => ({
  type: type(name),
  imageId: 'ami-0abc',
  tags: { ...SET, ArvadosInstanceType: name },
  initCommand: 'umask 0177 && echo -n "secret" >/var/run/arvados-instance-secret\nsystemctl start docker',
  publicKey: null,
  ...o,
});

describe('Ec2InstanceSet against the simulated endpoint', () => {
  let h: DriverOverEndpoint;
  let cloud: MemoryInstanceSet;
  const start = async (params: Record<string, unknown> = {}, o: { linger?: boolean; listPageSize?: number } = {}) => {
    cloud = new MemoryInstanceSet({ linger: o.linger ?? false });
    h = await driverOverEndpoint(cloud, params, o.listPageSize !== undefined ? { listPageSize: o.listPageSize } : {});
  };
  afterEach(async () => {
    await h.close();
  });

  it('RunInstances carries the image, tags, user data, IMDSv2, groups, profile and no public IP', async () => {
    await start({ SecurityGroupIDs: { 'sg-1': {}, 'sg-2': {} }, IAMInstanceProfile: 'worker-role', AdminUsername: 'admin' });
    const inst = await h.driver.create(req('m5.large'));
    const p = h.endpoint.calls('RunInstances')[0]!.params;
    expect(p).toMatchObject({
      ImageId: 'ami-0abc',
      InstanceType: 'm5.large',
      MinCount: '1',
      MaxCount: '1',
      'MetadataOptions.HttpTokens': 'required',
      'MetadataOptions.HttpEndpoint': 'enabled',
      'NetworkInterface.1.AssociatePublicIpAddress': 'false',
      'NetworkInterface.1.DeleteOnTermination': 'true',
      'NetworkInterface.1.SecurityGroupId.1': 'sg-1',
      'NetworkInterface.1.SecurityGroupId.2': 'sg-2',
      'IamInstanceProfile.Name': 'worker-role',
      InstanceInitiatedShutdownBehavior: 'terminate',
      'TagSpecification.1.ResourceType': 'instance',
    });
    expect(p).not.toHaveProperty('InstanceMarketOptions.MarketType');
    expect(p).not.toHaveProperty('BlockDeviceMapping.1.DeviceName');
    expect(p).not.toHaveProperty('KeyName');
    expect(Buffer.from(p.UserData!, 'base64').toString()).toBe(`#!/bin/sh\n${req('m5.large').initCommand}\n`);
    // The endpoint hands the cloud the init command and the type the request names.
    expect(cloud.created[0]!.initCommand).toBe(req('m5.large').initCommand);
    expect(cloud.created[0]!.type.name).toBe('m5.large');
    expect(inst.address()).toMatch(/^10\.0\.0\.\d+$/);
    expect(inst.remoteUser()).toBe('admin');
    await expect(inst.verifyHostKey(Buffer.from('k'), () => Promise.reject(new Error('unused')))).rejects.toBeInstanceOf(NotImplementedError);
  });

  it('AddedScratch becomes an EBS volume; preemptible types a spot request with a maximum price', async () => {
    await start({ EBSVolumeType: 'gp3' });
    await h.driver.create(req('c5.xlarge.scratch'));
    await h.driver.create(req('m5.large.preemptible'));
    const [scratch, spot] = h.endpoint.calls('RunInstances').map((c) => c.params);
    expect(scratch).toMatchObject({
      'BlockDeviceMapping.1.DeviceName': '/dev/xvdt',
      'BlockDeviceMapping.1.Ebs.VolumeSize': '100',
      'BlockDeviceMapping.1.Ebs.VolumeType': 'gp3',
      'BlockDeviceMapping.1.Ebs.DeleteOnTermination': 'true',
    });
    expect(spot).toMatchObject({
      'InstanceMarketOptions.MarketType': 'spot',
      'InstanceMarketOptions.SpotOptions.MaxPrice': '0.04',
      'InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior': 'terminate',
    });
    expect(cloud.created.map((r) => r.type.name)).toEqual(['c5.xlarge.scratch', 'm5.large.preemptible']);
  });

  it('imports the key pair once, named by fingerprint, and finds it again from a new process', async () => {
    await start();
    for (const kind of ['ed25519', 'rsa'] as const) {
      // (host-keys' generator avoids ssh2's occasional malformed ed25519 key)
      const pub = kind === 'rsa' ? utils.generateKeyPairSync('rsa', { bits: 1024 }).public : generateEd25519KeyPair().public;
      await h.driver.create(req('m5.large', { publicKey: pub }));
      await h.driver.create(req('m5.large', { publicKey: pub }));
      // Configured as `vmdispatch world` writes it: endpoint and dummy keys in DriverParameters.
      const other = new Ec2InstanceSet({
        params: parseDriverParams({ Region: 'us-east-1', Endpoint: h.endpoint.url, AccessKeyID: 'a', SecretAccessKey: 'b' }).params,
        instanceSetId: 'other',
        logger: nullLogger,
        clock: h.clock,
      });
      await other.create(req('m5.large', { publicKey: pub }));
      other.stop();
    }
    expect(h.endpoint.calls('ImportKeyPair')).toHaveLength(2);
    expect(h.endpoint.calls('DescribeKeyPairs')).toHaveLength(4);
    const names = h.endpoint.calls('RunInstances').map((c) => c.params.KeyName);
    expect(names.slice(0, 3).every((n) => n === names[0])).toBe(true);
    expect(names[0]).toMatch(/^arvados-dispatch-keypair-SHA256:/);
    expect(names[3]).toMatch(/^arvados-dispatch-keypair-([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    expect(cloud.created[0]!.publicKey).toMatch(/^ssh-ed25519 /);
  });

  it('rotates through subnets on subnet-specific errors and starts the next create where it stopped', async () => {
    await start({ SubnetID: ['subnet-a', 'subnet-b', 'subnet-c'] });
    h.endpoint.injectError('RunInstances', 'InsufficientFreeAddressesInSubnet');
    await h.driver.create(req('m5.large'));
    await h.driver.create(req('m5.large'));
    const subnets = () => h.endpoint.calls('RunInstances').map((c) => c.params['NetworkInterface.1.SubnetId']);
    expect(subnets()).toEqual(['subnet-a', 'subnet-b', 'subnet-b']);
    const listed = await h.driver.instances(SET);
    expect(listed.map((i) => (i as unknown as { subnetId: string }).subnetId)).toEqual(['subnet-b', 'subnet-b']);
  });

  it('returns the last capacity error once every subnet failed; stops at a non-subnet error', async () => {
    await start({ SubnetID: ['subnet-a', 'subnet-b', 'subnet-c'] });
    h.endpoint.injectError('RunInstances', 'InsufficientInstanceCapacity');
    h.endpoint.injectError('RunInstances', 'InvalidSubnetID.NotFound', { times: 2 });
    const e = await h.driver.create(req('m5.large')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CapacityError);
    expect(h.endpoint.calls('RunInstances')).toHaveLength(3);
    h.endpoint.injectError('RunInstances', 'InstanceLimitExceeded');
    expect(await h.driver.create(req('m5.large')).catch((x: unknown) => x)).toBeInstanceOf(QuotaError);
    expect(h.endpoint.calls('RunInstances')).toHaveLength(4);
  });

  it('lists by tag filter, page by page, and skips instances shutting down', async () => {
    await start({}, { linger: true, listPageSize: 5 });
    const made = [];
    for (let i = 0; i < 12; i++) made.push(await h.driver.create(req('m5.large')));
    await h.driver.create(req('m5.large', { tags: { ArvadosInstanceSetID: 'another' } }));
    await made[0]!.destroy();
    const listed = await h.driver.instances(SET);
    expect(listed.map((i) => i.id).sort()).toEqual(made.slice(1).map((i) => i.id).sort());
    const calls = h.endpoint.calls('DescribeInstances');
    expect(calls).toHaveLength(3);
    expect(calls[0]!.params).toMatchObject({ 'Filter.1.Name': 'tag:ArvadosInstanceSetID', 'Filter.1.Value.1': 'zzzzz-set', MaxResults: '5' });
    expect(calls[1]!.params.NextToken).toBeTruthy();
    expect(listed[0]!.tags).toMatchObject({ ...SET, ArvadosInstanceType: 'm5.large' });
  });

  it('spot prices: fetched for spot instances in use, cached for the update interval, EBS added', async () => {
    await start({ SpotPriceUpdateInterval: '1h', EBSPrice: 0.72 });
    const spotType = { ...type('m5.large.preemptible'), addedScratch: 10 * 1024 ** 3 };
    await h.driver.create(req('m5.large.preemptible'));
    await h.driver.create(req('m5.large'));
    const [a, b] = await h.driver.instances(SET);
    const spot = [a!, b!].find((i) => i.tags.ArvadosInstanceType === 'm5.large.preemptible')!;
    const onDemand = [a!, b!].find((i) => i !== spot)!;
    expect(onDemand.priceHistory(type('m5.large'))).toEqual([]);
    // The served fake reports its type's price since time 0 (in effect at the lookback's start);
    // 0.72 per GiB-month x 10 GiB / 30 / 24 = 0.01 per hour on top.
    expect(spot.priceHistory(spotType)).toEqual([{ startTime: 0, price: 0.04 + 0.01 }]);
    const calls = h.endpoint.calls('DescribeSpotPriceHistory');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.params).toMatchObject({
      'Filter.1.Name': 'instance-type',
      'Filter.1.Value.1': 'm5.large',
      'Filter.2.Name': 'product-description',
      'Filter.2.Value.1': 'Linux/UNIX',
    });
    await h.driver.instances(SET);
    expect(h.endpoint.calls('DescribeSpotPriceHistory')).toHaveLength(1);
    h.clock.advance(3600_000);
    await h.driver.instances(SET);
    expect(h.endpoint.calls('DescribeSpotPriceHistory')).toHaveLength(2);
  });

  it('SpotPriceUpdateInterval 0 turns spot price lookups off', async () => {
    await start({ SpotPriceUpdateInterval: 0 });
    await h.driver.create(req('m5.large.preemptible'));
    const [i] = await h.driver.instances(SET);
    expect(i!.priceHistory(type('m5.large.preemptible'))).toEqual([]);
    expect(h.endpoint.calls('DescribeSpotPriceHistory')).toHaveLength(0);
  });

  it('a failed spot price lookup does not fail the listing', async () => {
    await start();
    await h.driver.create(req('m5.large.preemptible'));
    h.endpoint.injectError('DescribeSpotPriceHistory', 'InternalError');
    expect(await h.driver.instances(SET)).toHaveLength(1);
  });

  it('quota groups follow InstanceTypeQuotaGroups, with -spot for preemptible types', async () => {
    await start({ InstanceTypeQuotaGroups: { p4: 'p4' } });
    expect(h.driver.instanceQuotaGroup(type('m5.large'))).toBe('standard');
    expect(h.driver.instanceQuotaGroup(type('m5.large.preemptible'))).toBe('standard-spot');
    expect(h.driver.instanceQuotaGroup(type('p5.48xlarge'))).toBe('p5');
    expect(h.driver.instanceQuotaGroup({ ...type('p5.48xlarge'), providerType: 'p4d.24xlarge' })).toBe('p4');
  });
});

describe('Ec2InstanceSet key pairs under concurrency', () => {
  it('concurrent creates import the key pair once; a duplicate import by another dispatcher is fine', async () => {
    const h = await driverOverEndpoint(new MemoryInstanceSet());
    try {
      const pub = generateEd25519KeyPair().public;
      await Promise.all([1, 2, 3].map(() => h.driver.create(req('m5.large', { publicKey: pub }))));
      expect(h.endpoint.calls('ImportKeyPair')).toHaveLength(1);
      expect(h.endpoint.calls('DescribeKeyPairs')).toHaveLength(1);
      const other = generateEd25519KeyPair().public;
      h.endpoint.injectError('DescribeKeyPairs', 'RequestLimitExceeded');
      expect(await h.driver.create(req('m5.large', { publicKey: other })).catch((e: unknown) => e)).toBeInstanceOf(RateLimitError);
      // The failure is not cached. An import answering Duplicate (another dispatcher raced us)
      // counts as imported: here the endpoint lied, so RunInstances finds no such key pair,
      // and that drops the cached name so the next create imports it for real.
      h.endpoint.injectError('ImportKeyPair', 'InvalidKeyPair.Duplicate');
      const e = await h.driver.create(req('m5.large', { publicKey: other })).catch((x: unknown) => x);
      expect((e as Error).message).toContain('InvalidKeyPair.NotFound');
      const inst = await h.driver.create(req('m5.large', { publicKey: other }));
      expect(inst.id).toMatch(/^i-/);
      expect(h.endpoint.calls('ImportKeyPair').map((c) => c.errorCode)).toEqual(['', 'InvalidKeyPair.Duplicate', '']);
    } finally {
      await h.close();
    }
  });
});
