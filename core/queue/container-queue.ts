import type { ClusterConfig } from '../config/cluster-config.js';
import { isSupervisor, type Container, type ContainerState } from '../domain/container.js';
import type { Clock, Timer } from '../ports/clock.js';
import type { ControllerApi, Filter } from '../ports/controller.js';
import { describeError } from '../ports/errors.js';
import { RecordError } from '../domain/record-error.js';
import type { Logger } from '../ports/logger.js';
import { nullMetrics, type Gauge, type Metrics } from '../ports/metrics.js';
import type { QueueEntry, QueueSnapshot } from './queue-snapshot.js';
import { SizingCache } from './sizing-cache.js';

/** The fields every poll asks for (mounts only on first sight, for sizing). */
export const POLL_SELECT = [
  'uuid',
  'state',
  'priority',
  'runtime_constraints',
  'container_image',
  'scheduling_parameters',
  'created_at',
] as const;

const PAGE_SIZE = 1000;
/** Poll B stops once this many non-supervisor Queued containers have been fetched. */
export const QUEUED_CONTAINERS_TARGET = 100;
const MISSING_BATCH = 20;
/** First-sight GETs in flight at once (the reference does them one by one). */
const FETCH_CONCURRENCY = 8;

export { UNSATISFIABLE_MESSAGE } from '../domain/node-size.js';

const FINAL: ReadonlySet<ContainerState> = new Set(['Complete', 'Cancelled']);

export interface ContainerQueueOptions {
  readonly controller: ControllerApi;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly cluster: ClusterConfig;
  /** Shared with the scheduler when given; one is made otherwise. */
  readonly sizing?: SizingCache;
}

/**
 * The dispatcher's cache of the controller's container queue (reference container/queue.go).
 *
 * Holds the containers locked by this dispatcher plus the highest-priority runnable ones,
 * each sized once on first sight. Lock, unlock and cancel go through it so that their
 * results win over any poll that started before them.
 */
export class ContainerQueue {
  private readonly controller: ControllerApi;
  private readonly clock: Clock;
  private readonly logger: Logger;
  readonly sizing: SizingCache;
  private readonly gauge: Gauge;
  private entries = new Map<string, QueueEntry>();
  private updated = 0;
  /** The last snapshot while entries are unchanged since: passes take two per poll. */
  private snap: QueueSnapshot | null = null;
  /** False with nullMetrics: the per-poll gauge counts are skipped. */
  private readonly metricsOn: boolean;
  /** Non-null while an update is in flight: uuids its (older) data must not touch. */
  private dontUpdate: Set<string> | null = null;
  private authUuid: string | null = null;
  private readonly subscribers = new Set<() => void>();
  private readonly background = new Set<Promise<void>>();
  private pollTimer: Timer | null = null;
  private polling = false;

  constructor(private readonly opts: ContainerQueueOptions) {
    this.controller = opts.controller;
    this.clock = opts.clock;
    this.logger = opts.logger.child({ component: 'queue' });
    this.sizing = opts.sizing ?? new SizingCache(opts.cluster);
    this.gauge = opts.metrics.gauge('queue_entries', 'Entries in the container queue', ['state', 'instance_type']);
    this.metricsOn = opts.metrics !== nullMetrics;
  }

  /** A copy of the entries and the start time of the last completed update. No API calls. */
  snapshot(): QueueSnapshot {
    // Entries are replaced, never changed in place, and a snapshot's map is read-only: the
    // copy can be shared until the next change.
    return (this.snap ??= { entries: new Map(this.entries), updatedAt: this.updated });
  }

  get(uuid: string): QueueEntry | undefined {
    return this.entries.get(uuid);
  }

