import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CapacityError,
  NotFoundError,
  QuotaError,
  RateLimitError,
  TransientError,
  type DispatchError,
} from '../../core/ports/errors.js';
import { FaultInjector } from '../../test/fakes/ec2-fault-injector.js';
import { TEST_TYPES } from '../../test/fakes/ec2-fixtures.js';
import { MemoryInstanceSet } from '../../test/fakes/ec2-memory-instance-set.js';
import { Ec2Endpoint } from './ec2-endpoint.js';

const SIGV4 = 'AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00';

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly code: string | undefined;
}

describe('simulated EC2 endpoint over HTTP', () => {
  let cloud: MemoryInstanceSet;
  let faults: FaultInjector;
  let ep: Ec2Endpoint;
  beforeEach(async () => {
    cloud = new MemoryInstanceSet({ linger: true });
    faults = new FaultInjector(cloud);
    ep = await Ec2Endpoint.start({
      instanceSet: faults,
      types: TEST_TYPES,
      now: () => Date.UTC(2026, 0, 1),
      spotPrices: (t) => [{ startTime: Date.UTC(2026, 0, 1), price: t.price }],
    });
  });
  afterEach(async () => {
    await ep.close();
  });

  const call = async (action: string, params: Record<string, string> = {}, auth = SIGV4): Promise<Answer> => {
    const res = await fetch(ep.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth !== '' ? { authorization: auth } : {}) },
      body: new URLSearchParams({ Action: action, Version: '2016-11-15', ...params }).toString(),
    });
    const body = await res.text();
    return { status: res.status, body, code: /<Code>([^<]*)<\/Code>/.exec(body)?.[1] };
  };
  const run = (tags: Record<string, string> = {}, extra: Record<string, string> = {}) => {
    const p: Record<string, string> = { ImageId: 'ami-1', InstanceType: 'm5.large', MinCount: '1', MaxCount: '1', 'TagSpecification.1.ResourceType': 'instance', ...extra };
    Object.entries(tags).forEach(([k, v], i) => {
      p[`TagSpecification.1.Tag.${i + 1}.Key`] = k;
      p[`TagSpecification.1.Tag.${i + 1}.Value`] = v;
    });
    return call('RunInstances', p);
  };
  const idOf = (a: Answer) => /<instanceId>([^<]+)<\/instanceId>/.exec(a.body)?.[1] ?? '';
  const ids = (a: Answer) => [...a.body.matchAll(/<instanceId>([^<]+)<\/instanceId>/g)].map((m) => m[1]);

  it('refuses unsigned requests and unknown actions with EC2 error documents', async () => {
    const unsigned = await call('DescribeInstances', {}, '');
    expect([unsigned.status, unsigned.code]).toEqual([401, 'AuthFailure']);
    expect(unsigned.body).toMatch(/^<\?xml[^>]*>\n<Response><Errors><Error><Code>AuthFailure<\/Code><Message>[^<]+<\/Message><\/Error><\/Errors><RequestID>[^<]+<\/RequestID><\/Response>$/);
    const bad = await call('DescribeVpcs');
    expect([bad.status, bad.code]).toEqual([400, 'InvalidAction']);
  });

  it('answers a GET with the parameters in the query string', async () => {
    const res = await fetch(`${ep.url}/?Action=DescribeInstances&Version=2016-11-15`, { headers: { authorization: SIGV4 } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">');
  });

  it('maps the core error kinds of the served cloud to EC2 codes and statuses', async () => {
    const cases: [DispatchError, string, number][] = [
      [new RateLimitError('x', 1000), 'RequestLimitExceeded', 503],
      [new QuotaError('x'), 'InstanceLimitExceeded', 400],
      [new CapacityError('x', { scope: 'type', providerType: 'm5.large', preemptible: false }), 'InsufficientInstanceCapacity', 500],
      [new CapacityError('x', { scope: 'quota-group', quotaGroup: 'standard' }), 'VcpuLimitExceeded', 400],
      [new CapacityError('x', { scope: 'all' }), 'InsufficientInstanceCapacity', 500],
      [new TransientError('x'), 'InternalError', 500],
      [new NotFoundError('x'), 'InvalidInstanceID.NotFound', 400],
    ];
    for (const [err, code, status] of cases) {
      faults.failNext('create', err);
      const a = await run();
      expect([a.code, a.status], code).toEqual([code, status]);
    }
    faults.failNext('list', new RateLimitError('x', 1000));
    expect((await call('DescribeInstances')).code).toBe('RequestLimitExceeded');
  });

  it('filters by tag (wildcards, several values), tag-key, state, type and id', async () => {
    const a = idOf(await run({ Set: 'one', Name: 'a<&>"' }));
    const b = idOf(await run({ Set: 'two' }));
    const c = idOf(await run({ Set: 'three' }, { InstanceType: 'c5.xlarge' }));
    const list = (p: Record<string, string>) => call('DescribeInstances', p).then(ids);
    expect(await list({ 'Filter.1.Name': 'tag:Set', 'Filter.1.Value.1': 'one' })).toEqual([a]);
    expect(await list({ 'Filter.1.Name': 'tag:Set', 'Filter.1.Value.1': 'one', 'Filter.1.Value.2': 't*' })).toEqual([a, b, c]);
    expect(await list({ 'Filter.1.Name': 'tag:Set', 'Filter.1.Value.1': 't?o' })).toEqual([b]);
    expect(await list({ 'Filter.1.Name': 'tag-key', 'Filter.1.Value.1': 'Name' })).toEqual([a]);
    expect(await list({ 'Filter.1.Name': 'instance-type', 'Filter.1.Value.1': 'c5.xlarge' })).toEqual([c]);
    expect(await list({ 'InstanceId.1': b, 'InstanceId.2': a })).toEqual([a, b]);
    expect(await list({ 'Filter.1.Name': 'tag:Set', 'Filter.1.Value.1': 'one', 'Filter.2.Name': 'instance-id', 'Filter.2.Value.1': b })).toEqual([]);
    const described = await call('DescribeInstances', { 'Filter.1.Name': 'tag:Set', 'Filter.1.Value.1': 'one' });
    expect(described.body).toContain('<key>Name</key><value>a&lt;&amp;&gt;&quot;</value>');
    await call('TerminateInstances', { 'InstanceId.1': a });
    expect(await list({ 'Filter.1.Name': 'instance-state-name', 'Filter.1.Value.1': 'running' })).toEqual([b, c]);
    expect(await list({ 'Filter.1.Name': 'instance-state-name', 'Filter.1.Value.1': 'shutting-down' })).toEqual([a]);
    cloud.reap();
    expect(await list({})).toEqual([b, c]);
  });

  it('pages with MaxResults and NextToken, and validates both', async () => {
    const made = [];
    for (let i = 0; i < 7; i++) made.push(idOf(await run()));
    const p1 = await call('DescribeInstances', { MaxResults: '5' });
    expect(ids(p1)).toEqual(made.slice(0, 5));
    const token = /<nextToken>([^<]+)<\/nextToken>/.exec(p1.body)?.[1] ?? '';
    const p2 = await call('DescribeInstances', { MaxResults: '5', NextToken: token });
    expect(ids(p2)).toEqual(made.slice(5));
    expect(p2.body).not.toContain('<nextToken>');
    expect((await call('DescribeInstances', { MaxResults: '4' })).code).toBe('InvalidParameterValue');
    expect((await call('DescribeInstances', { MaxResults: '5', 'InstanceId.1': made[0]! })).code).toBe('InvalidParameterCombination');
    expect((await call('DescribeInstances', { NextToken: '!!' })).code).toBe('InvalidParameterValue');
    expect((await call('DescribeInstances', { 'Filter.1.Name': 'vpc-id', 'Filter.1.Value.1': 'v' })).code).toBe('InvalidParameterValue');
    expect((await call('DescribeInstances', { 'InstanceId.1': 'i-nope' })).code).toBe('InvalidInstanceID.NotFound');
  });

  it('CreateTags adds and overwrites without removing; unknown ids are not found', async () => {
    const a = idOf(await run({ Keep: 'k', Change: 'old' }));
    const ok = await call('CreateTags', { 'ResourceId.1': a, 'Tag.1.Key': 'Change', 'Tag.1.Value': 'new', 'Tag.2.Key': 'Add', 'Tag.2.Value': '' });
    expect(ok.body).toContain('<return>true</return>');
    expect((await cloud.instances(null))[0]?.tags).toEqual({ Keep: 'k', Change: 'new', Add: '' });
    expect((await call('CreateTags', { 'ResourceId.1': 'i-nope', 'Tag.1.Key': 'a', 'Tag.1.Value': 'b' })).code).toBe('InvalidInstanceID.NotFound');
    expect((await call('CreateTags', { 'ResourceId.1': a, 'Tag.1.Key': 'aws:x', 'Tag.1.Value': 'b' })).code).toBe('InvalidParameterValue');
  });

  it('TerminateInstances is idempotent while the instance shuts down; unknown ids are not found', async () => {
    const a = idOf(await run());
    const first = await call('TerminateInstances', { 'InstanceId.1': a });
    expect(first.body).toContain('<currentState><code>32</code><name>shutting-down</name></currentState><previousState><code>16</code><name>running</name></previousState>');
    expect((await call('TerminateInstances', { 'InstanceId.1': a })).status).toBe(200);
    expect((await call('TerminateInstances', { 'InstanceId.1': 'i-nope' })).code).toBe('InvalidInstanceID.NotFound');
  });

  it('RunInstances validates the type, market, key pair, counts and user data', async () => {
    expect((await run({}, { InstanceType: 'x9.huge' })).code).toBe('InvalidParameterValue');
    expect((await run({}, { InstanceType: 'c5.xlarge', 'InstanceMarketOptions.MarketType': 'spot' })).code).toBe('InvalidParameterValue');
    expect((await run({}, { 'InstanceMarketOptions.MarketType': 'spot', 'InstanceMarketOptions.SpotOptions.MaxPrice': '0.01' })).code).toBe('SpotMaxPriceTooLow');
    expect((await run({}, { KeyName: 'nope' })).code).toBe('InvalidKeyPair.NotFound');
    expect((await run({}, { MinCount: '2', MaxCount: '1' })).code).toBe('InvalidParameterValue');
    expect((await run({}, { UserData: Buffer.alloc(16 * 1024 + 1, 'a').toString('base64') })).code).toBe('InvalidParameterValue');
    expect((await call('RunInstances', { InstanceType: 'm5.large' })).code).toBe('MissingParameter');
    expect((await call('RunInstances', { ImageId: 'a', 'ImageId.1': 'b' })).code).toBe('InvalidParameter');
    const two = await run({}, { MaxCount: '2' });
    expect(ids(two)).toHaveLength(2);
    expect(cloud.created).toHaveLength(2);
  });

  it('key pairs: import, duplicate, describe by fingerprint and name', async () => {
    const line = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH6ZrJ8Z8Zq0yXlq3Yc3Yxq2ZrJ8Z8Zq0yXlq3Yc3Yxq test';
    const imp = await call('ImportKeyPair', { KeyName: 'k1', PublicKeyMaterial: Buffer.from(line).toString('base64') });
    expect(imp.status).toBe(200);
    const fp = /<keyFingerprint>([^<]+)</.exec(imp.body)?.[1] ?? '';
    expect((await call('ImportKeyPair', { KeyName: 'k1', PublicKeyMaterial: Buffer.from(line).toString('base64') })).code).toBe('InvalidKeyPair.Duplicate');
    expect((await call('ImportKeyPair', { KeyName: 'k2', PublicKeyMaterial: Buffer.from('junk').toString('base64') })).code).toBe('InvalidKey.Format');
    expect((await call('DescribeKeyPairs', { 'Filter.1.Name': 'fingerprint', 'Filter.1.Value.1': fp })).body).toContain('<keyName>k1</keyName>');
    expect((await call('DescribeKeyPairs', { 'Filter.1.Name': 'fingerprint', 'Filter.1.Value.1': 'x' })).body).not.toContain('<keyName>');
    expect((await call('DescribeKeyPairs', { 'KeyName.1': 'k9' })).code).toBe('InvalidKeyPair.NotFound');
  });

  it('spot price history of the configured preemptible types', async () => {
    const all = await call('DescribeSpotPriceHistory', { 'Filter.1.Name': 'product-description', 'Filter.1.Value.1': 'Linux/UNIX' });
    expect(all.body).toContain('<instanceType>m5.large</instanceType><productDescription>Linux/UNIX</productDescription><spotPrice>0.040000</spotPrice><timestamp>2026-01-01T00:00:00.000Z</timestamp><availabilityZone>us-east-1a</availabilityZone>');
    const none = await call('DescribeSpotPriceHistory', { 'Filter.1.Name': 'instance-type', 'Filter.1.Value.1': 'c5.xlarge' });
    expect(none.body).not.toContain('<item>');
    expect((await call('DescribeSpotPriceHistory', { 'Filter.1.Name': 'zone', 'Filter.1.Value.1': 'x' })).code).toBe('InvalidParameterValue');
  });

  it('DescribeInstanceStatus: zones and states, all instances on request, paged', async () => {
    const made = [];
    for (let i = 0; i < 6; i++) made.push(idOf(await run()));
    await call('TerminateInstances', { 'InstanceId.1': made[0]! });
    const running = await call('DescribeInstanceStatus', { MaxResults: '5' });
    expect(ids(running)).toEqual(made.slice(1, 6));
    expect(running.body).toContain('<availabilityZone>us-east-1a</availabilityZone><instanceState><code>16</code><name>running</name></instanceState>');
    const all = await call('DescribeInstanceStatus', { IncludeAllInstances: 'true', MaxResults: '5' });
    expect(ids(all)).toEqual(made.slice(0, 5));
    const token = /<nextToken>([^<]+)<\/nextToken>/.exec(all.body)?.[1] ?? '';
    expect(ids(await call('DescribeInstanceStatus', { IncludeAllInstances: 'true', MaxResults: '5', NextToken: token }))).toEqual([made[5]]);
  });

  it('injected errors fail the next calls of one action only, then clear', async () => {
    ep.injectError('DescribeInstances', 'Unavailable', { times: 2 });
    expect((await call('DescribeKeyPairs')).status).toBe(200);
    expect((await call('DescribeInstances')).code).toBe('Unavailable');
    expect((await call('DescribeInstances')).status).toBe(503);
    expect((await call('DescribeInstances')).status).toBe(200);
    expect(ep.calls('DescribeInstances').map((r) => r.errorCode)).toEqual(['Unavailable', 'Unavailable', '']);
  });
});

describe('simulated EC2 endpoint request log', () => {
  it('keeps a bounded window of the latest requests', async () => {
    const ep = await Ec2Endpoint.start({ instanceSet: new MemoryInstanceSet(), types: TEST_TYPES, keepRequests: 3 });
    try {
      for (let i = 1; i <= 8; i++) {
        const res = await fetch(ep.url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: SIGV4 },
          body: new URLSearchParams({ Action: 'DescribeKeyPairs', Version: '2016-11-15', 'KeyName.1': `k${i}` }).toString(),
        });
        await res.text();
      }
      // 8 requests, a window of 3: trimmed back to 3 at the 6th, so 5 remain, the newest last.
      expect(ep.requests.map((r) => r.params['KeyName.1'])).toEqual(['k4', 'k5', 'k6', 'k7', 'k8']);
    } finally {
      await ep.close();
    }
    await expect(Ec2Endpoint.start({ instanceSet: new MemoryInstanceSet(), types: TEST_TYPES, keepRequests: 0 })).rejects.toThrow(/keepRequests must be a positive integer/);
  });
});
