import type { ClusterConfig } from '../../core/config/cluster-config.js';
import type { Container } from '../../core/domain/container.js';
import type { InstanceType } from '../../core/domain/instance-type.js';
import { chooseInstanceType, resourcesNeeded } from '../../core/domain/node-size.js';
import type { ScheduledEntry } from '../../core/scheduler/scheduler.js';
import type { SimulatedCloud } from '../cloud/simulated-cloud.js';
import type { StubController } from '../controller/stub-controller.js';
import type { Scenario } from '../scenario/scenario.js';
import { evaluate } from '../scenario/expectations.js';
import type { SimWorld } from './sim-world.js';
import { percentile, type ContainerRow, type InvariantViolation, type Series, type Summary } from './summary.js';

/** A container still not final this long after its crunch-run ended (or its VM went) is lost. */
const LOST_AFTER_MS = 30 * 60_000;
const HOUR = 3_600_000;

export interface RunResult {
  readonly summary: Summary;
  readonly rows: readonly ContainerRow[];
  readonly series: Series;
  /** Wait of every container that started, seconds. */
  readonly waits: readonly number[];
}

export interface SummarizeInput {
  readonly scenario: Scenario;
  readonly transport: 'direct' | 'ssh';
  readonly startMs: number;
  readonly endMs: number;
  readonly endReason: 'done' | 'horizon';
  readonly workloadDoneAtMs: number | null;
  readonly events: number;
  readonly wallSeconds: number;
  readonly config: ClusterConfig;
  readonly controller: StubController;
  readonly cloud: SimulatedCloud;
  readonly world: SimWorld;
  readonly queue: readonly ScheduledEntry[];
  readonly series: Series;
  readonly skipped: number;
}

/** summary.json, containers.csv rows and the report's data from the state at the end of a run. */
export function summarize(i: SummarizeInput): RunResult {
  const { controller, cloud, world, config, startMs, endMs } = i;
  const sec = (ms: number) => (ms - startMs) / 1000;
  const violations: InvariantViolation[] = [...world.violations];
  const counts = controller.outcomeCounts();
  const totals = cloud.ledger.totals(endMs);
  const inQueue = new Set(i.queue.map((e) => e.entry.container.uuid));
  const sharer = new ShareCalculator(config, cloud);

  const rows: ContainerRow[] = [];
  const waits: number[] = [];
  let lost = 0;
  let lowerBound = 0;
  for (const r of controller.containerRows()) {
    const snap = controller.snapshot(r.uuid);
    const firstRun = world.runs.get(r.uuid)?.[0];
    const run = world.lastRun(r.uuid);
    const rec = run !== undefined ? cloud.ledger.record(run.instanceId) : undefined;
    const wait = firstRun !== undefined ? (firstRun.startedAt - r.submitted) / 1000 : null;
    if (wait !== null) waits.push(wait);
    let cost: number | null = null;
    if (run !== undefined && rec !== undefined && snap !== undefined) {
      const end = run.endedAt ?? rec.goneAt ?? endMs;
      cost = ((end - run.startedAt) / HOUR) * rec.price * sharer.share(snap, rec.typeName);
    }
    if (r.state === 'Complete' && r.started !== null && r.finished !== null && snap !== undefined) {
      lowerBound += ((r.finished - r.started) / HOUR) * sharer.cheapest(snap);
    }
    // Queued containers are the controller's (the dispatcher fetches only the head of a deep
    // queue, as the reference does); Locked and Running ones are the dispatcher's, and are
    // lost when it does not hold them, or no crunch-run has run them, for LOST_AFTER_MS.
    if (r.state === 'Locked' || r.state === 'Running') {
      const processGone = run === undefined || run.endedAt !== null || rec?.goneAt != null;
      const since = run?.endedAt ?? rec?.goneAt ?? r.submitted;
      const unheld = !inQueue.has(r.uuid) || (r.state === 'Running' && processGone);
      if (unheld && endMs - since > LOST_AFTER_MS) {
        lost++;
        violations.push({ invariant: 'no-container-lost', at: sec(endMs), detail: `${r.uuid} is ${r.state} and no dispatcher or crunch-run accounts for it` });
      }
    }
    rows.push({
      uuid: r.uuid,
      request: r.request,
      priority: r.priority,
      submitted: sec(r.submitted),
      started: firstRun !== undefined ? sec(firstRun.startedAt) : null,
      finished: r.finished !== null ? sec(r.finished) : null,
      state: r.state,
      exitCode: r.exitCode,
      instanceType: rec?.typeName ?? null,
      instanceId: run?.instanceId ?? null,
      wait,
      cost,
    });
  }

  for (const v of controller.audit()) violations.push({ invariant: 'legal-transitions', at: sec(v.at), detail: `${v.uuid}: ${v.detail}` });
  for (const t of cloud.foreignTouches()) violations.push({ invariant: 'no-foreign-vm-touched', at: sec(t.at), detail: `${t.op} on foreign instance ${t.instanceId}` });
  const leakedAtEnd = i.endReason === 'done' ? totals.live : 0;
  if (leakedAtEnd > 0) {
    violations.push({ invariant: 'no-vm-leaked', at: sec(endMs), detail: `${leakedAtEnd} instance(s) still exist after the workload was done and every timeout passed` });
  }

  const base = {
    scenario: i.scenario.name,
    policy: i.scenario.policy,
    seed: i.scenario.seed,
    transport: i.transport,
    simulatedSeconds: sec(endMs),
    wallSeconds: round(i.wallSeconds, 3),
    events: i.events,
    endReason: i.endReason,
    containers: {
      total: counts.total,
      complete: counts.complete,
      cancelled: counts.cancelled,
      failed: counts.failed,
      unfinished: counts.unfinished,
      lost,
      doubleStarts: world.doubleStarts,
      maxLockCount: counts.maxLockCount,
      retried: counts.retried,
      skipped: i.skipped,
    },
    wait: {
      mean: round(waits.length === 0 ? 0 : waits.reduce((a, b) => a + b, 0) / waits.length, 3),
      p50: round(percentile(waits, 50), 3),
      p95: round(percentile(waits, 95), 3),
      max: round(percentile(waits, 100), 3),
    },
    cost: {
      total: round(totals.cost.total, 6),
      lowerBound: round(lowerBound, 6),
      idle: round(totals.cost.idle, 6),
      booting: round(totals.cost.booting, 6),
      byInstanceType: Object.fromEntries(Object.entries(totals.cost.byInstanceType).sort().map(([k, v]) => [k, round(v, 6)])),
    },
    instances: {
      created: totals.created,
      destroyed: totals.destroyed,
      peak: totals.peak,
      leakedAtEnd,
      bootFailures: bootFailures(cloud, config, endMs),
      interrupted: totals.interrupted,
      hoursByType: hoursByType(cloud, endMs),
    },
    invariantViolations: violations,
  };
  const expectations = i.scenario.expect.map((e) => evaluate(e, base));
  const summary: Summary = { ...base, expectations, invariantViolations: violations };
  return { summary, rows, series: i.series, waits };
}

