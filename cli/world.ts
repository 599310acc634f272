// `vmdispatch world SCENARIO.yaml [--config-out FILE] [--summary-out FILE]`: serves the
// scenario's simulated world on loopback in real time until SIGTERM or SIGINT (the demo and
// the end-to-end bed of `vmdispatch serve`).
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { describeError } from '../core/ports/errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../prod/logging/pino-logger.js';
import { onStopSignal } from '../prod/daemon/signals.js';
import { loadScenarioFile, ScenarioFileError, type Scenario } from '../sim/scenario/scenario.js';
import { World } from '../sim/world/world.js';
import { parseCommandArgs } from './args.js';
import { InputError } from './errors.js';
import type { Command } from './main.js';

const USAGE =
  'usage: vmdispatch world SCENARIO.yaml [--config-out FILE] [--summary-out FILE] [--seed N] [--set PATH=VALUE]... [--log-level debug|info|warn|error]';

/** How often --summary-out is rewritten while the world runs. */
const SUMMARY_EVERY_MS = 1000;


export const command: Command = {
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      {
        args: [...argv],
        options: {
          'config-out': { type: 'string' },
          'summary-out': { type: 'string' },
          seed: { type: 'string' },
          set: { type: 'string', multiple: true },
          'log-level': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
        strict: true,
        allowPositionals: true,
      },
      USAGE,
    );
    if (values.help === true) {
      console.log(USAGE);
      return 0;
    }
    const file = positionals[0];
    if (file === undefined || positionals.length > 1) throw new InputError(`expected one SCENARIO.yaml\n${USAGE}`);
    const level = values['log-level'] ?? 'warn';
    if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new InputError(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
    let seed: number | undefined;
    if (values.seed !== undefined) {
      seed = Number(values.seed);
      if (!Number.isSafeInteger(seed) || seed < 0) throw new InputError(`--seed: expected a non-negative integer, got ${JSON.stringify(values.seed)}`);
    }
    let scenario: Scenario;
    try {
      scenario = loadScenarioFile(file, { sets: values.set ?? [], ...(seed !== undefined ? { seed } : {}) });
    } catch (e) {
      if (e instanceof ScenarioFileError) throw new InputError(e.message, { cause: e });
      throw e;
    }
    const logger = createLogger({ level: level as LogLevel, base: { Component: 'world' } });

    const configOut = values['config-out'] !== undefined ? resolve(values['config-out']) : null;
    const summaryOut = values['summary-out'] !== undefined ? resolve(values['summary-out']) : null;
    // The key sits next to the config; without --config-out, in a private temporary folder.
    const tempDir = configOut === null ? await mkdtemp(join(tmpdir(), 'vmdispatch-world-')) : null;
    const keyFile = configOut !== null ? join(dirname(configOut), `${basename(configOut)}.dispatch-key`) : join(tempDir ?? '', 'dispatch-key');

    let stop!: (signal: string) => void;
    const stopped = new Promise<string>((r) => (stop = r));
    const removeHandlers = onStopSignal((signal) => stop(signal));
    let world: World | null = null;
    let ticker: NodeJS.Timeout | null = null;
    try {
      try {
        world = await World.start(scenario, { logger });
      } catch (e) {
        console.error(`vmdispatch world: ${describeError(e)}`);
        return 1;
      }
      await writeFile(keyFile, world.dispatchPrivateKey, { mode: 0o600 });
      const configText = world.clusterConfig(keyFile);
      if (configOut !== null) await writeAtomically(configOut, configText);
      else process.stdout.write(configText);
      const w = world;
      const writeSummary = async () => {
        if (summaryOut !== null) await writeAtomically(summaryOut, `${JSON.stringify(w.status(), null, 2)}\n`);
      };
      await writeSummary();
      if (summaryOut !== null) {
        let writing = false;
        ticker = setInterval(() => {
          if (writing) return;
          writing = true;
          writeSummary()
            .catch((e: unknown) => logger.warn('writing the summary', { error: describeError(e) }))
            .finally(() => (writing = false));
        }, SUMMARY_EVERY_MS);
      }
      process.stderr.write('ready\n');
      const signal = await stopped;
      logger.info('stopping the world', { signal });
      if (ticker !== null) clearInterval(ticker);
      ticker = null;
      await world.close();
      await writeSummary();
      return 0;
    } finally {
      if (ticker !== null) clearInterval(ticker);
      removeHandlers();
      await world?.close();
      if (tempDir !== null) await rm(tempDir, { recursive: true, force: true });
    }
  },
};

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, path);
}
