// Worker thread of the signature-verification pool: applies the one Ed25519 validity rule
// (src/crypto/ed25519.ts) to batches of [publicKey, message, signature].
import { parentPort } from 'node:worker_threads';
import { cpuNow, importSource, threadId } from './thread-clock.mjs';

// Copied as is into dist/ by the build: there the rule is compiled JavaScript; in src/ it is TypeScript.
const { verifySignature } = await importSource('../crypto/ed25519');

parentPort.on('message', ({ id, items }) => {
  const started = cpuNow();
  const results = items.map(([publicKey, message, signature]) => verifySignature(publicKey, message, signature));
  // The CPU time goes back with the results: the node's per-phase CPU report counts it (issue 18).
  parentPort.postMessage({ id, results, busyMs: cpuNow() - started });
});
parentPort.postMessage({ ready: true, tid: threadId() });
