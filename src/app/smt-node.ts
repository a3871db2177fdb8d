import { sha256Parts } from '../crypto/hash.js';
import { useSha256 } from './smt.js';

/**
 * The node hashes its state tree with node:crypto's native one-shot SHA-256 through one reused
 * buffer (crypto/hash.ts), several times faster than the portable @noble/hashes default, which the
 * light client keeps for browsers. Same function, same roots: test/verifiable checks both against a
 * third, naive implementation.
 */
useSha256(sha256Parts);
