import type { Container, ContainerState } from '../../core/domain/container.js';
import type { Clock } from '../../core/ports/clock.js';
import type { ControllerApi, ContainerPatch, ListParams } from '../../core/ports/controller.js';
import { ControllerError } from '../../core/ports/errors.js';
import { planQuery, type Indexes } from './plan-query.js';
import { snapshotOf, viewOf, type ContainerRequestSpec, type ContainerSnapshot, type Rec, type Req } from './records.js';
import { SortedIndex } from './sorted-index.js';
import {
  ACTOR_CONTROLLER,
  ACTOR_CRUNCH_RUN,
  ACTOR_USER,
  auditTransitions,
  isFinalState,
  isLegalTransition,
  type Actor,
  type RejectionRecord,
  type TransitionRecord,
  type TransitionViolation,
} from './transitions.js';
import { summarizeOutcomes, containerRows, type ContainerRow, type OutcomeCounts, type RequestOutcome } from './outcomes.js';

export interface StubControllerOptions {
  readonly clock: Clock;
  /** Five lowercase alphanumerics; the uuid prefix. Default 'zzzzz'. */
  readonly clusterId?: string;
  /** The auth uuid of the dispatcher's token (SystemRootToken). */
  readonly dispatcherAuthUuid?: string;
  /** Containers.MaxDispatchAttempts (default 10). */
  readonly maxDispatchAttempts?: number;
  /** Containers.MaxRetryAttempts: the default container_count_max (default 3). */
  readonly maxRetryAttempts?: number;
  /** See ContainerRequestSpec.priority. Default 'arvados'. */
  readonly priorityMode?: 'arvados' | 'as-given';
  /** API.MaxItemsPerResponse: the cap on `limit` (default 1000). */
  readonly maxItemsPerResponse?: number;
  /** Virtual time each API call takes; the change applies when the call arrives. Default 0. */
  readonly latencyMs?: number;
  /** Keep the transition log (default true). Audits need it. */
  readonly recordTransitions?: boolean;
}

/** A patch as crunch-run and the API can send it: the port's patch plus exit_code. */
export interface StubPatch extends ContainerPatch {
  readonly exitCode?: number | null;
}

export type TransitionListener = (t: TransitionRecord, container: ContainerSnapshot) => void;
type FaultOp = 'current' | 'list' | 'get' | 'lock' | 'unlock' | 'update' | 'any';
const DOING: Readonly<Record<Exclude<FaultOp, 'any'>, string>> = {
  current: 'getting current token',
  list: 'listing containers',
  get: 'getting container',
  lock: 'locking container',
  unlock: 'unlocking container',
  update: 'updating container',
};

/** 2^50: Rails' priority scale (services/api/db/structure.sql container_priority). */
const PRIORITY_SCALE = 1n << 50n;
export const MAX_DISPATCH_ATTEMPTS_MESSAGE = (lockCount: number): string =>
  `Failed to start container.  Cancelled after exceeding 'Containers.MaxDispatchAttempts' (lock_count=${lockCount})`;

/**
 * The simulator's Arvados controller: containers and container requests with the rules
 * Rails enforces (docs/controller.md lists them, and what is not modelled). It implements
 * ControllerApi as the dispatcher's token; `session(authUuid)` gives the same API as
 * another token, and the crunch-run and user methods act for the simulated world.
 *
 * Illegal requests are refused with the status the real controller gives (422, 403, 404,
 * 503) and recorded, never applied; every applied state change is logged with its time
 * and actor so that `audit()` can check the invariant "every transition legal".
 */
export class StubController implements ControllerApi {
  readonly clusterId: string;
  readonly dispatcherAuthUuid: string;
  readonly maxDispatchAttempts: number;
  readonly maxRetryAttempts: number;
  private readonly clock: Clock;
  private readonly priorityMode: 'arvados' | 'as-given';
  private readonly maxItems: number;
  private readonly latencyMs: number;
  private readonly keepLog: boolean;

