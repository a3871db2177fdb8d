// Worker thread of the signature-verification pool: applies the one Ed25519 validity rule
// (src/crypto/ed25519.ts) to batches of [publicKey, message, signature].
import { existsSync, openSync, readlinkSync, readSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parentPort } from 'node:worker_threads';

// Copied as is into dist/ by the build: there the rule is compiled JavaScript next to this file;
// in src/ it is TypeScript, loaded through tsx.
const compiled = new URL('../crypto/ed25519.js', import.meta.url);
let verifySignature;
if (existsSync(fileURLToPath(compiled))) {
  ({ verifySignature } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ verifySignature } = await import('../crypto/ed25519.ts'));
}

// This thread's CPU clock (ms): its schedstat run time on Linux, else the wall clock.
let cpuNow = () => performance.now();
try {
  const fd = openSync('/proc/thread-self/schedstat', 'r');
  const buf = Buffer.alloc(96);
  cpuNow = () => {
    const n = readSync(fd, buf, 0, buf.length, 0);
    return Number(buf.toString('latin1', 0, n).split(' ')[0]) / 1e6;
  };
} catch {
  /* not Linux: wall clock */
}

parentPort.on('message', ({ id, items }) => {
  const started = cpuNow();
  const results = items.map(([publicKey, message, signature]) => verifySignature(publicKey, message, signature));
  // The CPU time goes back with the results: the node's per-phase CPU report counts it (issue 18).
  parentPort.postMessage({ id, results, busyMs: cpuNow() - started });
});
let tid;
try {
  // /proc/thread-self links to /proc/<pid>/task/<tid>: the node's CPU report reads this thread's CPU by its id.
  tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
} catch {
  /* not Linux */
}
parentPort.postMessage({ ready: true, tid });