  /** Calls `fn` synchronously after each successful update and each lock/unlock/cancel of a known entry. */
  subscribe(fn: () => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /**
   * Poll the controller once and apply the result. Rejects with the controller's error
   * (ControllerError, TransientError) when a poll request fails; the cache is then unchanged.
   */
  async update(): Promise<void> {
    const started = this.clock.now();
    this.dontUpdate = new Set();
    try {
      const got = await this.poll();
      const fresh: Container[] = [];
      for (const [uuid, ctr] of got) {
        if (!this.entries.has(uuid) && !FINAL.has(ctr.state)) fresh.push(ctr);
      }
      const added = await this.addNew(fresh, started);
      const skip = this.dontUpdate;
      for (const [uuid, ctr] of got) {
        if (skip.has(uuid)) continue;
        const old = this.entries.get(uuid);
        // Spelled out rather than `{ ...old, container: ctr }`: the same object (entries have
        // exactly these fields, in this order), without a generic clone for every entry of
        // every poll, which was the most expensive line of a long simulated replay.
        if (old !== undefined) {
          this.entries.set(uuid, { container: ctr, resources: old.resources, instanceTypes: old.instanceTypes, firstSeenAt: old.firstSeenAt });
        }
        else {
          const ent = added.get(uuid);
          if (ent !== undefined) this.entries.set(uuid, ent);
        }
      }
      for (const uuid of [...this.entries.keys()]) {
        if (!got.has(uuid) && !skip.has(uuid)) this.entries.delete(uuid);
      }
      this.updated = started;
    } finally {
      this.dontUpdate = null;
      this.snap = null;
    }
    this.updateMetrics();
    this.notify();
  }

  /** POST lock. Rejects with the controller's error (422 not Queued / priority 0, 503, ...). */
  async lock(uuid: string): Promise<void> {
    this.apply(await this.controller.lock(uuid));
  }

  /** POST unlock. Rejects with the controller's error (422 not Locked, 403 not ours, ...). */
  async unlock(uuid: string): Promise<void> {
    this.apply(await this.controller.unlock(uuid));
  }

  /** Set state Cancelled. Rejects with the controller's error. */
  async cancel(uuid: string): Promise<void> {
    this.apply(await this.controller.update(uuid, { state: 'Cancelled' }));
  }

  /** Drop an entry, only when it is Complete, Cancelled, or Queued with priority 0. */
  forget(uuid: string): void {
    const ent = this.entries.get(uuid);
    if (ent === undefined) return;
    const c = ent.container;
    if (FINAL.has(c.state) || (c.state === 'Queued' && c.priority === 0n)) {
      this.entries.delete(uuid);
      this.snap = null;
    }
  }

  /** Poll every PollInterval, or the last poll's duration when that was longer. */
  startPolling(): void {
    if (this.polling) return;
    this.polling = true;
    this.schedulePoll(this.opts.cluster.Containers.CloudVMs.PollInterval);
  }

  stop(): void {
    this.polling = false;
    this.pollTimer?.cancel();
    this.pollTimer = null;
  }

  /** Resolves when background work (unsatisfiable-container cancels) has finished. */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  private schedulePoll(delay: number): void {
    this.pollTimer = this.clock.setTimer(delay, () => {
      this.pollTimer = null;
      if (!this.polling) return;
      const t0 = this.clock.now();
      this.update().then(
        () => this.pollDone(t0),
        (e: unknown) => {
          this.logger.warn('error updating queue', { error: describeError(e) });
          this.pollDone(t0);
        },
      );
    });
  }

  private pollDone(t0: number): void {
    if (!this.polling) return;
    const took = this.clock.now() - t0;
    this.schedulePoll(Math.max(this.opts.cluster.Containers.CloudVMs.PollInterval, took));
  }

  private apply(resp: Container): void {
    this.dontUpdate?.add(resp.uuid);
    const old = this.entries.get(resp.uuid);
    if (old === undefined) return;
    this.snap = null;
    this.entries.set(resp.uuid, {
      ...old,
      container: { ...old.container, state: resp.state, priority: resp.priority, lockedByUuid: resp.lockedByUuid },
    });
    this.notify();
  }

  private notify(): void {
    for (const fn of [...this.subscribers]) fn();
  }

  private async poll(): Promise<Map<string, Container>> {
    this.authUuid ??= await this.controller.currentAuthorizationUuid();
    const got = new Map<string, Container>();
    const select = POLL_SELECT;

    // A: everything locked by us, keyset pages until an empty one.
    let last = '';
    for (;;) {
      const filters: Filter[] = [['locked_by_uuid', '=', this.authUuid]];
      if (last !== '') filters.push(['uuid', '>', last]);
      const page = await this.controller.listContainers({ filters, order: ['uuid'], limit: PAGE_SIZE, select });
      if (page.length === 0) break;
      for (const c of page) got.set(c.uuid, c);
      last = page[page.length - 1]!.uuid;
    }

    // B: runnable, highest priority first, until enough non-supervisor containers.
    let offset = 0;
    let nonSupervisors = 0;
    for (;;) {
      const page = await this.controller.listContainers({
        filters: [
          ['state', '=', 'Queued'],
          ['priority', '>', 0],
        ],
        order: ['priority desc'],
        limit: PAGE_SIZE,
        offset,
        select,
      });
      if (page.length === 0) break;
      for (const c of page) {
        got.set(c.uuid, c);
        if (!isSupervisor(c)) nonSupervisors++;
      }
      offset += page.length;
      if (nonSupervisors >= QUEUED_CONTAINERS_TARGET) break;
    }

    // Known containers neither query returned, in batches by uuid.
    const missing = new Set<string>();
    for (const [uuid, ent] of this.entries) {
      if (!got.has(uuid) && !FINAL.has(ent.container.state)) missing.add(uuid);
    }
    while (missing.size > 0) {
      const batch = [...missing].slice(0, MISSING_BATCH);
      let found = 0;
      let after = '';
      for (;;) {
        const filters: Filter[] = [['uuid', 'in', batch]];
        if (after !== '') filters.push(['uuid', '>', after]);
        const page = await this.controller.listContainers({ filters, order: ['uuid'], select });
        if (page.length === 0) break;
        for (const c of page) {
          if (!missing.has(c.uuid)) {
            throw new Error(`polling missing containers: BUG? server response did not match requested uuids (${c.uuid})`);
          }
          got.set(c.uuid, c);
          missing.delete(c.uuid);
          found++;
        }
        after = page[page.length - 1]!.uuid;
      }
      if (found === 0) {
        for (const uuid of batch) {
          this.logger.info('container not found by controller (deleted?)', { containerUuid: uuid });
          this.entries.delete(uuid);
          this.snap = null;
          missing.delete(uuid);
        }
      }
    }
    return got;
  }

  /** Size first-seen containers (GET with mounts). Unsizable Queued/Locked ones are cancelled. */
  private async addNew(fresh: readonly Container[], now: number): Promise<Map<string, QueueEntry>> {
    const added = new Map<string, QueueEntry>();
    for (let i = 0; i < fresh.length; i += FETCH_CONCURRENCY) {
      const chunk = fresh.slice(i, i + FETCH_CONCURRENCY);
      const results = await Promise.all(
        chunk.map((c) =>
          this.controller.getContainer(c.uuid, [...POLL_SELECT, 'mounts']).then(
            (full) => ({ c, mounts: full.mounts ?? {} }),
            (e: unknown) => {
              this.logger.warn('error getting mounts', { containerUuid: c.uuid, error: describeError(e) });
              // A record that does not decode will not decode next time either (the
              // reference's "json: cannot unmarshal" case): cancel it as unsatisfiable.
              if (isRecordDecodeError(e) && (c.state === 'Queued' || c.state === 'Locked')) {
                this.track(this.cancelUnsatisfiable(c, `error getting mounts from container record: ${describeError(e)}`));
              }
              return null;
            },
          ),
        ),
      );
      for (const r of results) {
        if (r === null) continue;
        const withMounts: Container = { ...r.c, mounts: r.mounts };
        const { mounts: _dropped, ...ctr } = r.c;
        try {
          const s = this.sizing.size(withMounts);
          added.set(ctr.uuid, { container: ctr, resources: s.resources, instanceTypes: s.instanceTypes, firstSeenAt: now });
        } catch (e) {
          if (ctr.state === 'Queued' || ctr.state === 'Locked') {
            this.track(this.cancelUnsatisfiable(ctr, describeError(e)));
          } else {
            const resources = this.sizing.resources(withMounts);
            added.set(ctr.uuid, { container: ctr, resources, instanceTypes: [], firstSeenAt: now });
          }
        }
      }
    }
    return added;
  }

  private track(p: Promise<void>): void {
    const q = p.catch((e: unknown) => this.logger.error('background queue operation failed', { error: describeError(e) }));
    this.background.add(q);
    void q.finally(() => this.background.delete(q));
  }

  /** Lock if Queued, record the reason in runtime_status, cancel. Next poll retries on failure. */
  private async cancelUnsatisfiable(ctr: Container, msg: string): Promise<void> {
    const log = this.logger.child({ containerUuid: ctr.uuid });
    log.warn('cancelling unsatisfiable container', { reason: msg });
    if (ctr.state === 'Queued') {
      try {
        await this.controller.lock(ctr.uuid);
      } catch (e) {
        log.warn('locking unsatisfiable container failed', { error: describeError(e) });
        return;
      }
    }
    try {
      await this.controller.update(ctr.uuid, { runtimeStatus: { error: msg } });
      await this.controller.update(ctr.uuid, { state: 'Cancelled' });
    } catch (e) {
      try {
        const now = await this.controller.getContainer(ctr.uuid, ['uuid', 'state']);
        if (now.state === 'Cancelled') return;
      } catch {
        // fall through to the warning with the original error
      }
      log.warn('cancelling unsatisfiable container failed', { error: describeError(e) });
    }
  }

  private updateMetrics(): void {
    if (!this.metricsOn) return;
    const counts = new Map<string, { state: string; type: string; n: number }>();
    for (const ent of this.entries.values()) {
      const type = ent.instanceTypes[0]?.name ?? '';
      const key = `${ent.container.state}\0${type}`;
      const c = counts.get(key);
      if (c === undefined) counts.set(key, { state: ent.container.state, type, n: 1 });
      else c.n++;
    }
    this.gauge.reset();
    for (const c of counts.values()) this.gauge.set({ state: c.state, instance_type: c.type }, c.n);
  }
}

/** Whether `e` (or an error in its cause chain) is a container record that failed to decode. */
function isRecordDecodeError(e: unknown): boolean {
  for (let cur: unknown = e, depth = 0; cur instanceof Error && depth < 5; cur = cur.cause, depth++) {
    if (cur instanceof RecordError) return true;
  }
  return false;
}