  private readonly requests = new Map<string, Req>();
  private readonly idx: Indexes;
  private counter = 0;
  private readonly log: TransitionRecord[] = [];
  private readonly rejections: RejectionRecord[] = [];
  private rejectionCount = 0;
  private readonly listeners = new Set<TransitionListener>();
  private readonly unavailable: { from: number; to: number }[] = [];
  private readonly faults: { op: FaultOp; error: Error }[] = [];
  /** Containers a token may no longer read: authUuid -> uuids. */
  private readonly revoked = new Map<string, Set<string>>();
  private last503At = 0;
  private readonly dispatcher: StubSession;

  constructor(opts: StubControllerOptions) {
    this.clock = opts.clock;
    this.clusterId = opts.clusterId ?? 'zzzzz';
    if (!/^[a-z0-9]{5}$/.test(this.clusterId)) throw new Error(`creating stub controller: bad cluster id ${JSON.stringify(this.clusterId)}`);
    this.dispatcherAuthUuid = opts.dispatcherAuthUuid ?? `${this.clusterId}-gj3su-000000000000000`;
    this.maxDispatchAttempts = opts.maxDispatchAttempts ?? 10;
    this.maxRetryAttempts = opts.maxRetryAttempts ?? 3;
    this.priorityMode = opts.priorityMode ?? 'arvados';
    this.maxItems = opts.maxItemsPerResponse ?? 1000;
    this.latencyMs = opts.latencyMs ?? 0;
    this.keepLog = opts.recordTransitions ?? true;
    this.idx = {
      all: [],
      byUuid: new Map(),
      byState: new Map(),
      queued: new SortedIndex<Rec>((a, b) => (a.priority > b.priority ? -1 : a.priority < b.priority ? 1 : a.seq - b.seq)),
      lockedBy: new Map(),
    };
    this.dispatcher = new StubSession(this, this.dispatcherAuthUuid);
  }

  // ---- ControllerApi as the dispatcher's token ----

  currentAuthorizationUuid(): Promise<string> {
    return this.dispatcher.currentAuthorizationUuid();
  }
  listContainers(params: ListParams): Promise<readonly Container[]> {
    return this.dispatcher.listContainers(params);
  }
  getContainer(uuid: string, select?: readonly string[]): Promise<Container> {
    return this.dispatcher.getContainer(uuid, select);
  }
  lock(uuid: string): Promise<ContainerSnapshot> {
    return this.dispatcher.lock(uuid);
  }
  unlock(uuid: string): Promise<ContainerSnapshot> {
    return this.dispatcher.unlock(uuid);
  }
  update(uuid: string, patch: ContainerPatch): Promise<ContainerSnapshot> {
    return this.dispatcher.update(uuid, patch);
  }
  last503(): number {
    return this.last503At;
  }

  /** The API as another token (a second dispatcher, crunch-run over HTTP, a user). */
  session(authUuid: string): StubSession {
    return authUuid === this.dispatcherAuthUuid ? this.dispatcher : new StubSession(this, authUuid);
  }

  // ---- the simulated world ----

  /** Commits a container request: its first container is created Queued at once. */
  submitRequest(spec: ContainerRequestSpec): ContainerSnapshot {
    if (this.requests.has(spec.id)) throw new Error(`submitting request ${spec.id}: duplicate id`);
    if (spec.priority < 0n || (this.priorityMode === 'arvados' && spec.priority > 1000n) || spec.priority >= 1n << 63n) {
      throw new Error(`submitting request ${spec.id}: priority ${spec.priority} out of range (${this.priorityMode} mode)`);
    }
    const countMax = spec.containerCountMax ?? this.maxRetryAttempts;
    if (!Number.isInteger(countMax) || countMax < 1) throw new Error(`submitting request ${spec.id}: containerCountMax must be an integer >= 1`);
    const req: Req = { spec, createdAt: this.clock.now(), containerCountMax: countMax, priority: spec.priority, containers: [], finalized: false };
    this.requests.set(spec.id, req);
    return snapshotOf(this.createContainer(req, ACTOR_USER, 'submit'));
  }

