import { hash } from 'node:crypto';
import { useSha256 } from './smt.js';

/**
 * The node hashes its state tree with node:crypto's native one-shot SHA-256 (several times faster
 * than the portable @noble/hashes default, which the light client keeps for browsers). Same
 * function, same roots: test/verifiable checks both against a third, naive implementation.
 *
 * The parts are written into one reused buffer rather than converted and concatenated: a block
 * hashes tens of thousands of tree nodes, and the copies were a third of the hashing time.
 */
let scratch = Buffer.allocUnsafe(1 << 12);

function ensureRoom(at: number, more: number): void {
  if (at + more <= scratch.length) return;
  const grown = Buffer.allocUnsafe(Math.max(scratch.length * 2, at + more));
  scratch.copy(grown, 0, 0, at);
  scratch = grown;
}

useSha256((...parts) => {
  let at = 0;
  for (const p of parts) {
    if (typeof p === 'string') {
      ensureRoom(at, p.length * 3); // UTF-8 takes at most 3 bytes per UTF-16 code unit
      at += scratch.write(p, at, 'utf8');
    } else {
      ensureRoom(at, p.length);
      scratch.set(p, at);
      at += p.length;
    }
  }
  return hash('sha256', scratch.subarray(0, at), 'buffer');
});
