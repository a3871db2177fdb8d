import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signTx, verifyTxSignature, type TxBody } from '../../src/codec/tx.js';
import { addressFromPublicKey } from '../../src/crypto/address.js';
import { keyPairFromSeed, Signer, verifySignature } from '../../src/crypto/ed25519.js';
import { authSignBytes } from '../../src/crypto/hash.js';
import { fromHexStrict } from '../../src/util/bytes.js';
import { signBody, signChallenge } from '../../web/src/lib/sign.js';

/** The page signs with @noble/curves, the CLI with node:crypto: for the same key and body, the same bytes. */
describe('signing in the page equals signing in the CLI', () => {
  it('transactions: identical signatures, accepted by the node rule', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat({ max: 1_000_000 }), fc.string({ maxLength: 40 }), (seed, nonce, memo) => {
        const { publicKey } = keyPairFromSeed(seed);
        const body: TxBody = { chainId: 'test-chain', sender: addressFromPublicKey(publicKey), nonce, expiresAtHeight: nonce + 100, msgs: [{ type: 'shares/transfer', value: { plant: 'p', ppm: nonce } }], memo };
        const page = signBody(body, seed, publicKey);
        expect(page).toEqual(signTx(body, new Signer(seed)));
        expect(verifyTxSignature(page)).toMatch(/^[0-9a-f]{64}$/);
      }),
      { numRuns: 50 },
    );
  });

  it('login challenges: identical signatures over the auth domain', () => {
    const seed = new Uint8Array(32).fill(3);
    const { publicKey } = keyPairFromSeed(seed);
    const challenge = { chainId: 'test-chain', address: addressFromPublicKey(publicKey), nonce: 'ab'.repeat(32) };
    const page = signChallenge(challenge, seed);
    expect(fromHexStrict(page, 64)).toEqual(new Signer(seed).sign(authSignBytes(challenge)));
    expect(verifySignature(publicKey, authSignBytes(challenge), fromHexStrict(page, 64)!)).toBe(true);
    expect(verifySignature(publicKey, authSignBytes({ ...challenge, chainId: 'other' }), fromHexStrict(page, 64)!)).toBe(false);
  });
});