  /** crunch-run's `PUT state=Running`: only a container Locked by the dispatcher's token. */
  crunchRunStarted(uuid: string): ContainerSnapshot {
    return this.world('crunch-run start', uuid, (r) => {
      if (r.state !== 'Locked') throw new ControllerError(`starting container ${uuid}: dispatch error detected: state is ${r.state}, not Locked`, 422);
      return this.applyUpdate(this.dispatcherAuthUuid, ACTOR_CRUNCH_RUN, 'crunch-run start', r, { state: 'Running' });
    });
  }

  /** crunch-run's final `PUT state=Complete` with the container's exit code. */
  crunchRunFinished(uuid: string, exitCode: number): ContainerSnapshot {
    return this.world('crunch-run exit', uuid, (r) =>
      this.applyUpdate(this.dispatcherAuthUuid, ACTOR_CRUNCH_RUN, 'crunch-run exit', r, { state: 'Complete', exitCode }),
    );
  }

  /** crunch-run's final `PUT state=Cancelled` (killed, max_run_time, spot interruption). */
  crunchRunCancelled(uuid: string, runtimeStatus?: Readonly<Record<string, unknown>>): ContainerSnapshot {
    return this.world('crunch-run cancel', uuid, (r) =>
      this.applyUpdate(this.dispatcherAuthUuid, ACTOR_CRUNCH_RUN, 'crunch-run cancel', r, { state: 'Cancelled', runtimeStatus }),
    );
  }

  /**
   * crunch-run failed before starting the container: it PUTs state=Queued (reference
   * §3.2). That is a requeue by the locking token; lock_count stays, and since the
   * MaxDispatchAttempts check lives in Rails' `unlock`, it does not apply here.
   */
  crunchRunFailedBeforeStart(uuid: string): ContainerSnapshot {
    return this.world('crunch-run requeue', uuid, (r) =>
      this.applyUpdate(this.dispatcherAuthUuid, ACTOR_CRUNCH_RUN, 'crunch-run requeue', r, { state: 'Queued' }),
    );
  }

  /**
   * The user cancels the request of this container (priority 0): no more containers are
   * made for it; a Queued container is cancelled at once; a Locked or Running one gets
   * priority 0, which the dispatcher must act on (unlock, kill).
   */
  cancelByUser(uuid: string): ContainerSnapshot {
    return this.world('cancel request', uuid, (r) => {
      const req = r.req;
      req.priority = 0n;
      req.finalized = true;
      const cur = req.containers[req.containers.length - 1]!;
      if (!isFinalState(cur.state)) {
        this.mutate(cur, (c) => (c.priority = 0n));
        if (cur.state === 'Queued') this.transition(cur, 'Cancelled', ACTOR_USER, 'cancel request', (c) => (c.finishedAt = this.clock.now()));
      }
      return snapshotOf(r);
    }, ACTOR_USER);
  }

  /** Changes the priority of this container's request (0 is cancelByUser). */
  setPriority(uuid: string, priority: bigint): ContainerSnapshot {
    if (priority === 0n) return this.cancelByUser(uuid);
    return this.world('set priority', uuid, (r) => {
      if (priority < 0n || (this.priorityMode === 'arvados' && priority > 1000n)) {
        throw new ControllerError(`setting priority of ${uuid}: ${priority} out of range`, 422);
      }
      const req = r.req;
      req.priority = priority;
      const cur = req.containers[req.containers.length - 1]!;
      if (!isFinalState(cur.state)) this.mutate(cur, (c) => (c.priority = this.containerPriority(req)));
      return snapshotOf(r);
    }, ACTOR_USER);
  }

  /** Every API call in [fromMs, toMs) is answered 503. */
  setUnavailable(fromMs: number, toMs: number): void {
    if (!(toMs > fromMs)) throw new Error(`setting controller outage: empty window [${fromMs}, ${toMs})`);
    this.unavailable.push({ from: fromMs, to: toMs });
  }

