import type { ContainerState } from '../../core/domain/container.js';

/**
 * The container state machine Rails enforces (services/api/app/models/container.rb):
 * (new) → Queued; Queued → Locked, Cancelled; Locked → Queued, Running, Cancelled;
 * Running → Complete, Cancelled; Complete → Cancelled.
 */
const LEGAL: Readonly<Record<ContainerState, readonly ContainerState[]>> = {
  Queued: ['Locked', 'Cancelled'],
  Locked: ['Queued', 'Running', 'Cancelled'],
  Running: ['Complete', 'Cancelled'],
  Complete: ['Cancelled'],
  Cancelled: [],
};

/** `from` null is creation, which must land in Queued. */
export function isLegalTransition(from: ContainerState | null, to: ContainerState): boolean {
  if (from === null) return to === 'Queued';
  return LEGAL[from].includes(to);
}

export function isFinalState(s: ContainerState): boolean {
  return s === 'Complete' || s === 'Cancelled';
}

/**
 * Who caused a transition: a token's UUID for API calls, or one of the simulated actors
 * that act outside the dispatcher's API calls.
 */
export type Actor = string;
export const ACTOR_CONTROLLER = 'controller';
export const ACTOR_USER = 'user';
export const ACTOR_CRUNCH_RUN = 'crunch-run';

/** One applied state change. */
export interface TransitionRecord {
  /** Clock time (ms). */
  readonly at: number;
  readonly uuid: string;
  readonly requestId: string;
  /** null for creation. */
  readonly from: ContainerState | null;
  readonly to: ContainerState;
  readonly actor: Actor;
  /** API operation or simulated event, e.g. 'lock', 'unlock', 'update', 'crunch-run exit'. */
  readonly op: string;
}

/** One request the stub refused (and did not apply). */
export interface RejectionRecord {
  readonly at: number;
  readonly uuid: string;
  readonly op: string;
  readonly actor: Actor;
  readonly status: number;
  readonly message: string;
}

export interface TransitionViolation {
  readonly at: number;
  readonly uuid: string;
  readonly detail: string;
}

/**
 * Checks a transition log independently of the code that wrote it: every step is in the
 * table, each container's first step is its creation, each later step starts where the
 * previous one ended, and time never goes backwards.
 */
export function auditTransitions(log: Iterable<TransitionRecord>): TransitionViolation[] {
  const violations: TransitionViolation[] = [];
  const current = new Map<string, ContainerState>();
  let lastAt = -Infinity;
  for (const t of log) {
    const prev = current.get(t.uuid) ?? null;
    if (t.at < lastAt) {
      violations.push({ at: t.at, uuid: t.uuid, detail: `transition logged out of time order (${t.at} < ${lastAt})` });
    }
    lastAt = Math.max(lastAt, t.at);
    if (t.from !== prev) {
      violations.push({
        at: t.at,
        uuid: t.uuid,
        detail: `transition ${t.from ?? '(new)'} → ${t.to} by ${t.actor} (${t.op}) but the container was ${prev ?? '(new)'}`,
      });
    } else if (!isLegalTransition(t.from, t.to)) {
      violations.push({
        at: t.at,
        uuid: t.uuid,
        detail: `illegal transition ${t.from ?? '(new)'} → ${t.to} by ${t.actor} (${t.op})`,
      });
    }
    current.set(t.uuid, t.to);
  }
  return violations;
}
