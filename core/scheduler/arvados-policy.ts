import { planPass } from './mapper-pass.js';
import type { MapperInput, MapperPolicy, Plan } from './policy.js';

export { QUIET_AFTER_503_MS, sortEntries } from './mapper-pass.js';

/**
 * The reference mapper (lib/dispatchcloud/scheduler/run_queue.go): the mapper pass with no
 * hooks. Other policies are the same pass with hooks (core/scheduler/policies/).
 */
export function planArvados(input: MapperInput): Plan {
  return planPass(input);
}

export const arvadosPolicy: MapperPolicy = {
  name: 'arvados',
  description:
    'the reference arvados-dispatch-cloud mapper: priority order, packing onto busy then ready VMs, cheapest eligible type, slow start and quota back-off',
  plan: planArvados,
};