  isUnavailable(at = this.clock.now()): boolean {
    return this.unavailable.some((w) => at >= w.from && at < w.to);
  }

  /** The next API call of this kind (or any) rejects with `error` instead of running. */
  injectFault(op: FaultOp, error: Error): void {
    this.faults.push({ op, error });
  }

  onTransition(listener: TransitionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- inspection ----

  snapshot(uuid: string): ContainerSnapshot | undefined {
    const r = this.idx.byUuid.get(uuid);
    return r === undefined ? undefined : snapshotOf(r);
  }

  /** Containers of a request, oldest first. */
  containersOf(requestId: string): readonly ContainerSnapshot[] {
    return (this.requests.get(requestId)?.containers ?? []).map(snapshotOf);
  }

  /** Container requests submitted so far. */
  get requestCount(): number {
    return this.requests.size;
  }

  get containerCount(): number {
    return this.idx.all.length;
  }

  countInState(state: ContainerState): number {
    return this.idx.byState.get(state)?.size ?? 0;
  }

  transitions(): readonly TransitionRecord[] {
    return this.log;
  }

  /** Refused requests (the first 10,000) and how many there were in all. */
  rejected(): { readonly records: readonly RejectionRecord[]; readonly total: number } {
    return { records: this.rejections, total: this.rejectionCount };
  }

  /** Violations of "every controller state transition legal" (empty when all is well). */
  audit(): TransitionViolation[] {
    return auditTransitions(this.log);
  }

  /** summary.json `containers` counts. */
  outcomeCounts(): OutcomeCounts {
    return summarizeOutcomes(this.requests.values()).counts;
  }

  requestOutcomes(): readonly RequestOutcome[] {
    return summarizeOutcomes(this.requests.values()).requests;
  }

  /** One row per container (replacements included) for containers.csv; times in ms. */
  containerRows(): readonly ContainerRow[] {
    return containerRows(this.idx.all);
  }

  // ---- API operations (called by sessions) ----

  /** @internal */
  async call<T>(op: Exclude<FaultOp, 'any'>, actor: Actor, uuid: string, fn: () => T): Promise<T> {
    const faultAt = this.faults.findIndex((f) => f.op === op || f.op === 'any');
    let result: T;
    try {
      if (faultAt >= 0) {
        const [f] = this.faults.splice(faultAt, 1);
        throw f!.error;
      }
      if (this.isUnavailable()) {
        this.last503At = this.clock.now();
        throw new ControllerError(`${DOING[op]}${uuid === '' ? '' : ` ${uuid}`}: 503 Service Unavailable (controller outage)`, 503);
      }
      result = fn();
    } catch (e) {
      if (e instanceof ControllerError) this.reject(op, actor, uuid, e);
      if (this.latencyMs > 0) await this.clock.sleep(this.latencyMs);
      throw e;
    }
    if (this.latencyMs > 0) await this.clock.sleep(this.latencyMs);
    return result;
  }

  /** @internal `authUuid`: the caller, when it is a session (the world sees everything). */
  find(uuid: string, doing: string, authUuid?: string): Rec {
    const r = this.idx.byUuid.get(uuid);
    if (r === undefined || (authUuid !== undefined && this.revoked.get(authUuid)?.has(uuid) === true)) {
      throw new ControllerError(`${doing} ${uuid}: not found`, 404);
    }
    return r;
  }

  /** @internal */
  query(params: ListParams, authUuid?: string): Rec[] {
    const rows = planQuery(this.idx, params, this.maxItems);
    const hidden = authUuid === undefined ? undefined : this.revoked.get(authUuid);
    // Filtered after the limit: a page may come back short, which callers page past anyway.
    return hidden === undefined ? rows : rows.filter((r) => !hidden.has(r.uuid));
  }

  /**
   * The token `authUuid` can no longer read container `uuid` (as when a non-admin
   * dispatcher's token loses permission on its project): lists omit it, and get, lock, unlock
   * and update answer 404. Crunch-run and the other tokens go on as before. A fault with no
   * scenario kind: tests use it to make a container vanish from the dispatcher's view.
   */
  revokeAccess(authUuid: string, uuid: string): void {
    let set = this.revoked.get(authUuid);
    if (set === undefined) this.revoked.set(authUuid, (set = new Set()));
    set.add(uuid);
  }

  /** @internal */
  applyLock(token: string, r: Rec): ContainerSnapshot {
    if (r.state !== 'Queued') throw new ControllerError(`locking container ${r.uuid}: cannot lock when ${r.state}`, 422);
    if (r.priority <= 0n) throw new ControllerError(`locking container ${r.uuid}: cannot lock when priority<=0`, 422);
    this.transition(r, 'Locked', token, 'lock', (c) => {
      c.lockedByUuid = token;
      c.lockCount++;
    });
    return snapshotOf(r);
  }

  /** @internal */
  applyUnlock(token: string, r: Rec): ContainerSnapshot {
    if (r.state !== 'Locked') throw new ControllerError(`unlocking container ${r.uuid}: cannot unlock when ${r.state}`, 422);
    if (r.lockedByUuid !== token) throw new ControllerError(`unlocking container ${r.uuid}: locked by a different token`, 403);
    if (r.lockCount >= this.maxDispatchAttempts) {
      this.transition(r, 'Cancelled', token, 'unlock', (c) => {
        c.lockedByUuid = null;
        c.finishedAt = this.clock.now();
        c.runtimeStatus = { error: MAX_DISPATCH_ATTEMPTS_MESSAGE(c.lockCount) };
      });
    } else {
      this.transition(r, 'Queued', token, 'unlock', (c) => {
        c.lockedByUuid = null;
        c.runtimeStatus = {};
      });
      this.cancelIfAbandoned(r);
    }
    return snapshotOf(r);
  }

  /**
   * @internal Rails' update rules (container.rb validate_change, validate_lock): legal
   * transitions only; Locked only through `lock`; while Locked or Running, state changes
   * other than Cancelled and all progress attributes belong to the locking token;
   * runtime_status and exit_code only where Rails permits them.
   */
  applyUpdate(token: string, actor: Actor, op: string, r: Rec, patch: StubPatch): ContainerSnapshot {
    const doing = `updating container ${r.uuid}`;
    const from = r.state;
    const to = patch.state ?? from;
    const isLocker = r.lockedByUuid === token;
    if (to !== from) {
      if (to === 'Locked') throw new ControllerError(`${doing}: state Locked is set by the lock method`, 422);
      if (!isLegalTransition(from, to)) throw new ControllerError(`${doing}: cannot change state from ${from} to ${to}`, 422);
      if ((from === 'Locked' || from === 'Running') && to !== 'Cancelled' && !isLocker) {
        throw new ControllerError(`${doing}: locked by a different token`, 403);
      }
    }
    if (patch.runtimeStatus !== undefined) {
      if (to === 'Queued') throw new ControllerError(`${doing}: runtime_status cannot be changed in state Queued`, 422);
      if (isFinalState(from)) throw new ControllerError(`${doing}: runtime_status cannot be changed in state ${from}`, 422);
      if ((from === 'Locked' || from === 'Running') && !isLocker) {
        throw new ControllerError(`${doing}: runtime_status can only be changed by the locking token`, 422);
      }
    }
    if (patch.exitCode !== undefined) {
      const ok = isLocker && (to === 'Running' || (from === 'Running' && (to === 'Complete' || to === 'Cancelled')));
      if (!ok) throw new ControllerError(`${doing}: exit_code cannot be set when ${from === to ? from : `${from} → ${to}`}`, 422);
    }
    const now = this.clock.now();
    const apply = (c: Rec): void => {
      if (patch.runtimeStatus !== undefined) c.runtimeStatus = patch.runtimeStatus;
      if (patch.exitCode !== undefined) c.exitCode = patch.exitCode;
    };
    if (to === from) {
      if (patch.runtimeStatus !== undefined || patch.exitCode !== undefined) this.mutate(r, apply);
      return snapshotOf(r);
    }
    this.transition(r, to, actor, op, (c) => {
      apply(c);
      if (to === 'Running') c.startedAt = now;
      if (to === 'Queued') {
        c.runtimeStatus = {};
        c.lockedByUuid = null;
      }
      if (isFinalState(to)) {
        c.lockedByUuid = null;
        if (c.finishedAt === null) c.finishedAt = now;
      }
    });
    if (to === 'Queued') this.cancelIfAbandoned(r);
    return snapshotOf(r);
  }

  // ---- internals ----

  private world(doing: string, uuid: string, fn: (r: Rec) => ContainerSnapshot, actor: Actor = ACTOR_CRUNCH_RUN): ContainerSnapshot {
    try {
      return fn(this.find(uuid, doing));
    } catch (e) {
      if (e instanceof ControllerError) this.reject(doing, actor, uuid, e);
      throw e;
    }
  }

  private reject(op: string, actor: Actor, uuid: string, e: ControllerError): void {
    this.rejectionCount++;
    if (this.rejections.length < 10_000) {
      this.rejections.push({ at: this.clock.now(), uuid, op, actor, status: e.status, message: e.message });
    }
  }

  private containerPriority(req: Req): bigint {
    if (req.priority <= 0n) return 0n;
    if (this.priorityMode === 'as-given') return req.priority;
    return req.priority * PRIORITY_SCALE - BigInt(Math.trunc(req.createdAt));
  }

  private createContainer(req: Req, actor: Actor, op: string): Rec {
    const seq = this.counter++;
    const now = this.clock.now();
    const r: Rec = {
      uuid: `${this.clusterId}-dz642-${seq.toString(36).padStart(15, '0')}`,
      seq,
      req,
      createdAt: now,
      state: 'Queued',
      priority: this.containerPriority(req),
      lockedByUuid: null,
      lockCount: 0,
      exitCode: null,
      runtimeStatus: {},
      startedAt: null,
      finishedAt: null,
      modifiedAt: now,
      snapshot: undefined,
      view: undefined,
    };
    req.containers.push(r);
    this.idx.all.push(r);
    this.idx.byUuid.set(r.uuid, r);
    this.addToIndexes(r);
    this.record({ at: now, uuid: r.uuid, requestId: req.spec.id, from: null, to: 'Queued', actor, op }, r);
    return r;
  }

  private mutate(r: Rec, fn: (r: Rec) => void): void {
    this.removeFromIndexes(r);
    fn(r);
    r.modifiedAt = this.clock.now();
    r.snapshot = undefined;
    r.view = undefined;
    this.addToIndexes(r);
  }

  private transition(r: Rec, to: ContainerState, actor: Actor, op: string, fn: (r: Rec) => void): void {
    const from = r.state;
    // Callers check the rules and answer 422/403; reaching here with an illegal step is a bug.
    if (!isLegalTransition(from, to)) throw new Error(`stub controller bug: ${op} ${r.uuid} ${from} → ${to}`);
    this.mutate(r, (c) => {
      c.state = to;
      fn(c);
    });
    this.record({ at: this.clock.now(), uuid: r.uuid, requestId: r.req.spec.id, from, to, actor, op }, r);
    const req = r.req;
    const current = req.containers[req.containers.length - 1] === r;
    if (!current) return;
    if (to === 'Complete') req.finalized = true;
    if (to === 'Cancelled') {
      // container.rb handle_completed: retry while the request still wants it.
      if (!req.finalized && req.priority > 0n && req.containers.length < req.containerCountMax) {
        this.createContainer(req, ACTOR_CONTROLLER, 'retry');
      } else {
        req.finalized = true;
      }
    }
  }

  /** A container back in Queued with no request wanting it is cancelled (no retry). */
  private cancelIfAbandoned(r: Rec): void {
    if (r.state === 'Queued' && r.priority === 0n && r.req.finalized) {
      this.transition(r, 'Cancelled', ACTOR_CONTROLLER, 'request cancelled', (c) => (c.finishedAt = this.clock.now()));
    }
  }

  private record(t: TransitionRecord, r: Rec): void {
    if (this.keepLog) this.log.push(t);
    if (this.listeners.size > 0) {
      const snap = snapshotOf(r);
      for (const l of this.listeners) l(t, snap);
    }
  }

  private addToIndexes(r: Rec): void {
    let set = this.idx.byState.get(r.state);
    if (set === undefined) this.idx.byState.set(r.state, (set = new Set()));
    set.add(r);
    if (r.state === 'Queued' && r.priority > 0n) this.idx.queued.insert(r);
    if (r.lockedByUuid !== null) {
      let li = this.idx.lockedBy.get(r.lockedByUuid);
      if (li === undefined) this.idx.lockedBy.set(r.lockedByUuid, (li = new SortedIndex<Rec>((a, b) => a.seq - b.seq)));
      li.insert(r);
    }
  }

  private removeFromIndexes(r: Rec): void {
    this.idx.byState.get(r.state)?.delete(r);
    if (r.state === 'Queued' && r.priority > 0n) this.idx.queued.delete(r);
    if (r.lockedByUuid !== null) this.idx.lockedBy.get(r.lockedByUuid)?.delete(r);
  }
}

/**
 * The controller API as one token. The stub acts as the dispatcher's token through its
 * own session; the HTTP server makes one per request from the bearer token.
 */
export class StubSession implements ControllerApi {
  constructor(
    private readonly stub: StubController,
    readonly authUuid: string,
  ) {}

