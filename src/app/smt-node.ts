import { hash } from 'node:crypto';
import { useSha256 } from './smt.js';

/**
 * The node hashes its state tree with node:crypto's native one-shot SHA-256 (several times faster
 * than the portable @noble/hashes default, which the light client keeps for browsers). Same
 * function, same roots: test/verifiable checks both against a third, naive implementation.
 */
useSha256((...parts) => {
  const chunks = parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p));
  return hash('sha256', Buffer.concat(chunks), 'buffer');
});
