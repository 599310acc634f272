// `vmdispatch sim SCENARIO.yaml [--seed N] [--policy NAME] [--out DIR] [--set PATH=VALUE]...
// [--transport direct|ssh]`: runs a scenario on the simulator and prints a summary.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { stringifyJson } from '../core/domain/json.js';
import { renderRunReport } from '../reports/run-report.js';
import { directTransport, runScenario, type Transport } from '../sim/runner/run-scenario.js';
import type { RunResult } from '../sim/runner/summarize.js';
import { containersCsv } from '../sim/runner/summary.js';
import { loadScenarioFile, ScenarioFileError, type Scenario, type ScenarioOptions } from '../sim/scenario/scenario.js';
import { ScenarioError } from '../sim/scenario/scenario-error.js';
import { parseCommandArgs } from './args.js';
import { InputError } from './errors.js';
import type { Command } from './main.js';
import { ProgressBar } from './progress.js';
import { formatSummaryTable } from './summary-table.js';
import { writeFileAtomic } from './write-atomic.js';

const USAGE =
  'usage: vmdispatch sim SCENARIO.yaml [--seed N] [--policy NAME] [--out DIR] [--set PATH=VALUE]... [--transport direct|ssh] [--quiet]';

export interface SimArgs {
  readonly file: string;
  readonly options: ScenarioOptions;
  readonly out: string | undefined;
  readonly transport: 'direct' | 'ssh';
  readonly quiet: boolean;
}

/** Parse the arguments shared by `sim`, `compare` and `whatif`. @throws InputError */
export function parseSimArgs(argv: readonly string[], usage = USAGE, extra: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {}): SimArgs & { extra: Record<string, unknown> } {
  const parsed = parseCommandArgs(
    {
      args: [...argv],
      options: {
        seed: { type: 'string' },
        policy: { type: 'string' },
        out: { type: 'string' },
        set: { type: 'string', multiple: true },
        transport: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
        ...extra,
      },
      strict: true,
      allowPositionals: true,
    },
    usage,
  );
  const v = parsed.values as Record<string, unknown>;
  if (v.help === true) throw new HelpRequested(usage);
  if (parsed.positionals.length !== 1) throw new InputError(`expected one scenario file, got ${parsed.positionals.length}\n${usage}`);
  let seed: number | undefined;
  if (typeof v.seed === 'string') {
    if (!/^\d+$/.test(v.seed)) throw new InputError(`--seed: expected a whole number, got ${JSON.stringify(v.seed)}`);
    seed = Number(v.seed);
  }
  const transport = (v.transport as string | undefined) ?? 'direct';
  if (transport !== 'direct' && transport !== 'ssh') throw new InputError(`--transport: expected direct or ssh, got ${JSON.stringify(transport)}`);
  const options: ScenarioOptions = {
    sets: (v.set as string[] | undefined) ?? [],
    ...(seed !== undefined ? { seed } : {}),
    ...(typeof v.policy === 'string' ? { policy: v.policy } : {}),
  };
  return { file: parsed.positionals[0]!, options, out: v.out as string | undefined, transport, quiet: v.quiet === true, extra: v };
}

export class HelpRequested extends Error {}

/** Load a scenario, turning its errors into InputError (exit 2). */
export function loadScenarioOrExit(file: string, options: ScenarioOptions): Scenario {
  try {
    return loadScenarioFile(file, options);
  } catch (e) {
    if (e instanceof ScenarioFileError) throw new InputError(e.message, { cause: e });
    throw e;
  }
}

/** The transport by name; `ssh` starts an SSH server per simulated VM. */
export async function transportByName(name: 'direct' | 'ssh'): Promise<Transport> {
  if (name === 'direct') return directTransport;
  const { sshTransport } = await import('../sim/runner/ssh-transport.js');
  return sshTransport();
}

/** Run one scenario; a trace that cannot be read is bad input (exit 2). */
export async function runOrExit(scenario: Scenario, file: string, transport: Transport, progress?: ProgressBar): Promise<RunResult> {
  try {
    return await runScenario(scenario, { transport, ...(progress?.enabled === true ? { onProgress: progress.update } : {}) });
  } catch (e) {
    if (e instanceof ScenarioError) throw new InputError(`${file}: ${e.message}`, { cause: e });
    throw e;
  } finally {
    progress?.clear();
  }
}

/** Write summary.json, containers.csv and report.html into `dir`. */
export function writeRunOutputs(dir: string, result: RunResult): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'summary.json'), stringifyJson(result.summary, 2) + '\n');
  writeFileAtomic(join(dir, 'containers.csv'), containersCsv(result.rows));
  writeFileAtomic(join(dir, 'report.html'), renderRunReport(result));
}

export const command: Command = {
  async run(argv) {
    let args;
    try {
      args = parseSimArgs(argv);
    } catch (e) {
      if (e instanceof HelpRequested) {
        console.log(USAGE);
        return 0;
      }
      throw e;
    }
    const scenario = loadScenarioOrExit(args.file, args.options);
    for (const w of scenario.configWarnings) console.error(`warning: ${args.file}: ${w}`);
    const transport = await transportByName(args.transport);
    const bar = args.quiet ? undefined : new ProgressBar(`sim ${scenario.name}`);
    const result = await runOrExit(scenario, args.file, transport, bar);
    console.log(formatSummaryTable(result.summary));
    if (args.out !== undefined) {
      writeRunOutputs(args.out, result);
      console.log(`\nwrote ${join(args.out, 'summary.json')}, containers.csv and report.html`);
    }
    const failed = result.summary.expectations.some((e) => !e.ok) || result.summary.invariantViolations.length > 0;
    return failed ? 1 : 0;
  },
};
