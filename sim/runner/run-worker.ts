// The worker of runBatch's pool (parallel.ts): runs one scenario job per message, in this
// thread, and posts the RunResult back (structured clone keeps bigint priorities).
import { parentPort } from 'node:worker_threads';
import { BatchRunError, runJob, type BatchJob, type PoolReply, type PoolRequest } from './parallel.js';
import type { RunResult } from './summarize.js';

const port = parentPort;
if (port === null) throw new Error('run-worker: must run as a worker thread');

port.on('message', (m: PoolRequest<BatchJob>) => {
  void runJob(m.job, m.index).then(
    (value) => port.postMessage({ index: m.index, ok: true, value } satisfies PoolReply<RunResult>),
    (e: unknown) =>
      port.postMessage({
        index: m.index,
        ok: false,
        badInput: e instanceof BatchRunError && e.badInput,
        message: e instanceof Error ? e.message : String(e),
      } satisfies PoolReply<RunResult>),
  );
});
