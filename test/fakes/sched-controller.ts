// An in-memory ControllerApi for scheduler and queue tests, with the Rails state rules the
// dispatcher relies on (lock/unlock/cancel, lock_count and MaxDispatchAttempts), a call
// log, injectable errors and a forced 503.
import type { Container, ContainerState } from '../../core/domain/container.js';
import type { Clock } from '../../core/ports/clock.js';
import type { ContainerPatch, ControllerApi, Filter, ListParams } from '../../core/ports/controller.js';
import { ControllerError, NotFoundError } from '../../core/ports/errors.js';

export interface StateChange {
  readonly uuid: string;
  readonly from: ContainerState;
  readonly to: ContainerState;
}

type Method = 'lock' | 'unlock' | 'update' | 'list' | 'get' | 'auth';

const ALLOWED: Record<ContainerState, readonly ContainerState[]> = {
  Queued: ['Queued', 'Locked', 'Cancelled'],
  Locked: ['Queued', 'Locked', 'Running', 'Cancelled'],
  Running: ['Running', 'Cancelled', 'Complete'],
  Complete: ['Cancelled'],
  Cancelled: [],
};

export class FakeController implements ControllerApi {
  readonly db = new Map<string, Container>();
  readonly calls: string[] = [];
  /** Virtual time of each call in `calls`. */
  readonly callTimes: number[] = [];
  readonly stateChanges: StateChange[] = [];
  /** uuid → times unlocked (successful calls). */
  readonly unlocks = new Map<string, number>();
  authUuid = 'zzzzz-gj3su-000000000000000';
  maxDispatchAttempts = 10;
  /**
   * Every call waits this long on `clock` before it resolves (0 = a microtask); per-method
   * values win. The call reads and changes the db when it is made, so a slow response is
   * stale by the time it arrives, as over a real network.
   */
  latencyMs = 0;
  readonly latency: Partial<Record<Method, number>> = {};
  private last503At = 0;
  private readonly failures = new Map<Method, unknown[]>();

  constructor(private readonly clock?: Clock) {}

  add(...ctrs: Container[]): void {
    for (const c of ctrs) this.db.set(c.uuid, { ...c, mounts: c.mounts ?? {} });
  }

  /** An external writer (crunch-run, a user): changes take effect at once in the db. */
  set(uuid: string, patch: Partial<Container>): void {
    const c = this.mustGet(uuid);
    this.db.set(uuid, { ...c, ...patch });
  }

  /** The next call of `method` rejects with `err` (queued: one per call). */
  failNext(method: Method, err: unknown): void {
    const l = this.failures.get(method) ?? [];
    l.push(err);
    this.failures.set(method, l);
  }

  force503(at: number): void {
    this.last503At = at;
  }

  last503(): number {
    return this.last503At;
  }

  async currentAuthorizationUuid(): Promise<string> {
    this.enter('auth', 'auth');
    await this.wait('auth');
    return this.authUuid;
  }

  async listContainers(params: ListParams): Promise<readonly Container[]> {
    this.enter('list', `list ${JSON.stringify(params.filters, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))}`);
    let rows = [...this.db.values()].filter((c) => params.filters.every((f) => matches(c, f)));
    const order = params.order ?? ['uuid'];
    rows.sort((a, b) => {
      if (order[0] === 'priority desc' && a.priority !== b.priority) return a.priority > b.priority ? -1 : 1;
      return a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0;
    });
    rows = rows.slice(params.offset ?? 0);
    if (params.limit !== undefined) rows = rows.slice(0, params.limit);
    const out = rows.map((c) => strip(c));
    await this.wait('list');
    return out;
  }

  async getContainer(uuid: string, select?: readonly string[]): Promise<Container> {
    this.enter('get', `get ${uuid}`);
    const c = this.mustGet(uuid);
    const out = select?.includes('mounts') === true ? { ...c } : strip(c);
    await this.wait('get');
    return out;
  }

  async lock(uuid: string): Promise<Container> {
    this.enter('lock', `lock ${uuid}`);
    const c = this.mustGet(uuid);
    if (c.state !== 'Queued') throw new ControllerError(`locking ${uuid}: cannot lock when ${c.state}`, 422);
    if (c.priority <= 0n) throw new ControllerError(`locking ${uuid}: cannot lock when priority<=0`, 422);
    const out = this.change(uuid, { state: 'Locked', lockedByUuid: this.authUuid, lockCount: (c.lockCount ?? 0) + 1 });
    await this.wait('lock');
    return out;
  }

