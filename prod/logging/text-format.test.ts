import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixedClock, ROOT, TOKEN } from './log-secrets.fixture.js';
import { createLogger, logFormatFromConfig, type LogFormat } from './pino-logger.js';
import { formatTextLine, quoteTextValue } from './text-format.js';


function capture(format: LogFormat, level: 'debug' | 'info' = 'info') {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  const logger = createLogger({ stream, clock: fixedClock, secrets: [TOKEN, ROOT], format, level });
  return { logger, text: () => chunks.join('') };
}

/** Splits a text line into [key, value] pairs, unquoting quoted parts (JSON string syntax). */
function parseTextLine(line: string): [string, string][] {
  const out: [string, string][] = [];
  const part = /("(?:[^"\\]|\\.)*"|[^ ="]+)=("(?:[^"\\]|\\.)*"|[^ "]*)(?: |$)/gy;
  let m: RegExpExecArray | null;
  while ((m = part.exec(line)) !== null) {
    const un = (s: string) => (s.startsWith('"') ? (JSON.parse(s) as string) : s);
    out.push([un(m[1] ?? ''), un(m[2] ?? '')]);
    if (part.lastIndex === line.length) break;
  }
  expect(part.lastIndex, `unparsed text in ${line}`).toBe(line.length);
  return out;
}

describe('text log format', () => {
  it('writes time, level and msg, then the fields sorted, quoting only what needs it', () => {
    const { logger, text } = capture('text');
    logger.child({ ClusterID: 'zzzzz' }).info('instance shut down', { Reason: 'idle for 5m', Instance: 'i-0abc', Price: 0.096, Held: false });
    expect(text()).toBe('time="2026-01-02T03:04:05.678Z" level=info msg="instance shut down" ClusterID=zzzzz Held=false Instance=i-0abc Price=0.096 Reason="idle for 5m"\n');
  });

  it('plain drops the time', () => {
    const { logger, text } = capture('plain');
    logger.warn('x', { A: 'b' });
    expect(text()).toBe('level=warn msg=x A=b\n');
  });

  it('keeps one record per line: newlines, quotes and = in values and keys are quoted', () => {
    const { logger, text } = capture('text');
    logger.error('two\nlines "quoted"', { 'odd field': 'a=b', Multi: 'x\ny', Empty: '', Nested: { list: [1, 'two'] }, err: new Error('boom') });
    const lines = text().split('\n');
    expect(lines).toHaveLength(2);
    expect(parseTextLine(lines[0] ?? '')).toEqual([
      ['time', '2026-01-02T03:04:05.678Z'],
      ['level', 'error'],
      ['msg', 'two\nlines "quoted"'],
      ['Empty', ''],
      ['Multi', 'x\ny'],
      ['Nested', '{"list":[1,"two"]}'],
      ['err', '{"type":"Error","message":"boom"}'],
      ['odd field', 'a=b'],
    ]);
  });

  it('goes through the same redaction as JSON: a token never appears', () => {
    const { logger, text } = capture('text', 'debug');
    logger.info(`token is ${TOKEN}`, { Detail: `Authorization: Bearer ${TOKEN}` });
    logger.warn('request failed', { ManagementToken: TOKEN, apiToken: 'other-secret', nested: { list: [`x${ROOT}y`] } });
    logger.error('calling controller', { err: new Error(`401 for token ${ROOT}`, { cause: new Error(TOKEN) }) });
    logger.child({ Url: `http://h/x?api_token=${TOKEN}` }).debug('child');
    logger.info('pem', { Body: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----' });
    const out = text();
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain(ROOT);
    expect(out).not.toContain('other-secret');
    expect(out).not.toContain('b3BlbnNzaC1rZXktdjEAAAAA');
    expect(out.split('\n').filter((l) => l !== '')).toHaveLength(5);
    expect(out).toContain('ManagementToken="[REDACTED]"');
  });

  it('any message and string fields give one line that parses back to them (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.dictionary(fc.string({ minLength: 1 }).filter((k) => !['time', 'level', 'msg'].includes(k)), fc.string()), (msg, fields) => {
        const line = formatTextLine({ time: 't', level: 'info', msg, ...fields }, true);
        expect(line.indexOf('\n')).toBe(line.length - 1);
        const parsed = parseTextLine(line.slice(0, -1));
        expect(parsed.slice(0, 3)).toEqual([['time', 't'], ['level', 'info'], ['msg', msg]]);
        expect(Object.fromEntries(parsed.slice(3))).toEqual({ ...fields });
      }),
      { numRuns: 150 },
    );
  });

  it('quotes as logrus does: bare only for letters, digits and -._/@^+', () => {
    expect(['i-0abc', 'a/b@c^d+e_f.g', 'a b', 'a"b', '', 'ü', 'k=v'].map(quoteTextValue)).toEqual(['i-0abc', 'a/b@c^d+e_f.g', '"a b"', '"a\\"b"', '""', '"ü"', '"k=v"']);
  });
});

describe('logFormatFromConfig', () => {
  it('reads json (default), text and plain; anything else is an error naming the setting', () => {
    expect([undefined, '', 'json', 'text', 'plain'].map((v) => logFormatFromConfig(v))).toEqual(['json', 'json', 'json', 'text', 'plain']);
    expect(() => logFormatFromConfig('yaml', 'Clusters.zzzzz.SystemLogs.Format')).toThrow('Clusters.zzzzz.SystemLogs.Format: expected one of json, text, plain, got "yaml"');
    expect(() => createLogger({ format: 'xml' as never, stream: new PassThrough() })).toThrow(/unknown log format "xml"/);
  });
});
