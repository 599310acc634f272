import { controllerContract } from '../../test/contracts/controller.contract.js';
import { EventEngine } from '../../sim/engine/event-engine.js';
import { StubController } from '../../sim/controller/stub-controller.js';
import { StubHttpServer } from '../../sim/controller/http-server.js';
import { ControllerClient } from './controller-client.js';

controllerContract('HTTP client → stub controller over loopback', async (opts) => {
  const clock = new EventEngine(1_000_000);
  const stub = new StubController({ clock, ...opts });
  const server = new StubHttpServer({
    stub,
    tokens: {
      dispatchertoken: { authUuid: stub.dispatcherAuthUuid, admin: true },
      othertoken: { authUuid: 'zzzzz-gj3su-0therdispatcher', admin: true },
    },
  });
  const url = await server.start();
  // The limiter's quiet period after a 503 would wait on this never-advanced clock; it has
  // its own tests (request-limiter.test.ts).
  const api = new ControllerClient({ baseUrl: url, token: 'dispatchertoken', clock, maxConcurrentRequests: 0 });
  const other = new ControllerClient({ baseUrl: url, token: 'othertoken', clock, maxConcurrentRequests: 0 });
  return {
    api,
    other,
    stub,
    close: async () => {
      api.close();
      other.close();
      await server.close();
    },
  };
});
