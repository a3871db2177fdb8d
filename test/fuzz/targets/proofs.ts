import fc from 'fast-check';
import { KINDS, mutate, prng, provenFixture, verifyProven } from '../../verifiable/proof-fuzz.js';
import { fail, type FuzzTarget } from '../lib/engine.js';

/**
 * Proven answers (issue 17): a single-byte mutation of the value, the state proof, the header or
 * the commit of a proven answer must be refused by the light client's checks. The same fixture and
 * mutation as test/verifiable/proof-fuzz.test.ts; here fast-check chooses the part and the seed of
 * the byte and its replacement, so `npm run fuzz -- --only proofs --runs N` covers ~N/4 per part.
 */
type Input = { kind: (typeof KINDS)[number]; seed: number };

export function proofsTarget(): FuzzTarget<Input> {
  const fixture = provenFixture();
  return {
    name: 'proofs',
    description: 'single-byte mutations of a proven answer (value, state proof, header, commit)',
    arbitrary: fc.record({ kind: fc.constantFrom(...KINDS), seed: fc.integer({ min: 1, max: 0x7fffffff }) }),
    async check({ kind, seed }) {
      const mutated = mutate(fixture, kind, prng(seed));
      if (!mutated) return 'not-json';
      const accepted = await verifyProven('test-chain', mutated.value, mutated.proof, fixture.replay).then(
        () => true,
        () => false,
      );
      if (accepted) fail(`a mutated ${kind} was accepted`);
      return `${kind}:refused`;
    },
  };
}
