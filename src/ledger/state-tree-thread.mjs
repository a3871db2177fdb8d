// Worker thread of the state-tree update (ADR 0024): src/ledger/state-tree-thread.ts over a
// read-only connection to the node's database (workerData.dbPath), its caches bounded as the node's
// storage's (workerData.cacheLimits).
import { parentPort, workerData } from 'node:worker_threads';
import { cpuNow, importSource, threadId } from './thread-clock.mjs';

const [{ TreeThread }, { TreeSnapshotSource }] = await Promise.all([importSource('./state-tree-thread'), importSource('../store/sqlite')]);
const thread = new TreeThread(new TreeSnapshotSource(workerData.dbPath), workerData.cacheLimits);

parentPort.on('message', (request) => {
  const started = cpuNow();
  let reply;
  try {
    reply = thread.handle(request);
  } catch (err) {
    // The node computes this block's tree itself; a worker that cannot read must not stop the chain.
    reply = request.type === 'compute' ? { type: 'refused', id: request.id, reason: `failed: ${err instanceof Error ? err.message : String(err)}` } : undefined;
    if (!reply) throw err;
  }
  if (!reply) return;
  const busyMs = cpuNow() - started;
  parentPort.postMessage({ ...reply, busyMs }, reply.type === 'computed' ? [reply.packed] : []);
});
parentPort.postMessage({ type: 'ready', tid: threadId() });
