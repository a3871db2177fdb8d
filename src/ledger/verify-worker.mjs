// Worker thread of the signature-verification pool: applies the one Ed25519 validity rule
// (src/crypto/ed25519.ts) to batches of [publicKey, message, signature].
import { existsSync } from 'node:fs';
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

parentPort.on('message', ({ id, items }) => {
  const results = items.map(([publicKey, message, signature]) => verifySignature(publicKey, message, signature));
  parentPort.postMessage({ id, results });
});
parentPort.postMessage({ ready: true });
