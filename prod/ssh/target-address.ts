import { TransientError } from '../../core/ports/errors.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * Parse CloudVMs.SSHPort: a port number, or '' / 'ssh' for 22 (the reference passes the
 * value to Go's dialer, which resolves service names; 'ssh' is the only one that matters).
 * Throws "reading CloudVMs.SSHPort: ..." for anything else.
 */
export function parseSshPort(value: number | string): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value > 0 && value < 65536) return value;
    throw new Error(`reading CloudVMs.SSHPort: expected a port number 1-65535, got ${value}`);
  }
  const v = value.trim();
  if (v === '' || v === 'ssh') return 22;
  if (/^\d{1,5}$/.test(v)) return parseSshPort(Number(v));
  throw new Error(`reading CloudVMs.SSHPort: expected a port number 1-65535, got ${JSON.stringify(value)}`);
}

/**
 * Split an instance address into host and port: `host`, `host:port`, `[v6]:port` or a bare
 * IPv6 address; the port defaults to `defaultPort`. Throws TransientError for an address
 * it cannot use (the cloud may report a better one later).
 */
export function parseTargetAddress(address: string, defaultPort: number): HostPort {
  const bad = (why: string) => new TransientError(`connecting to ${JSON.stringify(address)}: ${why}`);
  let host = address;
  let port = defaultPort;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(address);
  if (bracketed !== null) {
    host = bracketed[1] ?? '';
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else if ((address.match(/:/g) ?? []).length === 1) {
    const i = address.indexOf(':');
    host = address.slice(0, i);
    const p = address.slice(i + 1);
    if (!/^\d{1,5}$/.test(p)) throw bad('the port is not a number');
    port = Number(p);
  }
  if (host === '' || /[\s/@]/.test(host)) throw bad('not a host name or IP address');
  if (!(port > 0 && port < 65536)) throw bad('the port is out of range');
  return { host, port };
}
