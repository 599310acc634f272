// The `vmdispatch` command. Each command lives in its own module, loaded on demand so that
// `vmdispatch policies` does not pay for the AWS SDK.
import { InputError, CheckFailed } from './errors.js';
import { packageVersion } from './version.js';

export interface Command {
  /** Runs the command; resolves with the exit code. */
  run(argv: readonly string[]): Promise<number>;
}

interface Entry {
  readonly usage: string;
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

const commands: Record<string, Entry> = {
  sim: {
    usage: 'sim SCENARIO.yaml [--seed N] [--policy NAME] [--out DIR] [--set PATH=VALUE]... [--transport direct|ssh]',
    summary: 'run a scenario on the simulator; print a summary; with --out write summary.json, containers.csv, report.html',
    load: async () => (await import('./sim.js')).command,
  },
  compare: {
    usage: 'compare SCENARIO.yaml --policy A,B,... --out DIR [--seeds N] [--set PATH=VALUE]... [--jobs N]',
    summary: 'run each policy on the same workloads and seeds; write compare.html, compare.json and per-run containers.csv',
    load: async () => (await import('./compare.js')).command,
  },
  whatif: {
    usage: 'whatif SCENARIO.yaml --vary PATH=V1,V2,... [--vary ...]... --out DIR [--seeds N] [--policy NAME] [--jobs N]',
    summary: 'sweep scenario values; write whatif.html (cost against waiting time), whatif.json, whatif.csv',
    load: async () => (await import('./whatif.js')).command,
  },
  policies: {
    usage: 'policies',
    summary: 'list the mapper policies (name, then description); arvados is the default',
    load: async () => (await import('./policies.js')).command,
  },
  instance: {
    usage: 'instance list [--header] | hold|drain|run INSTANCE-ID... | kill [--reason R] INSTANCE-ID... [--config CONFIG.yml]',
    summary: "admin client of a running daemon's management API (Services.DispatchCloud.InternalURLs, ManagementToken)",
    load: async () => (await import('./instance.js')).command,
  },
  serve: {
    usage: 'serve --config CONFIG.yml [--cluster ID] [--policy NAME]',
    summary: 'the production daemon: EC2 driver, SSH executor, controller client; management API, /metrics; stops on SIGTERM leaving VMs',
    load: async () => (await import('./serve.js')).command,
  },
  world: {
    usage: 'world SCENARIO.yaml [--config-out FILE] [--summary-out FILE] [--seed N] [--set PATH=VALUE]...',
    summary: "serve the scenario's world on loopback in real time (controller API, EC2 API, SSH per VM) until SIGTERM; write a config for serve",
    load: async () => (await import('./world.js')).command,
  },
  cloudtest: {
    usage: 'cloudtest --config CONFIG.yml [--instance-set-id ID] [--image-id ID] [--instance-type NAME] [--destroy-existing] [--command CMD]',
    summary: 'check the cloud driver end to end: create, list, tags, boot probe over SSH, destroy',
    load: async () => (await import('./cloudtest.js')).command,
  },
  'instance-types': {
    usage: 'instance-types --config CONFIG.yml --container CONTAINER.json [--cluster ID]',
    summary: 'print the eligible instance types for a container, in preference order',
    load: async () => (await import('./instance-types.js')).command,
  },
};

function help(): string {
  const lines = ['usage: vmdispatch <command> [options]', '', 'commands:'];
  for (const e of Object.values(commands)) {
    lines.push(`  ${e.usage}`, `      ${e.summary}`);
  }
  lines.push('', '--version prints the version; exit codes: 0 success, 1 a check failed, 2 bad input');
  return lines.join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-version' || name === 'version') {
    console.log(`vmdispatch ${packageVersion()} (node ${process.version})`);
    return 0;
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (entry === undefined) {
    console.error(`vmdispatch: unknown command ${JSON.stringify(name)}\n\n${help()}`);
    return 2;
  }
  try {
    const command = await entry.load();
    return await command.run(rest);
  } catch (e) {
    if (e instanceof InputError) {
      console.error(`vmdispatch ${name}: ${e.message}`);
      return 2;
    }
    if (e instanceof CheckFailed) {
      console.error(`vmdispatch ${name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

