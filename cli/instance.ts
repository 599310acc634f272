// `vmdispatch instance list|hold|drain|run|kill`: the admin client of a running daemon's
// management API, after the reference's `arvados-server instance` (adminclient.go): the same
// requests to every Services.DispatchCloud.InternalURLs entry with the ManagementToken, the
// same output and exit codes.
import type { ClusterConfig } from '../core/config/cluster-config.js';
import { ConfigFileError, loadConfigFile } from '../prod/config/load-config-file.js';
import { managementRequest } from '../prod/management/management-client.js';
import { parseCommandArgs } from './args.js';
import { InputError } from './errors.js';
import type { Command } from './main.js';

const ACTIONS = ['hold', 'drain', 'run', 'kill'] as const;
type Action = (typeof ACTIONS)[number];

const USAGE = [
  'usage: vmdispatch instance list [--header] [--config CONFIG.yml] [--cluster ID]',
  '       vmdispatch instance hold|drain|run [--config CONFIG.yml] [--cluster ID] INSTANCE-ID...',
  '       vmdispatch instance kill [--reason REASON] [--config CONFIG.yml] [--cluster ID] INSTANCE-ID...',
  'The config file defaults to $ARVADOS_CONFIG, else /etc/arvados/config.yml.',
].join('\n');

export const HEADER = 'instance\taddress\tstate\tidle-behavior\tconfig-type\tprovider-type\tprice\trunning-containers';

/** A request gets this long before it counts as failed (the reference waits forever). */
const REQUEST_TIMEOUT_MS = 60_000;

export interface InstanceIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

interface InstanceItem {
  instance?: unknown;
  address?: unknown;
  worker_state?: unknown;
  idle_behavior?: unknown;
  arvados_instance_type?: unknown;
  provider_instance_type?: unknown;
  price?: unknown;
  running_container_uuids?: unknown;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Go's `%f`: six decimals. */
function goFloat(v: unknown): string {
  const n = typeof v === 'number' ? v : 0;
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  return n.toFixed(6);
}

/** One line of `instance list`, as the reference prints it. */
export function formatInstanceLine(item: InstanceItem): string {
  const running = Array.isArray(item.running_container_uuids) ? item.running_container_uuids.map(str) : [];
  return [
    str(item.instance) === '' ? '-' : str(item.instance),
    str(item.address) === '' ? '-' : str(item.address),
    str(item.worker_state),
    str(item.idle_behavior),
    str(item.arvados_instance_type),
    str(item.provider_instance_type),
    goFloat(item.price),
    running.length === 0 ? '-' : running.join(','),
  ].join('\t');
}

/** Go's flag package takes `-header` as well as `--header`; so do we. */
function normaliseFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  let positional = false;
  for (const a of argv) {
    if (positional || a === '--') {
      positional = true;
      out.push(a);
    } else if (/^-(header|reason|config|cluster|help)(=.*)?$/.test(a)) {
      out.push(`-${a}`);
    } else out.push(a);
  }
  return out;
}

async function loadCluster(configFlag: string | undefined, cluster: string | undefined, io: InstanceIo): Promise<ClusterConfig> {
  const file = configFlag ?? (io.env['ARVADOS_CONFIG'] !== undefined && io.env['ARVADOS_CONFIG'] !== '' ? io.env['ARVADOS_CONFIG'] : '/etc/arvados/config.yml');
  try {
    const parsed = await loadConfigFile(file, cluster === undefined ? {} : { clusterId: cluster });
    return parsed.config;
  } catch (e) {
    if (e instanceof ConfigFileError) throw new InputError(e.message, { cause: e });
    throw e;
  }
}

