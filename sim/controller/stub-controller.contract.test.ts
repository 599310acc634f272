import { controllerContract } from '../../test/contracts/controller.contract.js';
import { EventEngine } from '../engine/event-engine.js';
import { StubController } from './stub-controller.js';

controllerContract('stub controller in process', async (opts) => {
  const stub = new StubController({ clock: new EventEngine(1_000_000), ...opts });
  return { api: stub, other: stub.session('zzzzz-gj3su-0therdispatcher'), stub, close: async () => {} };
});
