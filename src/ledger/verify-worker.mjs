// Worker thread of the signature-verification pool: applies the one Ed25519 validity rule
// (src/crypto/ed25519.ts) to batches of [publicKey, message, signature].
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { verifySignature } = await import('../crypto/ed25519.ts');

parentPort.on('message', ({ id, items }) => {
  const results = items.map(([publicKey, message, signature]) => verifySignature(publicKey, message, signature));
  parentPort.postMessage({ id, results });
});
parentPort.postMessage({ ready: true });
