// `vmdispatch serve --config CONFIG.yml [--cluster ID] [--policy NAME]`: the production daemon.
// Runs until SIGTERM or SIGINT, then stops gracefully (VMs and containers are left for the
// next dispatcher). Exit 0 after a requested stop, 1 when it stopped on its own (lost lock)
// or could not start, 2 for bad input.
import type { ClusterConfig } from '../core/config/cluster-config.js';
import { describeError } from '../core/ports/errors.js';
import type { Logger } from '../core/ports/logger.js';
import { ConfigFileError, loadConfigFile } from '../prod/config/load-config-file.js';
import type { Daemon } from '../prod/daemon/daemon.js';
import { onReloadSignal, onStopSignal } from '../prod/daemon/signals.js';
import { createLogger, logFormatFromConfig, logLevelFromConfig, secretsFromConfig, type LogFormat } from '../prod/logging/pino-logger.js';
import { pickListenAddress } from '../prod/management/management-server.js';
import { parseCommandArgs } from './args.js';
import { InputError } from './errors.js';
import type { Command } from './main.js';
import { packageVersion } from './version.js';

const USAGE = 'usage: vmdispatch serve --config CONFIG.yml [--cluster ID] [--policy NAME]';

export const command: Command = {
  async run(argv) {
    const { values } = parseCommandArgs(
      {
        // Go-style single-dash flags (`-config FILE`), as arvados-dispatch-cloud is invoked.
        args: argv.map((a) => (/^-[a-z][a-z-]+(=.*)?$/.test(a) ? `-${a}` : a)),
        options: {
          config: { type: 'string' },
          cluster: { type: 'string' },
          policy: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
        strict: true,
        allowPositionals: false,
      },
      USAGE,
    );
    if (values.help === true) {
      console.log(USAGE);
      return 0;
    }
    const file = values.config ?? process.env['ARVADOS_CONFIG'] ?? '/etc/arvados/config.yml';
    let config: ClusterConfig;
    let warnings: readonly string[];
    try {
      const parsed = await loadConfigFile(file, values.cluster === undefined ? {} : { clusterId: values.cluster });
      config = parsed.config;
      warnings = parsed.warnings;
    } catch (e) {
      if (e instanceof ConfigFileError) throw new InputError(e.message, { cause: e });
      throw e;
    }
    let format: LogFormat;
    try {
      format = logFormatFromConfig(config.SystemLogs?.Format, `Clusters.${config.ClusterID}.SystemLogs.Format`);
    } catch (e) {
      throw new InputError(`${file}: ${describeError(e)}`, { cause: e });
    }
    const logger = createLogger({
      format,
      level: logLevelFromConfig(config.SystemLogs?.LogLevel),
      secrets: secretsFromConfig(config),
      base: { ClusterID: config.ClusterID },
    });
    for (const w of warnings) logger.warn('config warning', { File: file, Warning: w });
    // Node's own warnings (the AWS SDK's Node version notice) become log lines: every line on
    // stderr stays a log record. Installed before the daemon's modules load, which emit them.
    process.removeAllListeners('warning');
    process.on('warning', (w) => logger.warn('node warning', { Name: w.name, Warning: w.message }));
    warnAboutApiEnv(config, logger);
    const { Daemon, DaemonConfigError } = await import('../prod/daemon/daemon.js');

    // A signal during start-up (waiting for the dispatch lock) aborts it.
    const startup = new AbortController();
    let daemon: Daemon | null = null;
    let stopRequested = false;
    const removeHandlers = onStopSignal((signal) => {
      stopRequested = true;
      logger.info('signal received', { Signal: signal });
      if (daemon === null) startup.abort(new Error(`${signal} during start-up`));
      else void daemon.stop(signal);
    });
    // SIGHUP reloads the TLS certificate (as the reference's); with plain http it keeps its
    // default effect. Installed before start-up, so that a renewal hook's SIGHUP while
    // waiting for the dispatch lock does not end the process.
    const removeReload = servesTls(config)
      ? onReloadSignal(() => {
          if (daemon === null) logger.info('signal received during start-up: the certificate read at start-up is used', { Signal: 'SIGHUP' });
          else void daemon.reloadTls();
        })
      : () => {};
    try {
      try {
        daemon = await Daemon.start({ config, logger, signal: startup.signal, version: packageVersion(), ...(values.policy !== undefined ? { policy: values.policy } : {}) });
      } catch (e) {
        if (e instanceof DaemonConfigError) throw new InputError(`${file}: ${e.message}`, { cause: e });
        if (stopRequested) return 0;
        logger.error('could not start', { err: describeError(e) });
        return 1;
      }
      const reason = await daemon.done;
      return stopRequested ? 0 : (logger.error('dispatcher stopped on its own', { Reason: reason }), 1);
    } finally {
      removeHandlers();
      removeReload();
    }
  },
};

/** Whether the daemon will listen on an https InternalURL (errors are left to its start-up). */
function servesTls(config: ClusterConfig): boolean {
  try {
    return pickListenAddress(config.Services.DispatchCloud.InternalURLs, process.env).tls;
  } catch {
    return false;
  }
}

/**
 * As the reference: the ARVADOS_API_* environment is never used (the config's token and
 * controller are); a value that differs from the config gets a warning, without the value.
 */
function warnAboutApiEnv(config: ClusterConfig, logger: Logger): void {
  const token = process.env['ARVADOS_API_TOKEN'];
  if (token !== undefined && token !== '' && token !== config.SystemRootToken) {
    logger.warn('ignoring ARVADOS_API_TOKEN from the environment: it differs from SystemRootToken, which is used');
  }
  const host = process.env['ARVADOS_API_HOST'];
  if (host !== undefined && host !== '') {
    let configured = '';
    try {
      configured = new URL(config.Services.Controller.ExternalURL).host;
    } catch {
      // reported by the daemon's start-up
    }
    if (host !== configured) logger.warn('ignoring ARVADOS_API_HOST from the environment: Services.Controller.ExternalURL is used', { Env: host, Config: configured });
  }
}
