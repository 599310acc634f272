// SIGTERM and SIGINT as a daemon handles them: the first asks for a graceful stop; a second
// one means "now" and exits at once (VMs and containers are left as they are either way).

export type StopSignal = 'SIGTERM' | 'SIGINT';

/**
 * Calls `onStop` on the first SIGTERM or SIGINT; on a second one the process exits with
 * 128 + the signal number, as a shell reports a killed process. Returns a function that
 * removes the handlers.
 */
export function onStopSignal(onStop: (signal: StopSignal) => void): () => void {
  let received = false;
  const handle = (signal: StopSignal) => {
    if (received) {
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    received = true;
    onStop(signal);
  };
  const term = () => handle('SIGTERM');
  const int = () => handle('SIGINT');
  process.on('SIGTERM', term);
  process.on('SIGINT', int);
  return () => {
    process.off('SIGTERM', term);
    process.off('SIGINT', int);
  };
}

/**
 * Calls `onReload` on every SIGHUP (the reference reloads its TLS certificate then). Only
 * installed when there is something to reload: without a handler SIGHUP ends the process,
 * as it ends the reference's. Returns a function that removes the handler.
 */
export function onReloadSignal(onReload: () => void): () => void {
  const hup = () => onReload();
  process.on('SIGHUP', hup);
  return () => {
    process.off('SIGHUP', hup);
  };
}
