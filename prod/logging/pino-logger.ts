// The Logger port over pino: one JSON object per line, `{"level":"info","time":"<RFC 3339>",
// "msg":"...", ...fields}` (the shape of Arvados' logrus JSON logs), or the same record as a
// logrus-style text line (SystemLogs.Format text/plain), every record scrubbed by a Redactor
// first.
import pino from 'pino';
import type { Clock } from '../../core/ports/clock.js';
import type { LogFields, Logger } from '../../core/ports/logger.js';
import type { ClusterConfig } from '../../core/config/cluster-config.js';
import { Redactor } from './redact.js';
import { textStream } from './text-format.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** SystemLogs.Format values: `json` (default), `text`, and `plain` (text without the time). */
export const LOG_FORMATS = ['json', 'text', 'plain'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  /** Lines below this level are dropped. Default info. */
  readonly level?: LogLevel;
  /** Default json. */
  readonly format?: LogFormat;
  /** Values never to write (tokens, passwords, keys), wherever they appear. */
  readonly secrets?: readonly string[];
  /** Where the lines go; default stderr (written synchronously, so no line is lost on exit). */
  readonly stream?: NodeJS.WritableStream;
  /** Time source of the `time` field; default the system clock. */
  readonly clock?: Clock;
  /** Fields on every line (e.g. `{ClusterID}`). */
  readonly base?: LogFields;
}

/** Keys pino writes itself; a field with one of these names is renamed, not lost. */
const RESERVED = new Set(['level', 'time', 'msg']);

class PinoLogger implements Logger {
  constructor(
    private readonly p: pino.Logger,
    private readonly r: Redactor,
  ) {}

  debug(msg: string, fields?: LogFields): void {
    if (this.p.isLevelEnabled('debug')) this.p.debug(this.clean(fields), this.r.text(msg));
  }
  info(msg: string, fields?: LogFields): void {
    if (this.p.isLevelEnabled('info')) this.p.info(this.clean(fields), this.r.text(msg));
  }
  warn(msg: string, fields?: LogFields): void {
    if (this.p.isLevelEnabled('warn')) this.p.warn(this.clean(fields), this.r.text(msg));
  }
  error(msg: string, fields?: LogFields): void {
    if (this.p.isLevelEnabled('error')) this.p.error(this.clean(fields), this.r.text(msg));
  }
  child(fields: LogFields): Logger {
    return new PinoLogger(this.p.child(this.clean(fields)), this.r);
  }

  private clean(fields: LogFields | undefined): Record<string, unknown> {
    if (fields === undefined) return {};
    const out = this.r.fields(fields);
    for (const k of Object.keys(out)) {
      if (RESERVED.has(k)) {
        out[`field_${k}`] = out[k];
        delete out[k];
      }
    }
    return out;
  }
}

/**
 * A Logger writing JSON (or text) lines. `%` in messages is written as is (no printf formatting).
 * @throws Error when `level` is not one of LOG_LEVELS or `format` not one of LOG_FORMATS
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(`creating the logger: unknown log level ${JSON.stringify(level)}, expected one of ${LOG_LEVELS.join(', ')}`);
  }
  const format = opts.format ?? 'json';
  if (!(LOG_FORMATS as readonly string[]).includes(format)) {
    throw new Error(`creating the logger: unknown log format ${JSON.stringify(format)}, expected one of ${LOG_FORMATS.join(', ')}`);
  }
  const clock = opts.clock;
  const redactor = new Redactor(opts.secrets ?? []);
  const out = opts.stream ?? pino.destination({ dest: 2, sync: true });
  // Text is made from pino's JSON line, so both formats carry the same redacted record.
  const destination = format === 'json' ? out : textStream(out, format === 'text');
  const p = pino(
    {
      level,
      base: null,
      messageKey: 'msg',
      // The redactor has already made errors plain {type, message}; pino's own err
      // serializer would turn that object into {type: "Object", stack: ""}.
      serializers: { err: (v: unknown) => v },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: () => `,"time":"${new Date(clock === undefined ? Date.now() : clock.now()).toISOString()}"`,
      // Messages are constant text; printf-style interpolation would only mangle a stray %.
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.length > 2 ? (args.slice(0, 2) as Parameters<typeof method>) : args);
        },
      },
    },
    destination,
  );
  const root = new PinoLogger(p, redactor);
  return opts.base === undefined ? root : root.child(opts.base);
}

/**
 * SystemLogs.Format as Arvados' ctxlog reads it: `json` or "" (json), `text`, `plain`.
 * @param path the setting's dotted path, for the message
 * @throws Error "<path>: expected one of json, text, plain, got ..." for anything else (the
 *   reference refuses to start too)
 */
export function logFormatFromConfig(value: string | undefined, path = 'SystemLogs.Format'): LogFormat {
  if (value === undefined || value === '') return 'json';
  if ((LOG_FORMATS as readonly string[]).includes(value)) return value as LogFormat;
  throw new Error(`${path}: expected one of ${LOG_FORMATS.join(', ')}, got ${JSON.stringify(value)}`);
}

/** Arvados' SystemLogs.LogLevel values mapped to ours ("warning" and "trace" included). */
export function logLevelFromConfig(value: string | undefined): LogLevel {
  switch ((value ?? 'info').toLowerCase()) {
    case 'trace':
    case 'debug':
      return 'debug';
    case 'warn':
    case 'warning':
      return 'warn';
    case 'error':
    case 'fatal':
    case 'panic':
      return 'error';
    default:
      return 'info';
  }
}

/**
 * Every secret in a cluster config that must never reach a log: the tokens, the database
 * password, the dispatch private key and the driver's secret parameters (any
 * DriverParameters key named like a credential).
 */
export function secretsFromConfig(config: ClusterConfig): string[] {
  const out = [config.SystemRootToken, config.ManagementToken, config.Containers.DispatchPrivateKey];
  const pw = config.PostgreSQL.Connection['password'];
  if (pw !== undefined) out.push(pw);
  for (const [k, v] of Object.entries(config.Containers.CloudVMs.DriverParameters)) {
    if (typeof v === 'string' && /secret|password|token|key$/i.test(k) && !/^(AccessKeyID|KeyPairName)$/i.test(k)) out.push(v);
  }
  return out.filter((s) => s !== '');
}
