import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fixedClock, ROOT, TOKEN } from './log-secrets.fixture.js';
import { createLogger, logLevelFromConfig, type LoggerOptions } from './pino-logger.js';
import { REDACTED, Redactor, isSensitiveKey } from './redact.js';


function capture(opts: LoggerOptions = {}) {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  const logger = createLogger({ stream, clock: fixedClock, secrets: [TOKEN, ROOT], ...opts });
  const text = () => chunks.join('');
  const lines = () =>
    text()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, text, lines };
}

describe('pino logger', () => {
  it('writes one JSON object per line with level label, RFC 3339 time and msg', () => {
    const { logger, lines } = capture();
    logger.info('instance shut down', { Instance: 'i-123', Count: 3 });
    expect(lines()).toEqual([{ level: 'info', time: '2026-01-02T03:04:05.678Z', msg: 'instance shut down', Instance: 'i-123', Count: 3 }]);
  });

  it('drops lines below the level and honours every level', () => {
    const { logger, lines } = capture({ level: 'warn' });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(lines().map((l) => [l['level'], l['msg']])).toEqual([
      ['warn', 'w'],
      ['error', 'e'],
    ]);
  });

  it('child loggers add their fields to every line', () => {
    const { logger, lines } = capture();
    const c = logger.child({ Instance: 'i-1' }).child({ ContainerUUID: 'zzzzz-dz642-000000000000001' });
    c.info('starting');
    expect(lines()[0]).toMatchObject({ Instance: 'i-1', ContainerUUID: 'zzzzz-dz642-000000000000001', msg: 'starting' });
  });

  it('never writes a configured token: not in fields, messages, errors, child bindings or nested values', () => {
    const { logger, text } = capture({ level: 'debug' });
    logger.info(`token is ${TOKEN}`, { Detail: `Authorization: Bearer ${TOKEN}` });
    logger.warn('request failed', { ManagementToken: TOKEN, apiToken: 'other-secret', nested: { list: [`x${ROOT}y`] } });
    logger.error('calling controller', { err: new Error(`401 for token ${ROOT}`, { cause: new Error(TOKEN) }) });
    logger.child({ Url: `http://h/x?api_token=${TOKEN}` }).debug('child');
    logger.info('map and set', { m: new Map([['k', TOKEN]]), s: new Set([ROOT]) });
    logger.info(encodeURIComponent(`a b ${TOKEN}`));
    const out = text();
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain(ROOT);
    expect(out).not.toContain('other-secret');
    expect(out.split('\n').filter((l) => l !== '')).toHaveLength(6);
    expect(out).toContain(REDACTED);
  });

  it('redacts credential shapes without configuration: bearer headers, v2 tokens, PEM keys', () => {
    const { logger, text } = capture({ secrets: [] });
    const pem = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----';
    logger.info('x', { Header: 'Bearer abcdef123456', Tok: 'v2/zzzzz-gj3su-000000000000000/secret123secret', Body: pem });
    const out = text();
    expect(out).not.toContain('abcdef123456');
    expect(out).not.toContain('secret123secret');
    expect(out).not.toContain('b3BlbnNzaC1rZXktdjEAAAAA');
    expect(out).toContain('Bearer [REDACTED]');
  });

  it('keeps % in messages literal and does not lose fields named like pino keys', () => {
    const { logger, lines } = capture();
    logger.info('100% %s done', { level: 'x', msg: 'y' });
    expect(lines()[0]).toMatchObject({ level: 'info', msg: '100% %s done', field_level: 'x', field_msg: 'y' });
  });

  it('writes bigints exactly and survives cycles', () => {
    const { logger, lines } = capture();
    const cyc: Record<string, unknown> = { a: 1 };
    cyc['self'] = cyc;
    logger.info('p', { Priority: 1234567890123456789n, cyc });
    expect(lines()[0]).toMatchObject({ Priority: '1234567890123456789', cyc: { a: 1, self: '[Circular]' } });
  });

  it('writes an error field as the redactor made it: {type, message}', () => {
    const { logger, lines } = capture();
    logger.error('failed', { err: new Error('boom') });
    expect(lines()[0]?.['err']).toEqual({ type: 'Error', message: 'boom' });
  });

  it('rejects an unknown level', () => {
    expect(() => createLogger({ level: 'loud' as never, stream: new PassThrough() })).toThrow(/unknown log level "loud"/);
  });
});

describe('redaction rules', () => {
  it.each([
    ['ManagementToken', true],
    ['SystemRootToken', true],
    ['DispatchPrivateKey', true],
    ['SecretAccessKey', true],
    ['password', true],
    ['Authorization', true],
    ['api_key', true],
    ['ssh-key', true],
    ['keepCacheRam', false],
    ['Instance', false],
    ['InstanceSetID', false],
    ['monkeyBusiness', false],
    ['AccessKeyID', true],
    ['auth-header', true],
    ['keyType', false],
    ['hostKeyFingerprint', false],
    ['key_pair_name', false],
    ['tokenType', true],
  ])('field %s sensitive: %s', (key, want) => {
    expect(isSensitiveKey(key)).toBe(want);
  });

  it('replaces a secret embedded in longer text, longest secret first', () => {
    const r = new Redactor(['abc', 'abcdef']);
    expect(r.text('xabcdefy abc')).toBe(`x${REDACTED}y ${REDACTED}`);
  });

  it('maps SystemLogs.LogLevel values', () => {
    expect(['debug', 'Info', 'warning', 'error', 'fatal', undefined].map(logLevelFromConfig)).toEqual(['debug', 'info', 'warn', 'error', 'error', 'info']);
  });
});

describe('secretsFromConfig', () => {
  it('collects the tokens, the database password, the dispatch key and secret driver parameters', async () => {
    const { parseConfigText } = await import('../config/load-config-file.js');
    const { secretsFromConfig } = await import('./pino-logger.js');
    const { config } = parseConfigText(
      [
        'Clusters:',
        '  zzzzz:',
        `    SystemRootToken: ${ROOT.replace(/[^a-z0-9]/gi, '')}`,
        '    ManagementToken: mgmt0token1abc',
        '    PostgreSQL: {Connection: {host: localhost, password: db-pass-word}}',
        '    Containers:',
        '      CloudVMs:',
        '        Driver: ec2',
        '        DriverParameters: {Region: us-east-1, AccessKeyID: AKIAEXAMPLE, SecretAccessKey: s3cr3t/KEY+value}',
        '    InstanceTypes:',
        '      m5.large: {ProviderType: m5.large, VCPUs: 2, RAM: 8GiB, IncludedScratch: 32GB, Price: 0.096}',
        '',
      ].join('\n'),
      'config.yml',
    );
    const secrets = secretsFromConfig(config);
    expect(secrets).toEqual(expect.arrayContaining([ROOT, 'mgmt0token1abc', 'db-pass-word', 's3cr3t/KEY+value']));
    expect(secrets).not.toContain('AKIAEXAMPLE');
    expect(secrets).not.toContain('us-east-1');
    const { logger, text } = capture({ secrets });
    logger.error('talking to EC2', { err: new Error('signature for s3cr3t/KEY+value does not match') });
    expect(text()).not.toContain('s3cr3t');
  });
});