  currentAuthorizationUuid(): Promise<string> {
    return this.stub.call('current', this.authUuid, '', () => this.authUuid);
  }

  listContainers(params: ListParams): Promise<readonly Container[]> {
    const withMounts = params.select?.includes('mounts') ?? false;
    return this.stub.call('list', this.authUuid, '', () => this.stub.query(params, this.authUuid).map(withMounts ? snapshotOf : viewOf));
  }

  /** Like listContainers, with every field the stub keeps (for the HTTP server). */
  listSnapshots(params: ListParams): Promise<readonly ContainerSnapshot[]> {
    return this.stub.call('list', this.authUuid, '', () => this.stub.query(params, this.authUuid).map(snapshotOf));
  }

  getContainer(uuid: string, select?: readonly string[]): Promise<Container> {
    return this.stub.call('get', this.authUuid, uuid, () => {
      const r = this.stub.find(uuid, 'getting container', this.authUuid);
      return select?.includes('mounts') ? snapshotOf(r) : viewOf(r);
    });
  }

  getSnapshot(uuid: string): Promise<ContainerSnapshot> {
    return this.stub.call('get', this.authUuid, uuid, () => snapshotOf(this.stub.find(uuid, 'getting container', this.authUuid)));
  }

  lock(uuid: string): Promise<ContainerSnapshot> {
    return this.stub.call('lock', this.authUuid, uuid, () => this.stub.applyLock(this.authUuid, this.stub.find(uuid, 'locking container', this.authUuid)));
  }

  unlock(uuid: string): Promise<ContainerSnapshot> {
    return this.stub.call('unlock', this.authUuid, uuid, () => this.stub.applyUnlock(this.authUuid, this.stub.find(uuid, 'unlocking container', this.authUuid)));
  }

  update(uuid: string, patch: StubPatch): Promise<ContainerSnapshot> {
    return this.stub.call('update', this.authUuid, uuid, () =>
      this.stub.applyUpdate(this.authUuid, this.authUuid, 'update', this.stub.find(uuid, 'updating container', this.authUuid), patch),
    );
  }

  last503(): number {
    return this.stub.last503();
  }
}
