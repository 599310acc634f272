import { arvadosPolicy } from './arvados-policy.js';
import { leanPolicy } from './policies/lean-policy.js';
import { packingPolicy } from './policies/packing-policy.js';
import { spotFallbackPolicy } from './policies/spot-fallback-policy.js';
import type { MapperPolicy } from './policy.js';

/** Every mapper policy, by name. Adding a policy is one line here. The first is the default. */
export const policies: readonly MapperPolicy[] = [
  arvadosPolicy,
  packingPolicy,
  leanPolicy,
  spotFallbackPolicy,
];

export const DEFAULT_POLICY = 'arvados';

/** The policy called `name`, or undefined. */
export function findPolicy(name: string): MapperPolicy | undefined {
  return policies.find((p) => p.name === name);
}

export function policyNames(): string[] {
  return policies.map((p) => p.name);
}