function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function list(config: ClusterConfig, header: boolean, io: InstanceIo): Promise<number> {
  const urls = config.Services.DispatchCloud.InternalURLs;
  if (urls.length === 0) {
    io.stderr('no Services.DispatchCloud.InternalURLs configured\n');
    return 1;
  }
  if (header) io.stdout(`${HEADER}\n`);
  for (const base of urls) {
    let body: string;
    let status: number;
    try {
      const res = await managementRequest(new URL('/arvados/v1/dispatch/instances', base), {
        token: config.ManagementToken,
        insecure: config.TLS.Insecure,
        timeoutMs: REQUEST_TIMEOUT_MS,
      });
      status = res.status;
      body = res.body;
    } catch (e) {
      io.stderr(`error doing API request: ${describeError(e)}\n`);
      return 1;
    }
    let items: unknown;
    try {
      if (status !== 200) throw new Error(`HTTP ${status} from ${new URL(base).host}: ${body.trim().split('\n')[0] ?? ''}`);
      items = (JSON.parse(body) as { items?: unknown }).items ?? [];
      if (!Array.isArray(items)) throw new Error('"items" is not a list');
    } catch (e) {
      io.stderr(`error decoding API response: ${describeError(e)}\n`);
      return 1;
    }
    for (const item of items as unknown[]) {
      io.stdout(`${formatInstanceLine(typeof item === 'object' && item !== null ? (item as InstanceItem) : {})}\n`);
    }
  }
  return 0;
}

async function act(config: ClusterConfig, action: Action, ids: readonly string[], reason: string, io: InstanceIo): Promise<number> {
  const urls = config.Services.DispatchCloud.InternalURLs;
  if (urls.length === 0) {
    io.stderr('no Services.DispatchCloud.InternalURLs configured\n');
    return 1;
  }
  const todo = new Set(ids);
  for (const base of urls) {
    const host = new URL(base).host;
    for (const id of [...todo]) {
      const u = new URL(`/arvados/v1/dispatch/instances/${action}`, base);
      u.search = new URLSearchParams({ instance_id: id, reason }).toString();
      let res: { status: number; statusText: string };
      try {
        res = await managementRequest(u, { method: 'POST', token: config.ManagementToken, insecure: config.TLS.Insecure, timeoutMs: REQUEST_TIMEOUT_MS });
      } catch (e) {
        io.stderr(`${id}: error doing API request: ${describeError(e)}\n`);
        continue;
      }
      io.stderr(`${id}: ${res.status} ${res.statusText} (${host})\n`);
      if (res.status === 200) todo.delete(id);
    }
  }
  return todo.size > 0 ? 1 : 0;
}

/**
 * Runs `instance SUBCOMMAND ...` with the given output streams; resolves with the exit code.
 * @throws InputError (exit 2) for an unknown subcommand or option, no instance ids, or an
 *   unreadable or invalid config file
 */
export async function runInstanceCommand(argv: readonly string[], io: InstanceIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout(`${USAGE}\n`);
    return sub === undefined ? 2 : 0;
  }
  const isAction = (ACTIONS as readonly string[]).includes(sub);
  if (sub !== 'list' && !isAction) throw new InputError(`unknown subcommand ${JSON.stringify(sub)}\n${USAGE}`);
  const { values, positionals } = parseCommandArgs(
    {
      args: normaliseFlags(rest),
      options: {
        config: { type: 'string' },
        cluster: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        header: { type: 'boolean' },
        reason: { type: 'string' },
      },
      strict: true,
      allowPositionals: isAction,
    },
    USAGE,
  );
  if (values.help === true) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  if (values.header !== undefined && sub !== 'list') throw new InputError(`instance ${sub}: unknown option '--header'\n${USAGE}`);
  if (values.reason !== undefined && sub !== 'kill') throw new InputError(`instance ${sub}: unknown option '--reason'\n${USAGE}`);
  if (isAction && positionals.length === 0) throw new InputError('usage error: no instance IDs provided');
  const config = await loadCluster(values.config, values.cluster, io);
  if (sub === 'list') return list(config, values.header === true, io);
  return act(config, sub as Action, positionals, values.reason ?? '', io);
}

export const command: Command = {
  run: (argv) =>
    runInstanceCommand(argv, {
      stdout: (t) => void process.stdout.write(t),
      stderr: (t) => void process.stderr.write(t),
      env: process.env,
    }),
};
