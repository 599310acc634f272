import { createHmac } from 'node:crypto';
import { instanceTypeToApi, type InstanceType } from '../domain/instance-type.js';

/** What crunch-run needs to reach the API (sent in ConfigData.Env, never as SSH env). */
export interface CrunchRunEnv {
  readonly apiHost: string;
  readonly apiToken: string;
  readonly insecure: boolean;
}

export interface ConfigDataInput {
  readonly uuid: string;
  readonly type: InstanceType;
  /** The instance's address, `host` or `host:port`. */
  readonly address: string;
  readonly env: CrunchRunEnv;
  readonly systemRootToken: string;
  readonly keepBuffersPerVCPU: number;
  /** The cluster config as Arvados JSON (sent only when keep buffers are on), or null. */
  readonly clusterJson: unknown;
  readonly ec2SpotCheck: boolean;
}

/**
 * The JSON ConfigData sent on stdin of `crunch-run --detach --stdin-config`
 * (reference: arvados-interfaces §5.4), with Go's field names.
 */
export function configData(i: ConfigDataInput): Buffer {
  const env: Record<string, string> = {
    ARVADOS_API_HOST: i.env.apiHost,
    ARVADOS_API_TOKEN: i.env.apiToken,
    InstanceType: instanceTypeJson(i.type),
    GatewayAddress: joinHostPort(hostOf(i.address), '0'),
    GatewayAuthSecret: gatewayAuthSecret(i.systemRootToken, i.uuid),
  };
  if (i.env.insecure) env['ARVADOS_API_HOST_INSECURE'] = '1';
  const bufs = i.keepBuffersPerVCPU > 0 ? i.keepBuffersPerVCPU * i.type.vcpus : 0;
  const data = {
    Env: env,
    Cluster: bufs > 0 ? (i.clusterJson ?? null) : null,
    KeepBuffers: bufs,
    EC2SpotCheck: i.ec2SpotCheck,
  };
  return Buffer.from(JSON.stringify(data));
}

/** hex HMAC-SHA256(SystemRootToken, uuid): the controller computes the same for the gateway. */
export function gatewayAuthSecret(systemRootToken: string, uuid: string): string {
  return createHmac('sha256', systemRootToken).update(uuid).digest('hex');
}

/** Go's json.MarshalIndent(type, "", "    ") plus newline; Name and Scratch are never serialised. */
export function instanceTypeJson(t: InstanceType): string {
  return `${JSON.stringify(instanceTypeToApi(t), null, 4)}\n`;
}

/** The host part of `host`, `host:port`, `[v6]:port` or a bare IPv6 address. */
export function hostOf(address: string): string {
  if (address.startsWith('[')) {
    const end = address.indexOf(']');
    return end > 0 ? address.slice(1, end) : address;
  }
  const colons = address.split(':').length - 1;
  if (colons === 1) return address.slice(0, address.indexOf(':'));
  return address;
}

export function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
