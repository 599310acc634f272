/**
 * What a simulated crunch-run needs from the rest of the simulated world: the controller
 * (whose container record it updates) and the workload (which says how long a container
 * runs and how it ends). The simulator runner bridges the stub controller to this.
 *
 * Calls happen on the virtual clock, synchronously, at the instant crunch-run would make
 * them. When a VM dies or is interrupted, its crunch-run processes die with no further
 * call: the container stays as it was (Running, or Locked) until the dispatcher notices.
 */
export interface CrunchRunWorld {
  /**
   * `crunch-run --detach` accepted `uuid` on `instanceId` with `config` (the ConfigData
   * JSON from stdin, parsed). Returns how the container will behave, or `{refused}` when
   * crunch-run cannot run it (unknown container, not Locked by us): the process then exits
   * after its start-up time with no further call.
   */
  containerStarting(uuid: string, config: CrunchRunConfig, instanceId: string): ContainerPlan;
  /**
   * crunch-run sets the container Running (after its start-up time). Returns false when
   * the controller refuses (e.g. the container was cancelled meanwhile): crunch-run exits.
   */
  containerRunning(uuid: string): boolean;
  /** The container ended: state Complete with `exitCode` (0 for outcome 'complete'). */
  containerFinished(uuid: string, exitCode: number): void;
  /**
   * crunch-run was stopped by a signal (`--kill 15`). As the real crunch-run does, the
   * world sets the container Cancelled if it had reached Running, else back to Queued.
   */
  containerCancelled(uuid: string, reason: string): void;
  /** Optional: the cloud announced a spot interruption (crunch-run's EC2SpotCheck saw it). */
  preemptionNotice?(uuid: string, actionAtMs: number): void;
}

export type ContainerOutcome = 'complete' | 'fail' | 'hang';

export type ContainerPlan =
  | { readonly runtimeMs: number; readonly outcome: ContainerOutcome; readonly exitCode?: number }
  | { readonly refused: string };

/** ConfigData as sent on `--stdin-config` (reference: arvados-interfaces.md 5.4). */
export interface CrunchRunConfig {
  readonly Env: Readonly<Record<string, string>>;
  readonly KeepBuffers?: number;
  readonly EC2SpotCheck?: boolean;
  readonly Cluster?: unknown;
}

export type WorldCall =
  | { readonly kind: 'starting'; readonly uuid: string; readonly instanceId: string; readonly config: CrunchRunConfig }
  | { readonly kind: 'running'; readonly uuid: string }
  | { readonly kind: 'finished'; readonly uuid: string; readonly exitCode: number }
  | { readonly kind: 'cancelled'; readonly uuid: string; readonly reason: string }
  | { readonly kind: 'preemption-notice'; readonly uuid: string; readonly actionAtMs: number };

/**
 * A CrunchRunWorld that records every call with the time and answers from a plan
 * function: for tests and for small scripted worlds.
 */
export class RecordingCrunchRunWorld implements CrunchRunWorld {
  readonly calls: (WorldCall & { readonly at: number })[] = [];

  constructor(
    private readonly now: () => number,
    private readonly plan: (uuid: string) => ContainerPlan = () => ({ runtimeMs: 60_000, outcome: 'complete' }),
    private readonly acceptRunning: (uuid: string) => boolean = () => true,
  ) {}

  containerStarting(uuid: string, config: CrunchRunConfig, instanceId: string): ContainerPlan {
    this.calls.push({ kind: 'starting', uuid, instanceId, config, at: this.now() });
    return this.plan(uuid);
  }

  containerRunning(uuid: string): boolean {
    this.calls.push({ kind: 'running', uuid, at: this.now() });
    return this.acceptRunning(uuid);
  }

  containerFinished(uuid: string, exitCode: number): void {
    this.calls.push({ kind: 'finished', uuid, exitCode, at: this.now() });
  }

  containerCancelled(uuid: string, reason: string): void {
    this.calls.push({ kind: 'cancelled', uuid, reason, at: this.now() });
  }

  preemptionNotice(uuid: string, actionAtMs: number): void {
    this.calls.push({ kind: 'preemption-notice', uuid, actionAtMs, at: this.now() });
  }

  /** The calls of one kind, for assertions. */
  kinds(): string[] {
    return this.calls.map((c) => `${c.kind} ${c.uuid}`);
  }
}
