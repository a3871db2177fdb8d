import { Signer, keyPairFromSeed } from '../../src/crypto/ed25519.js';
import { addressFromPublicKey } from '../../src/crypto/address.js';
import { sha256 } from '../../src/crypto/hash.js';
import { toHex, utf8 } from '../../src/util/bytes.js';
import { type Commit, type UnsignedVote, type Validator, type Vote, ValidatorSet, voteSignBytes } from '../../src/consensus/index.js';
import type { Simulator } from '../../sim/simulator.js';

export const CHAIN = 'test-chain';

export interface TestKey {
  address: string;
  pubKey: string;
  signer: Signer;
}

export function testKey(label: string): TestKey {
  const kp = keyPairFromSeed(sha256(utf8(`consensus-test-${label}`)));
  return { address: addressFromPublicKey(kp.publicKey), pubKey: toHex(kp.publicKey), signer: new Signer(kp.secretKey) };
}

/** n keys sorted by address, so index order is the validator set's order. */
export function testKeys(n: number, prefix = 'v'): TestKey[] {
  return Array.from({ length: n }, (_, i) => testKey(`${prefix}${i}`)).sort((a, b) => (a.address < b.address ? -1 : 1));
}

export function validatorsOf(keys: TestKey[], powers?: bigint[]): Validator[] {
  return keys.map((k, i) => ({ address: k.address, pubKey: k.pubKey, power: powers?.[i] ?? 10n }));
}

export function valsetOf(keys: TestKey[], powers?: bigint[]): ValidatorSet {
  return ValidatorSet.genesis(validatorsOf(keys, powers));
}

export function signVote(key: TestKey, fields: Omit<UnsignedVote, 'validator' | 'chainId'> & { chainId?: string }): Vote {
  const unsigned: UnsignedVote = { chainId: fields.chainId ?? CHAIN, ...fields, validator: key.address };
  return { ...unsigned, signature: toHex(key.signer.sign(voteSignBytes(unsigned))) };
}

export function makeCommit(keys: TestKey[], height: number, round: number, blockHash: string, timestamps?: number[]): Commit {
  const signatures = keys.map((k, i) => {
    const v = signVote(k, { type: 'precommit', height, round, blockHash, timestamp: timestamps?.[i] ?? 1000 + i });
    return { validator: k.address, timestamp: v.timestamp, signature: v.signature };
  });
  return { height, round, blockHash, signatures };
}

export const HASH_A = 'aa'.repeat(32);
export const HASH_B = 'bb'.repeat(32);

/** The checks every simulator run must pass: no violation (agreement, validity, double sign, honest peer penalised). */
export function expectSafe(sim: Simulator): string[] {
  sim.checkAgreement();
  return sim.violations.map((v) => `${v.kind}: ${v.detail}`);
}