/**
 * A container's share of an instance: the largest fraction of the type's VCPUs, RAM,
 * scratch or GPUs it needs (1 when MaxRunningContainersPerInstance is 1), so that the
 * containers sharing an instance can at best split its price.
 */
class ShareCalculator {
  private readonly cheapestCache = new Map<string, number>();
  private readonly unbounded: ClusterConfig;

  constructor(
    private readonly config: ClusterConfig,
    private readonly cloud: SimulatedCloud,
  ) {
    this.unbounded = { ...config, Containers: { ...config.Containers, MaximumPriceFactor: Infinity } };
  }

  share(c: Container, typeName: string): number {
    const t = this.config.InstanceTypes[typeName];
    return t === undefined ? 1 : this.shareOf(c, t);
  }

  /** Cheapest billed price per hour of the container's share of any type that fits it. */
  cheapest(c: Container): number {
    const rc = c.runtimeConstraints;
    const key = `${rc.vcpus}/${rc.ram}/${rc.keepCacheRam}/${rc.gpu.stack}/${rc.gpu.deviceCount}/${rc.gpu.vram}/${rc.gpu.hardwareTarget.join(',')}/${c.schedulingParameters.preemptible}`;
    let best = this.cheapestCache.get(key);
    if (best === undefined) {
      best = Infinity;
      try {
        for (const t of chooseInstanceType(this.unbounded, c)) best = Math.min(best, this.cloud.billedPrice(t) * this.shareOf(c, t));
      } catch {
        best = 0;
      }
      this.cheapestCache.set(key, best);
    }
    return best;
  }

  private shareOf(c: Container, t: InstanceType): number {
    if (this.config.Containers.CloudVMs.MaxRunningContainersPerInstance === 1) return 1;
    const need = resourcesNeeded(this.config, c);
    const parts = [need.vcpus / t.vcpus, need.ram / t.ram];
    if (t.scratch > 0) parts.push(need.scratch / t.scratch);
    if (t.gpu.deviceCount > 0) parts.push(need.gpus / t.gpu.deviceCount);
    return Math.min(1, Math.max(...parts.map((p) => (Number.isFinite(p) ? p : 1))));
  }
}

/**
 * Instances that failed to boot: broken ones, and ones that never became ready within
 * TimeoutBooting (instances the scheduler gave up while they booted are not failures).
 */
function bootFailures(cloud: SimulatedCloud, config: ClusterConfig, endMs: number): number {
  const limit = config.Containers.CloudVMs.TimeoutBooting;
  let n = 0;
  for (const r of cloud.ledger.records()) {
    if (r.readyAt !== null) continue;
    if (r.broken || (r.goneAt ?? endMs) - r.createdAt >= limit) n++;
  }
  return n;
}

/** Instance-hours billed per instance type (create to gone), for comparisons across policies. */
function hoursByType(cloud: SimulatedCloud, endMs: number): Record<string, number> {
  const hours: Record<string, number> = {};
  for (const c of cloud.ledger.costs(endMs)) hours[c.typeName] = (hours[c.typeName] ?? 0) + c.billedMs / HOUR;
  return Object.fromEntries(Object.entries(hours).sort().map(([k, v]) => [k, round(v, 6)]));
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
