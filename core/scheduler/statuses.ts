// The scheduling status texts the reference's management API reports, character for
// character (note the two spaces after some periods): the controller shows them to users.
import type { ContainerState } from '../domain/container.js';

export const STATUS_PREPARING = 'Container is allocated to an instance and preparing to run.';
export const STATUS_PREVIOUS_ATTEMPT = 'Waiting for previous container attempt to exit.';

export function statusPriorityZero(state: ContainerState): string {
  return `This container will not be scheduled to run because its priority is 0 and state is ${state}.`;
}

export function statusWorkflowQueue(position: number): string {
  return `Waiting in workflow queue at position ${position}.  Cluster is at capacity and cannot start any new workflows right now.`;
}

export function statusWaitingForInstance(typeName: string): string {
  return `Waiting for a ${typeName} instance to boot and be ready to accept work.`;
}

export function statusAtCapacityForTypes(position: number, typeNames: readonly string[]): string {
  return `Waiting in queue at position ${position}.  Cluster is at capacity for all eligible instance types (${typeNames.join(', ')}) and cannot start a new instance right now.`;
}

export function statusAtQuota(position: number): string {
  return `Waiting in queue at position ${position}.  Cluster is at cloud account limits and cannot start any new instances right now.`;
}

export function statusAtCapacity(position: number): string {
  return `Waiting in queue at position ${position}.  Cluster is at capacity and cannot start any new instances right now.`;
}