  async unlock(uuid: string): Promise<Container> {
    this.enter('unlock', `unlock ${uuid}`);
    const out = this.doUnlock(uuid);
    await this.wait('unlock');
    return out;
  }

  private doUnlock(uuid: string): Container {
    const c = this.mustGet(uuid);
    if (c.state !== 'Locked') throw new ControllerError(`unlocking ${uuid}: cannot unlock when ${c.state}`, 422);
    if (c.lockedByUuid !== this.authUuid) throw new ControllerError(`unlocking ${uuid}: locked by a different token`, 403);
    this.unlocks.set(uuid, (this.unlocks.get(uuid) ?? 0) + 1);
    if ((c.lockCount ?? 0) >= this.maxDispatchAttempts) {
      return this.change(uuid, {
        state: 'Cancelled',
        lockedByUuid: null,
        runtimeStatus: { error: `Failed to start: lock_count == ${c.lockCount}` },
      });
    }
    return this.change(uuid, { state: 'Queued', lockedByUuid: null, runtimeStatus: {} });
  }

  async update(uuid: string, patch: ContainerPatch): Promise<Container> {
    this.enter('update', `update ${uuid} ${JSON.stringify(patch)}`);
    const out = this.doUpdate(uuid, patch);
    await this.wait('update');
    return out;
  }

  private doUpdate(uuid: string, patch: ContainerPatch): Container {
    const c = this.mustGet(uuid);
    const next: Partial<Container> = {};
    if (patch.runtimeStatus !== undefined) Object.assign(next, { runtimeStatus: { ...c.runtimeStatus, ...patch.runtimeStatus } });
    if (patch.state !== undefined) {
      if (!ALLOWED[c.state].includes(patch.state)) {
        throw new ControllerError(`updating ${uuid}: cannot change state from ${c.state} to ${patch.state}`, 422);
      }
      Object.assign(next, { state: patch.state });
      if (patch.state === 'Cancelled' || patch.state === 'Queued') Object.assign(next, { lockedByUuid: null });
    }
    return this.change(uuid, next);
  }

  private change(uuid: string, patch: Partial<Container>): Container {
    const c = this.mustGet(uuid);
    const n: Container = { ...c, ...patch };
    if (n.state !== c.state) this.stateChanges.push({ uuid, from: c.state, to: n.state });
    this.db.set(uuid, n);
    return strip(n);
  }

  /** Log the call; throw the injected failure, if any (callers are async: it rejects). */
  private enter(method: Method, call: string): void {
    this.calls.push(call);
    this.callTimes.push(this.clock?.now() ?? 0);
    const l = this.failures.get(method);
    if (l !== undefined && l.length > 0) throw l.shift();
  }

  private async wait(method: Method): Promise<void> {
    const ms = this.latency[method] ?? this.latencyMs;
    if (ms > 0 && this.clock !== undefined) await this.clock.sleep(ms);
    else await Promise.resolve();
  }

  private mustGet(uuid: string): Container {
    const c = this.db.get(uuid);
    if (c === undefined) throw new ControllerError(`getting ${uuid}: not found`, 404, { cause: new NotFoundError(uuid) });
    return c;
  }
}

function strip(c: Container): Container {
  const { mounts: _m, ...rest } = c;
  return rest;
}

function field(c: Container, name: string): unknown {
  switch (name) {
    case 'uuid':
      return c.uuid;
    case 'state':
      return c.state;
    case 'priority':
      return c.priority;
    case 'locked_by_uuid':
      return c.lockedByUuid;
    default:
      throw new Error(`fake controller: filter on ${name} not supported`);
  }
}

function matches(c: Container, [name, op, value]: Filter): boolean {
  const v = field(c, name);
  const cmp = (a: unknown, b: unknown): number => {
    if (typeof a === 'bigint' || typeof b === 'bigint') {
      const x = BigInt(a as number);
      const y = BigInt(b as number);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
  };
  switch (op) {
    case '=':
      return cmp(v, value) === 0 && v !== null;
    case '!=':
      return v === null || cmp(v, value) !== 0;
    case '>':
      return cmp(v, value) > 0;
    case '<':
      return cmp(v, value) < 0;
    case '>=':
      return cmp(v, value) >= 0;
    case '<=':
      return cmp(v, value) <= 0;
    case 'in':
      return Array.isArray(value) && (value as unknown[]).includes(v);
  }
}
