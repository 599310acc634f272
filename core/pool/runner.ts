import type { Container } from '../domain/container.js';
import { describeError } from '../ports/errors.js';
import type { Timer } from '../ports/clock.js';
import type { Worker } from './worker.js';

/**
 * One crunch-run process on one worker (Arvados runner.go): started with `--detach`, and
 * when asked to stop, sent SIGTERM (`--kill 15`) at once and then every TimeoutSignal until
 * it is gone or TimeoutTERM passes, at which point it is given up as unkillable and the
 * worker drains. SIGKILL is never used: it would orphan docker and arv-mount.
 */
export class RemoteRunner {
  closed = false;
  givenUp = false;
  private killing = false;
  private timer: Timer | null = null;

  constructor(
    private readonly worker: Worker,
    readonly uuid: string,
  ) {}

  /** Run `--detach` with the ConfigData on stdin; errors are logged (a probe settles the truth). */
  async start(ctr: Container): Promise<void> {
    const w = this.worker;
    const h = w.host;
    let cmd: string;
    try {
      cmd = w.commands.detach(this.uuid, h.crunchRunArgs);
    } catch (e) {
      w.logger.error('refusing to start container', { ContainerUUID: this.uuid.slice(0, 64), error: describeError(e) });
      return;
    }
    const stdin = h.configData(w, ctr);
    try {
      await w.exec(cmd, stdin);
      w.logger.info('crunch-run process started', { ContainerUUID: this.uuid });
    } catch (e) {
      w.logger.error('error starting crunch-run process', { ContainerUUID: this.uuid, error: describeError(e) });
    }
  }

  /** Begin the SIGTERM loop; later calls do nothing. */
  kill(reason: string): void {
    if (this.killing || this.closed) return;
    this.killing = true;
    const clock = this.worker.host.clock;
    const cfg = this.worker.host.config.Containers.CloudVMs;
    const deadline = clock.now() + cfg.TimeoutTERM;
    const period = Math.max(cfg.TimeoutSignal, 1);
    this.worker.logger.info('killing crunch-run process', { ContainerUUID: this.uuid, reason });
    let lastTick = clock.now();
    const attempt = async (): Promise<void> => {
      this.timer = null;
      if (this.closed || this.worker.host.stopped()) return;
      if (clock.now() > deadline) {
        this.givenUp = true;
        this.worker.onUnkillable(this.uuid);
        return;
      }
      await this.signal(15);
      if (this.closed || this.worker.host.stopped()) return;
      // A ticker drops ticks while an attempt runs but keeps one: go again at once if a
      // tick passed meanwhile, else at the next tick.
      const now = clock.now();
      const next = lastTick + period;
      if (now >= next) lastTick = now - ((now - lastTick) % period);
      else lastTick = next;
      this.timer = clock.setTimer(Math.max(lastTick - now, 0), () => void attempt());
    };
    void attempt();
  }

  private async signal(sig: number): Promise<void> {
    const w = this.worker;
    let cmd: string;
    try {
      cmd = w.commands.kill(this.uuid, sig);
    } catch (e) {
      w.logger.error('refusing to signal container', { error: describeError(e) });
      return;
    }
    try {
      await w.exec(cmd);
      w.onKilled(this.uuid);
    } catch (e) {
      w.logger.warn('kill attempt failed', { ContainerUUID: this.uuid, error: describeError(e) });
    }
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
  }
}
