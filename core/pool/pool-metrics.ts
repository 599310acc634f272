import type { Counter, Gauge, Metrics, Summary } from '../ports/metrics.js';
import type { BootOutcome, Worker } from './worker.js';

const CATEGORIES = ['inuse', 'hold', 'booting', 'unknown', 'idle'] as const;
type Category = (typeof CATEGORIES)[number];

/** The pool's metrics, named as the reference names them (arvados-interfaces §4.3). */
export class PoolMetrics {
  private readonly containersRunning: Gauge;
  private readonly instancesTotal: Gauge;
  private readonly instancesPrice: Gauge;
  private readonly vcpusTotal: Gauge;
  private readonly memoryTotal: Gauge;
  private readonly probeAgeMax: Gauge;
  private readonly probeAgeMedian: Gauge;
  private readonly bootOutcomes: Counter;
  private readonly disappeared: Counter;
  private readonly timeToSSH: Summary;
  private readonly timeToReady: Summary;
  private readonly shutdownToGone: Summary;
  private readonly queueToCrunchRun: Summary;
  private readonly runProbe: Summary;

  constructor(m: Metrics) {
    this.containersRunning = m.gauge('containers_running', 'Number of containers reported running by cloud VMs.');
    this.instancesTotal = m.gauge('instances_total', 'Number of cloud VMs.', ['category', 'instance_type']);
    this.instancesPrice = m.gauge('instances_price', 'Price of cloud VMs.', ['category']);
    this.vcpusTotal = m.gauge('vcpus_total', 'Total VCPUs on all cloud VMs.', ['category']);
    this.memoryTotal = m.gauge('memory_bytes_total', 'Total memory on all cloud VMs.', ['category']);
    this.probeAgeMax = m.gauge('probe_age_seconds_max', 'Maximum number of seconds since an instance\'s most recent successful probe.');
    this.probeAgeMedian = m.gauge('probe_age_seconds_median', 'Median number of seconds since an instance\'s most recent successful probe.');
    this.bootOutcomes = m.counter('boot_outcomes', 'Boot outcomes by type.', ['outcome']);
    for (const o of ['success', 'failure', 'aborted', 'disappeared']) this.bootOutcomes.inc({ outcome: o }, 0);
    this.disappeared = m.counter('instances_disappeared', 'Number of occurrences of an instance disappearing from the cloud provider\'s list of instances.', ['state']);
    for (const s of ['booting', 'idle', 'running', 'shutdown', 'unknown']) this.disappeared.inc({ state: s }, 0);
    this.timeToSSH = m.summary('instances_time_to_ssh_seconds', 'Number of seconds between instance creation and the first successful SSH connection.');
    this.timeToReady = m.summary('instances_time_to_ready_for_container_seconds', 'Number of seconds between the first successful SSH connection and ready to run a container.');
    this.shutdownToGone = m.summary('instances_time_from_shutdown_request_to_disappearance_seconds', 'Number of seconds between the first shutdown attempt and the disappearance of the worker.');
    this.queueToCrunchRun = m.summary('containers_time_from_queue_to_crunch_run_seconds', 'Number of seconds between the queuing of a container and the start of crunch-run.');
    this.runProbe = m.summary('instances_run_probe_duration_seconds', 'Number of seconds per runProbe call.', ['outcome']);
  }

  bootOutcome(o: BootOutcome): void {
    this.bootOutcomes.inc({ outcome: o });
  }
  instanceDisappeared(state: string): void {
    this.disappeared.inc({ state });
  }
  sshObserved(seconds: number): void {
    this.timeToSSH.observe({}, seconds);
  }
  readyObserved(seconds: number): void {
    this.timeToReady.observe({}, seconds);
  }
  goneObserved(seconds: number): void {
    this.shutdownToGone.observe({}, seconds);
  }
  startObserved(seconds: number): void {
    this.queueToCrunchRun.observe({}, seconds);
  }
  runProbeObserved(seconds: number, ok: boolean): void {
    this.runProbe.observe({ outcome: ok ? 'success' : 'fail' }, seconds);
  }

  /** Recompute the gauges from the workers (O(n log n); the pool calls it at most once a second). */
  update(workers: Iterable<Worker>, now: number): void {
    const count = new Map<string, number>();
    const price: Record<Category, number> = { inuse: 0, hold: 0, booting: 0, unknown: 0, idle: 0 };
    const vcpus = { ...price };
    const ram = { ...price };
    const ages: number[] = [];
    let containers = 0;
    for (const w of workers) {
      const n = w.running.size + w.starting.size;
      containers += n;
      const cat: Category = n > 0 ? 'inuse' : w.idleBehavior === 'hold' ? 'hold' : w.state === 'booting' ? 'booting' : w.state === 'unknown' ? 'unknown' : 'idle';
      const key = `${cat}\u0000${w.type.name}`;
      count.set(key, (count.get(key) ?? 0) + 1);
      price[cat] += w.type.price;
      vcpus[cat] += w.type.vcpus;
      ram[cat] += w.type.ram;
      if (w.state !== 'shutdown') ages.push((now - w.probed) / 1000);
    }
    this.containersRunning.set({}, containers);
    this.instancesTotal.reset();
    for (const [key, n] of count) {
      const [category, instanceType] = key.split('\u0000') as [string, string];
      this.instancesTotal.set({ category, instance_type: instanceType }, n);
    }
    for (const c of CATEGORIES) {
      this.instancesPrice.set({ category: c }, price[c]);
      this.vcpusTotal.set({ category: c }, vcpus[c]);
      this.memoryTotal.set({ category: c }, ram[c]);
    }
    ages.sort((a, b) => a - b);
    this.probeAgeMax.set({}, ages.length > 0 ? ages[ages.length - 1]! : 0);
    this.probeAgeMedian.set({}, ages.length > 0 ? ages[Math.floor(ages.length / 2)]! : 0);
  }
}
